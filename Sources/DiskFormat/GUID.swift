/// A GUID as stored in GPT: the first three fields little-endian, the last two as bytes.
public struct GUID: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
  /// The 16 bytes in on-disk order.
  public var bytes: [UInt8]

  public static let zero = GUID(onDisk: [UInt8](repeating: 0, count: 16))

  /// From the 16 on-disk bytes (mixed-endian, as UEFI stores them).
  public init(onDisk bytes: [UInt8]) {
    precondition(bytes.count == 16, "a GUID is 16 bytes")
    self.bytes = bytes
  }

  /// Parses the canonical form `XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX` (any case).
  public init?(_ text: String) {
    let hex = text.filter { $0 != "-" }
    guard text.count == 36, hex.count == 32 else { return nil }
    var canonical = [UInt8]()
    var index = hex.startIndex
    for _ in 0..<16 {
      let next = hex.index(index, offsetBy: 2)
      guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
      canonical.append(byte)
      index = next
    }
    // canonical order -> on-disk order: swap the first three fields.
    var disk = canonical
    disk[0] = canonical[3]
    disk[1] = canonical[2]
    disk[2] = canonical[1]
    disk[3] = canonical[0]
    disk[4] = canonical[5]
    disk[5] = canonical[4]
    disk[6] = canonical[7]
    disk[7] = canonical[6]
    self.bytes = disk
  }

  public var isZero: Bool { bytes.allSatisfy { $0 == 0 } }

  /// Upper-case canonical form, as sgdisk prints it.
  public var description: String {
    let order = [3, 2, 1, 0, -1, 5, 4, -1, 7, 6, -1, 8, 9, -1, 10, 11, 12, 13, 14, 15]
    var out = ""
    for i in order {
      if i < 0 {
        out += "-"
        continue
      }
      out += hexByte(bytes[i]).uppercased()
    }
    return out
  }

  public static func < (a: GUID, b: GUID) -> Bool { a.description < b.description }

  /// Decodes the canonical string form.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    let text = try container.decode(String.self)
    guard let guid = GUID(text) else {
      throw DecodingError.dataCorruptedError(in: container, debugDescription: "\(text) is not a GUID")
    }
    self = guid
  }

  /// Encodes the canonical string form (what sgdisk prints), the form JSON readers expect.
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(description)
  }
}
