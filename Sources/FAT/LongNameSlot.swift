import DiskFormat

/// One long-file-name (VFAT) slot: 13 UTF-16 code units of a name, stored before its 8.3 entry.
public struct LongNameSlot: Hashable, Sendable {
  /// LDIR_Ord as stored: the sequence number, 0x40 on the last slot, other bits kept as read.
  public var order: UInt8
  /// LDIR_Chksum: the checksum of the 8.3 name this slot belongs to.
  public var checksum: UInt8
  /// The 13 code units (name characters, then 0x0000 and 0xFFFF padding).
  public var units: [UInt16]
  /// LDIR_Type (0 for a name slot) and LDIR_FstClusLO (0), kept as read.
  public var type: UInt8
  public var firstClusterLow: UInt16

  enum Offset {
    static let order = 0, attributes = 11, type = 12, checksum = 13, firstClusterLow = 26
  }
  /// Where LDIR_Name1 (5 units), LDIR_Name2 (6) and LDIR_Name3 (2) put each code unit.
  static let unitOffsets = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30]
  /// Code units per slot.
  public static let unitsPerSlot = 13
  /// LDIR_Ord's flag for the slot holding the end of the name.
  public static let lastFlag: UInt8 = 0x40

  /// Decodes a slot whose DIR_Attr is 0x0F; `nil` when fewer than 32 bytes are given.
  public init?(slot: Span<UInt8>) {
    guard slot.count >= DirectoryEntry.size else { return nil }
    order = slot[Offset.order]
    checksum = slot[Offset.checksum]
    units = Self.unitOffsets.map { slot.littleEndian(UInt16.self, at: $0) ?? 0 }
    type = slot[Offset.type]
    firstClusterLow = slot.littleEndian(UInt16.self, at: Offset.firstClusterLow) ?? 0
  }

  /// A slot from its fields, for writers.
  public init(sequence: Int, isLast: Bool, checksum: UInt8, units: [UInt16]) {
    order = UInt8(truncatingIfNeeded: sequence) & 0x3F | (isLast ? Self.lastFlag : 0)
    self.checksum = checksum
    self.units = units
    type = 0
    firstClusterLow = 0
  }

  /// LDIR_Ord with the "last" bit (0x40) removed: 1 for the slot next to the 8.3 entry.
  public var sequence: Int { Int(order & 0x3F) }
  /// True when LDIR_Ord has bit 0x40: the slot holding the end of the name (stored first).
  public var isLast: Bool { order & Self.lastFlag != 0 }

  /// The slot's 32 bytes: DIR_Attr 0x0F, units padded with 0xFFFF or cut to 13.
  public func encoded() -> [UInt8] {
    var out = [UInt8](repeating: 0, count: DirectoryEntry.size)
    out[Offset.order] = order
    out[Offset.attributes] = FATAttributes.longName.rawValue
    out[Offset.type] = type
    out[Offset.checksum] = checksum
    out.storeLittleEndian(firstClusterLow, at: Offset.firstClusterLow)
    let padded = units + [UInt16](repeating: 0xFFFF, count: max(0, Self.unitsPerSlot - units.count))
    for (offset, unit) in zip(Self.unitOffsets, padded) { out.storeLittleEndian(unit, at: offset) }
    return out
  }

  /// The slots for `name` belonging to the 8.3 name `shortName`, in disk order (the last
  /// slot first, sequence 1 next to the 8.3 entry): the name's UTF-16 code units, a NUL when
  /// it does not fill the last slot, then 0xFFFF padding. Nil for an empty name or one over
  /// 255 code units.
  public static func slots(for name: String, shortName: [UInt8]) -> [LongNameSlot]? {
    var units = Array(name.utf16)
    guard !units.isEmpty, units.count <= 255 else { return nil }
    if units.count % unitsPerSlot != 0 { units.append(0) }
    let count = (units.count + unitsPerSlot - 1) / unitsPerSlot
    units += [UInt16](repeating: 0xFFFF, count: count * unitsPerSlot - units.count)
    let sum = DirectoryEntry.checksum(of: shortName)
    return (1...count).reversed().map { sequence in
      LongNameSlot(
        sequence: sequence, isLast: sequence == count, checksum: sum,
        units: Array(units[((sequence - 1) * unitsPerSlot)..<(sequence * unitsPerSlot)]))
    }
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
