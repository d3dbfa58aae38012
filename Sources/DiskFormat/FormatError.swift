/// A structural problem found while decoding on-disk bytes.
///
/// Every error names the structure, the field, and the field's absolute byte
/// offset in the image, so a reader can check it with `xxd -s`.
public struct FormatError: Error, Hashable, Sendable, CustomStringConvertible {
  public enum Kind: Hashable, Sendable {
    case truncated(needed: Int, available: Int)
    case badSignature(expected: UInt64, found: UInt64)
    case outOfRange(value: UInt64, allowed: ClosedRange<UInt64>)
    case checksumMismatch(stored: UInt32, computed: UInt32)
    /// The value is in none of the allowed ranges (a media descriptor, a jump opcode).
    case notOneOf(value: UInt64, allowed: [ClosedRange<UInt64>])
    /// The value must be a power of two within `allowed`.
    case notPowerOfTwo(value: UInt64, allowed: ClosedRange<UInt64>)
    /// The field holds `found` where a rule that ties it to other values wants `expected` (the
    /// value itself, or the bound it must respect; nil when the rule names none). The message
    /// reads "[of <record>] is <found><relation><expected><consequence>", e.g. "of partition 3
    /// is 40, before FirstUsableLBA 34" or "is 9, past the last LBA 7: the image is shorter".
    case conflict(found: Value, expected: Value?, relation: String, consequence: String = "", record: String? = nil)
    case invalid(String)
  }

  /// A value in a message: a number in decimal or in hex, or text (a GUID, a shape).
  public enum Value: Hashable, Sendable, CustomStringConvertible {
    case number(UInt64)
    case hex(UInt64)
    case text(String)

    public var description: String {
      switch self {
      case .number(let value): String(value)
      case .hex(let value): "0x" + String(value, radix: 16)
      case .text(let text): text
      }
    }
  }
  /// The structure being decoded, e.g. "GPT header".
  public var structure: String
  /// The specification's name of the field, e.g. "HeaderSize".
  public var field: String
  /// Absolute byte offset of the field in the image (not relative to the record).
  public var offset: Int64
  public var kind: Kind

  public init(structure: String, field: String, offset: Int64, kind: Kind) {
    self.structure = structure
    self.field = field
    self.offset = offset
    self.kind = kind
  }

  public var description: String {
    let at = "\(structure): \(field) at byte 0x\(String(offset, radix: 16))"
    switch kind {
    case .truncated(let needed, let available):
      return "\(at) needs \(needed) bytes but only \(available) are there"
    case .badSignature(let expected, let found):
      return "\(at) is 0x\(String(found, radix: 16)), expected 0x\(String(expected, radix: 16))"
    case .outOfRange(let value, let allowed):
      return "\(at) is \(value), expected \(allowed.lowerBound)...\(allowed.upperBound)"
    case .checksumMismatch(let stored, let computed):
      return "\(at) stores CRC32 0x\(hex32(stored)) but the bytes give 0x\(hex32(computed))"
    case .notOneOf(let value, let allowed):
      let ranges = allowed.map {
        $0.count == 1
          ? "0x\(String($0.lowerBound, radix: 16))"
          : "0x\(String($0.lowerBound, radix: 16))-0x\(String($0.upperBound, radix: 16))"
      }
      return "\(at) is 0x\(String(value, radix: 16)), expected \(ranges.joined(separator: " or "))"
    case .notPowerOfTwo(let value, let allowed):
      return "\(at) is \(value), expected a power of two from \(allowed.lowerBound) to \(allowed.upperBound)"
    case .conflict(let found, let expected, let relation, let consequence, let record):
      let of = record.map { "of \($0) " } ?? ""
      return "\(at): \(of)is \(found)\(relation)\(expected?.description ?? "")\(consequence)"
    case .invalid(let why):
      return "\(at): \(why)"
    }
  }
}
