import DiskFormat

/// Why a gzip stream (RFC 1952) did not decode.
///
/// Every error names the member (0-based), the field of RFC 1952's member layout
/// ("ID1", "FLG", "deflate data", "CRC32", "ISIZE", …) and the byte offset of that
/// field in the compressed stream, so `xxd -s` on the file goes straight to it.
public struct GzipError: Error, Hashable, Sendable, CustomStringConvertible {
  public enum Kind: Hashable, Sendable {
    /// The input holds no bytes at all.
    case empty
    /// ID1/ID2 of the first member are not 0x1f 0x8b.
    case badMagic(found: UInt8, expected: UInt8)
    /// CM is not 8 (deflate).
    case unsupportedMethod(UInt8)
    /// FLG has reserved bits 5–7 set.
    case reservedFlags(UInt8)
    /// FHCRC is set and the stored CRC16 is not the low half of the header's CRC-32.
    case headerCRCMismatch(stored: UInt16, computed: UInt16)
    /// The input ended inside a member (in the field named by `field`).
    case truncated
    /// The deflate decoder rejected the data; the string is the backend's reason.
    case corruptDeflate(String)
    /// The trailer's CRC32 is not the CRC-32 of the decompressed member.
    case crcMismatch(stored: UInt32, computed: UInt32)
    /// The trailer's ISIZE is not the decompressed size modulo 2^32.
    case sizeMismatch(stored: UInt32, computed: UInt32)
    /// Bytes after the last complete member that do not start another member.
    case trailingGarbage(count: Int64)
    /// The decompressed output would exceed the caller's limit (a defence against zip bombs).
    case outputLimitExceeded(limit: Int64)
  }

  public var kind: Kind
  /// The member the error is in (0-based); for trailing garbage, the index the next member would have.
  public var member: Int
  /// RFC 1952's name of the field, or "deflate data".
  public var field: String
  /// Byte offset of the field (or of the point of detection) in the compressed stream.
  public var offset: Int64

  public init(_ kind: Kind, member: Int, field: String, offset: Int64) {
    self.kind = kind
    self.member = member
    self.field = field
    self.offset = offset
  }

  public var description: String {
    let at = "gzip member \(member): \(field) at byte \(offset)"
    switch kind {
    case .empty:
      return "gzip: the input is empty"
    case .badMagic(let found, let expected):
      return "\(at) is 0x\(hexByte(found)), expected 0x\(hexByte(expected)) (not gzip)"
    case .unsupportedMethod(let cm):
      return "\(at) is \(cm), expected 8 (deflate)"
    case .reservedFlags(let flags):
      return "\(at) is 0x\(hexByte(flags)): reserved bits 5-7 are set"
    case .headerCRCMismatch(let stored, let computed):
      return
        "\(at) stores header CRC16 0x\(String(stored, radix: 16)) but the header gives 0x\(String(computed, radix: 16))"
    case .truncated:
      return "\(at): unexpected end of input (truncated gzip)"
    case .corruptDeflate(let why):
      return "\(at): invalid compressed data (\(why))"
    case .crcMismatch(let stored, let computed):
      return "\(at) stores CRC32 0x\(hex32(stored)) but the decompressed data gives 0x\(hex32(computed))"
    case .sizeMismatch(let stored, let computed):
      return "\(at) stores ISIZE \(stored) but the member decompresses to \(computed) bytes (mod 2^32)"
    case .trailingGarbage(let count):
      return "gzip: \(count) bytes of trailing garbage at byte \(offset) after \(member) member(s)"
    case .outputLimitExceeded(let limit):
      return "\(at): decompressed output exceeds the limit of \(limit) bytes"
    }
  }
}
