import DiskFormat

/// One 32-byte short (8.3) directory entry as stored.
public struct DirectoryEntry: Hashable, Sendable {
  /// DIR_Name: 11 bytes, base name padded with spaces, then the extension.
  public var rawName: [UInt8]
  public var attributes: FATAttributes
  /// DIR_NTRes: bit 3 lower-case base name, bit 4 lower-case extension.
  public var caseFlags: UInt8
  public var created: FATTimestamp?
  public var accessed: FATTimestamp?
  public var modified: FATTimestamp?
  /// DIR_FstClusHI:DIR_FstClusLO (the high half only on FAT32).
  public var firstCluster: UInt32
  public var size: UInt32

  enum Offset {
    static let name = 0, attributes = 11, ntRes = 12, createTenths = 13, createTime = 14, createDate = 16
    static let accessDate = 18, clusterHigh = 20, writeTime = 22, writeDate = 24, clusterLow = 26, size = 28
  }

  /// Decodes the 32 bytes of a slot; `nil` when fewer than 32 bytes are given.
  public init?(slot: Span<UInt8>, fat32: Bool) {
    guard slot.count >= 32, let name = slot.bytes(0..<11) else { return nil }
    rawName = name
    attributes = FATAttributes(rawValue: slot[Offset.attributes])
    caseFlags = slot[Offset.ntRes]
    let createDate = slot.littleEndian(UInt16.self, at: Offset.createDate) ?? 0
    let createTime = slot.littleEndian(UInt16.self, at: Offset.createTime) ?? 0
    created = FATTimestamp(date: createDate, time: createTime, tenths: slot[Offset.createTenths])
    accessed = FATTimestamp(date: slot.littleEndian(UInt16.self, at: Offset.accessDate) ?? 0)
    let writeDate = slot.littleEndian(UInt16.self, at: Offset.writeDate) ?? 0
    let writeTime = slot.littleEndian(UInt16.self, at: Offset.writeTime) ?? 0
    // Every entry has a write time; mtools shows date 0 as 1980-00-00.
    modified = FATTimestamp(date: writeDate, time: writeTime, zeroDate: true)
    let high = fat32 ? UInt32(slot.littleEndian(UInt16.self, at: Offset.clusterHigh) ?? 0) : 0
    firstCluster = high << 16 | UInt32(slot.littleEndian(UInt16.self, at: Offset.clusterLow) ?? 0)
    size = slot.littleEndian(UInt32.self, at: Offset.size) ?? 0
  }

  /// True for `.` and `..`.
  public var isDotEntry: Bool {
    rawName == Self.dot || rawName == Self.dotDot
  }
  static let dot: [UInt8] = Array(".          ".utf8)
  static let dotDot: [UInt8] = Array("..         ".utf8)

  /// The checksum long-name slots carry for this short name.
  public var checksum: UInt8 {
    var sum: UInt8 = 0
    for byte in rawName { sum = (sum & 1 != 0 ? 0x80 : 0) &+ (sum >> 1) &+ byte }
    return sum
  }

  /// The 8.3 name as mtools and Linux show it: `BASE.EXT`, trailing spaces dropped, 0x05 read
  /// as 0xE5, lower-cased where DIR_NTRes says so, decoded as code page 850.
  public var shortName: String {
    var base = Array(rawName.prefix(8))
    if base.first == 0x05 { base[0] = 0xE5 }
    let ext = Array(rawName.dropFirst(8))
    func trimmed(_ part: [UInt8], lower: Bool) -> String {
      var end = part.count
      while end > 0, part[end - 1] == 0x20 { end -= 1 }
      let bytes = part[0..<end].map { lower && $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
      return CodePage850.decode(bytes)
    }
    let b = trimmed(base, lower: caseFlags & 0x08 != 0)
    let e = trimmed(ext, lower: caseFlags & 0x10 != 0)
    return e.isEmpty ? b : b + "." + e
  }

  /// The 11 bytes of a volume-label entry, trailing spaces dropped, as code page 850.
  public var labelText: String {
    var bytes = rawName
    if bytes.first == 0x05 { bytes[0] = 0xE5 }
    while let last = bytes.last, last == 0x20 { bytes.removeLast() }
    return CodePage850.decode(bytes)
  }
}
