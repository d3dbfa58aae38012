/// Why a tar stream (POSIX ustar, GNU or pax) did not read.
///
/// Every error names the member (when its header could be read far enough to know it), the
/// header field (POSIX's names: "chksum", "size", "typeflag", …, or "body"), and the byte
/// offset of that field in the decompressed tar stream.
public struct TarError: Error, Hashable, Sendable, CustomStringConvertible {
  public enum Kind: Hashable, Sendable {
    /// The header checksum does not match the header bytes (stored is nil when unreadable).
    case checksumMismatch(stored: UInt32?, computed: UInt32)
    /// A numeric field is neither octal ASCII nor base-256.
    case invalidNumber(String)
    /// The stream ended inside a header, a body or its padding.
    case truncated
    /// A name (GNU 'L' body, pax path, ustar prefix+name) is longer than the limit.
    case nameTooLong(length: Int, limit: Int)
    /// More members than the limit.
    case tooManyMembers(limit: Int)
    /// A pax or GNU long-name body is larger than the limit.
    case extendedHeaderTooLarge(size: Int64, limit: Int)
    /// A pax extended-header record is malformed.
    case invalidPaxRecord(String)
    /// A member selected for extraction is larger than the caller's cap.
    case memberTooLarge(size: Int64, limit: Int64)
  }

  public var kind: Kind
  /// The member's name, when known.
  public var member: String?
  /// POSIX's name of the header field, or "body"/"padding"/"header".
  public var field: String
  /// Byte offset in the (decompressed) tar stream.
  public var offset: Int64

  public init(_ kind: Kind, member: String?, field: String, offset: Int64) {
    self.kind = kind
    self.member = member
    self.field = field
    self.offset = offset
  }

  public var description: String {
    let whose = member.map { "tar member \"\($0)\"" } ?? "tar header"
    let at = "\(whose): \(field) at byte \(offset)"
    switch kind {
    case .checksumMismatch(let stored, let computed):
      let s = stored.map { String($0, radix: 8) } ?? "unreadable"
      return "\(at) stores checksum \(s) (octal) but the header sums to \(String(computed, radix: 8))"
    case .invalidNumber(let text):
      return "\(at) is not a number: \(text.debugDescription)"
    case .truncated:
      return "\(at): unexpected end of archive"
    case .nameTooLong(let length, let limit):
      return "\(at): name of \(length) bytes exceeds the limit of \(limit)"
    case .tooManyMembers(let limit):
      return "\(at): more than \(limit) members"
    case .extendedHeaderTooLarge(let size, let limit):
      return "\(at): extended header of \(size) bytes exceeds the limit of \(limit)"
    case .invalidPaxRecord(let why):
      return "\(at): invalid pax record (\(why))"
    case .memberTooLarge(let size, let limit):
      return "\(at): member of \(size) bytes exceeds the extraction cap of \(limit)"
    }
  }
}
