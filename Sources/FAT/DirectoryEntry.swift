import DiskFormat

/// One 32-byte short (8.3) directory entry as stored.
///
/// Dates and times are kept as their raw fields (a FAT time has more states than a calendar
/// time: a zero date, tenths past a second), so an entry re-encodes byte for byte; the
/// calendar values are computed from them.
public struct DirectoryEntry: Hashable, Sendable {
  /// DIR_Name: 11 bytes, base name padded with spaces, then the extension.
  public var rawName: [UInt8]
  public var attributes: FATAttributes
  /// DIR_NTRes: bit 3 lower-case base name, bit 4 lower-case extension; other bits kept as read.
  public var caseFlags: UInt8
  /// DIR_CrtTimeTenth: 0...199 hundredths-of-two-seconds units added to DIR_CrtTime.
  public var createTimeTenths: UInt8
  /// DIR_CrtTime and DIR_CrtDate.
  public var createTime: UInt16
  public var createDate: UInt16
  /// DIR_LstAccDate.
  public var accessDate: UInt16
  /// DIR_WrtTime and DIR_WrtDate.
  public var writeTime: UInt16
  public var writeDate: UInt16
  /// DIR_FstClusHI:DIR_FstClusLO (the high half only on FAT32).
  public var firstCluster: UInt32
  /// DIR_FstClusHI on FAT12/16, where it is no part of the cluster number (OS/2 kept an
  /// extended-attribute handle there); kept so the entry re-encodes as read. 0 on FAT32.
  public var highWordOnFAT16: UInt16
  public var size: UInt32

  enum Offset {
    static let name = 0, attributes = 11, ntRes = 12, createTenths = 13, createTime = 14, createDate = 16
    static let accessDate = 18, clusterHigh = 20, writeTime = 22, writeDate = 24, clusterLow = 26, size = 28
  }
  /// Bytes of a directory slot.
  public static let size = 32
  /// DIR_NTRes bits.
  public static let lowerCaseBase: UInt8 = 0x08, lowerCaseExtension: UInt8 = 0x10

  /// Decodes the 32 bytes of a slot; `nil` when fewer than 32 bytes are given.
  public init?(slot: Span<UInt8>, fat32: Bool) {
    guard slot.count >= Self.size, let name = slot.bytes(Offset.name..<Offset.attributes) else { return nil }
    func u16(_ offset: Int) -> UInt16 { slot.littleEndian(UInt16.self, at: offset) ?? 0 }
    rawName = name
    attributes = FATAttributes(rawValue: slot[Offset.attributes])
    caseFlags = slot[Offset.ntRes]
    createTimeTenths = slot[Offset.createTenths]
    createTime = u16(Offset.createTime)
    createDate = u16(Offset.createDate)
    accessDate = u16(Offset.accessDate)
    writeTime = u16(Offset.writeTime)
    writeDate = u16(Offset.writeDate)
    let high = u16(Offset.clusterHigh)
    firstCluster = (fat32 ? UInt32(high) << 16 : 0) | UInt32(u16(Offset.clusterLow))
    highWordOnFAT16 = fat32 ? 0 : high
    size = slot.littleEndian(UInt32.self, at: Offset.size) ?? 0
  }

  /// An entry from its fields, for writers. Timestamps are encoded with `FATTimestamp.fields`;
  /// a nil one is stored as zero.
  public init(
    rawName: [UInt8], attributes: FATAttributes, caseFlags: UInt8 = 0, created: FATTimestamp? = nil,
    accessed: FATTimestamp? = nil, modified: FATTimestamp? = nil, firstCluster: UInt32, size: UInt32
  ) {
    self.rawName = rawName
    self.attributes = attributes
    self.caseFlags = caseFlags
    let none: (date: UInt16, time: UInt16, tenths: UInt8) = (0, 0, 0)
    let c = created?.fields ?? none
    (createDate, createTime, createTimeTenths) = (c.date, c.time, c.tenths)
    accessDate = accessed?.fields.date ?? 0
    let m = modified?.fields ?? none
    (writeDate, writeTime) = (m.date, m.time)
    self.firstCluster = firstCluster
    highWordOnFAT16 = 0
    self.size = size
  }

  /// DIR_CrtDate/DIR_CrtTime/DIR_CrtTimeTenth; nil for a zero date.
  public var created: FATTimestamp? { FATTimestamp(date: createDate, time: createTime, tenths: createTimeTenths) }
  /// DIR_LstAccDate; nil for a zero date.
  public var accessed: FATTimestamp? { FATTimestamp(date: accessDate) }
  /// DIR_WrtDate/DIR_WrtTime. Every entry has a write time; mtools shows date 0 as 1980-00-00.
  public var modified: FATTimestamp? { FATTimestamp(date: writeDate, time: writeTime, zeroDate: true) }

  /// The slot's 32 bytes. DIR_FstClusHI holds the cluster's high half on FAT32 and
  /// `highWordOnFAT16` otherwise; the name is padded with spaces or cut to 11 bytes.
  public func encoded(fat32: Bool) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: Self.size)
    out.storeBytes(Array((rawName + [UInt8](repeating: 0x20, count: 11)).prefix(11)), at: Offset.name)
    out[Offset.attributes] = attributes.rawValue
    out[Offset.ntRes] = caseFlags
    out[Offset.createTenths] = createTimeTenths
    out.storeLittleEndian(createTime, at: Offset.createTime)
    out.storeLittleEndian(createDate, at: Offset.createDate)
    out.storeLittleEndian(accessDate, at: Offset.accessDate)
    out.storeLittleEndian(
      fat32 ? UInt16(truncatingIfNeeded: firstCluster >> 16) : highWordOnFAT16, at: Offset.clusterHigh)
    out.storeLittleEndian(writeTime, at: Offset.writeTime)
    out.storeLittleEndian(writeDate, at: Offset.writeDate)
    out.storeLittleEndian(UInt16(truncatingIfNeeded: firstCluster), at: Offset.clusterLow)
    out.storeLittleEndian(size, at: Offset.size)
    return out
  }

  /// True for `.` and `..`.
  public var isDotEntry: Bool {
    rawName == Self.dot || rawName == Self.dotDot
  }
  static let dot: [UInt8] = Array(".          ".utf8)
  static let dotDot: [UInt8] = Array("..         ".utf8)

  /// The checksum long-name slots carry for this short name.
  public var checksum: UInt8 { Self.checksum(of: rawName) }

  /// The long-name checksum of an 11-byte 8.3 name: rotate right by one, add the next byte.
  public static func checksum(of rawName: [UInt8]) -> UInt8 {
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
    let b = trimmed(base, lower: caseFlags & Self.lowerCaseBase != 0)
    let e = trimmed(ext, lower: caseFlags & Self.lowerCaseExtension != 0)
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
