import DiskFormat

/// One long-file-name (VFAT) slot: 13 UTF-16 code units of a name, stored before its 8.3 entry.
public struct LongNameSlot: Hashable, Sendable {
  /// LDIR_Ord with the "last" bit (0x40) removed: 1 for the slot next to the 8.3 entry.
  public var sequence: Int
  /// True when LDIR_Ord has bit 0x40: the slot holding the end of the name (stored first).
  public var isLast: Bool
  /// LDIR_Chksum: the checksum of the 8.3 name this slot belongs to.
  public var checksum: UInt8
  /// The 13 code units (name characters, then 0x0000 and 0xFFFF padding).
  public var units: [UInt16]

  static let unitOffsets = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30]

  /// Decodes a slot whose DIR_Attr is 0x0F; `nil` when fewer than 32 bytes are given.
  public init?(slot: Span<UInt8>) {
    guard slot.count >= 32 else { return nil }
    let order = slot[0]
    sequence = Int(order & 0x3F)
    isLast = order & 0x40 != 0
    checksum = slot[13]
    units = Self.unitOffsets.map { slot.littleEndian(UInt16.self, at: $0) ?? 0 }
  }

  /// Decodes the UTF-16 units of a whole name (slots already in name order), stopping at NUL;
  /// `nil` when they are not well-formed UTF-16 (an unpaired surrogate).
  public static func name(from units: [UInt16]) -> String? {
    var end = units.count
    if let nul = units.firstIndex(of: 0) { end = nul }
    var text = ""
    var iterator = units[0..<end].makeIterator()
    var decoder = UTF16()
    loop: while true {
      switch decoder.decode(&iterator) {
      case .scalarValue(let scalar): text.unicodeScalars.append(scalar)
      case .emptyInput: break loop
      case .error: return nil
      }
    }
    return text
  }
}
