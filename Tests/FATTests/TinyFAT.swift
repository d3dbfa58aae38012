import DiskFormat

/// A small FAT16 volume built in memory, for records and damage that tools will not make.
///
/// Layout: 512-byte sectors, 1 sector per cluster, 1 reserved sector, 2 FATs of 32 sectors,
/// 512 root entries (32 sectors), 8192 sectors in all: 8095 clusters, so FAT16 by layout.
/// The same volume `mkfs.fat -F 16 -s 1 -r 512 -f 2 -C img 4096` would describe.
struct TinyFAT {
  var bytes: [UInt8]
  static let sectorSize = 512
  static let fatSectors = 32
  static let fatOffset = 512
  static let rootOffset = 512 + 2 * 32 * 512
  static let dataOffset = rootOffset + 32 * 512
  static let totalSectors = 8192

  init(label: String = "TINY") {
    bytes = [UInt8](repeating: 0, count: Self.totalSectors * Self.sectorSize)
    bytes.replaceSubrange(0..<3, with: [0xEB, 0x3C, 0x90])
    bytes.replaceSubrange(3..<11, with: Array("mkfs.fat".utf8))
    bytes.storeLittleEndian(UInt16(512), at: 0x0B)
    bytes[0x0D] = 1
    bytes.storeLittleEndian(UInt16(1), at: 0x0E)
    bytes[0x10] = 2
    bytes.storeLittleEndian(UInt16(512), at: 0x11)
    bytes.storeLittleEndian(UInt16(Self.totalSectors), at: 0x13)
    bytes[0x15] = 0xF8
    bytes.storeLittleEndian(UInt16(Self.fatSectors), at: 0x16)
    bytes.storeLittleEndian(UInt16(32), at: 0x18)
    bytes.storeLittleEndian(UInt16(2), at: 0x1A)
    bytes[0x26] = 0x29
    bytes.storeLittleEndian(UInt32(0x1234_ABCD), at: 0x27)
    let padded = Array((label + String(repeating: " ", count: 11)).utf8.prefix(11))
    bytes.replaceSubrange(0x2B..<0x36, with: padded)
    bytes.replaceSubrange(0x36..<0x3E, with: Array("FAT16   ".utf8))
    bytes[0x1FE] = 0x55
    bytes[0x1FF] = 0xAA
    setFAT(0, 0xFFF8)
    setFAT(1, 0xFFFF)
    addEntry(directory: nil, name: padded, attributes: 0x08, cluster: 0, size: 0)
  }

  static var clusterCount: Int { (totalSectors - dataOffset / sectorSize) }

  /// Sets a FAT entry in both copies.
  mutating func setFAT(_ cluster: Int, _ value: UInt16) {
    bytes.storeLittleEndian(value, at: Self.fatOffset + cluster * 2)
    bytes.storeLittleEndian(value, at: Self.fatOffset + Self.fatSectors * 512 + cluster * 2)
  }

  /// Links `clusters` into a chain ending with an end mark.
  mutating func chain(_ clusters: [Int]) {
    for (i, c) in clusters.enumerated() {
      setFAT(c, i + 1 < clusters.count ? UInt16(clusters[i + 1]) : 0xFFFF)
    }
  }

  static func offset(ofCluster c: Int) -> Int { dataOffset + (c - 2) * sectorSize }

  /// Byte offset of the next free slot of a directory (the root when `directory` is nil).
  func freeSlot(directory: Int?) -> Int {
    let start = directory.map(Self.offset(ofCluster:)) ?? Self.rootOffset
    let length = directory == nil ? 512 * 32 : Self.sectorSize
    var at = start
    while at < start + length, bytes[at] != 0 { at += 32 }
    return at
  }

  /// Writes a raw 32-byte slot.
  mutating func addSlot(directory: Int?, _ slot: [UInt8]) {
    let at = freeSlot(directory: directory)
    bytes.replaceSubrange(at..<(at + 32), with: slot)
  }

  /// Adds an 8.3 entry; `name` is the 11-byte DIR_Name.
  mutating func addEntry(
    directory: Int?, name: [UInt8], attributes: UInt8, cluster: Int, size: Int, caseFlags: UInt8 = 0
  ) {
    var slot = [UInt8](repeating: 0, count: 32)
    slot.replaceSubrange(0..<11, with: name)
    slot[11] = attributes
    slot[12] = caseFlags
    slot.storeLittleEndian(UInt16(0x4A21), at: 22)  // 09:17:02
    slot.storeLittleEndian(UInt16(0x5B38), at: 24)  // 2025-09-24
    slot.storeLittleEndian(UInt16(cluster & 0xFFFF), at: 26)
    slot.storeLittleEndian(UInt32(size), at: 28)
    addSlot(directory: directory, slot)
  }

  static func name83(_ base: String, _ ext: String = "") -> [UInt8] {
    Array(
      (base + String(repeating: " ", count: 8 - base.count) + ext + String(repeating: " ", count: 3 - ext.count)).utf8)
  }

  /// Adds a file whose bytes fill `clusters`.
  mutating func addFile(directory: Int? = nil, _ name: [UInt8], clusters: [Int], size: Int, fill: UInt8 = 0x41) {
    chain(clusters)
    for c in clusters {
      let at = Self.offset(ofCluster: c)
      for i in 0..<Self.sectorSize { bytes[at + i] = fill &+ UInt8(truncatingIfNeeded: i) }
    }
    addEntry(directory: directory, name: name, attributes: 0x20, cluster: clusters.first ?? 0, size: size)
  }

  /// Adds a one-cluster subdirectory with `.` and `..`.
  mutating func addDirectory(parent: Int?, _ name: [UInt8], cluster: Int) {
    chain([cluster])
    addEntry(directory: parent, name: name, attributes: 0x10, cluster: cluster, size: 0)
    addEntry(directory: cluster, name: Self.name83("."), attributes: 0x10, cluster: cluster, size: 0)
    addEntry(directory: cluster, name: Self.name83(".."), attributes: 0x10, cluster: parent ?? 0, size: 0)
  }

  /// Long-name slots for `name` belonging to the 8.3 name `short` (in on-disk order).
  static func longNameSlots(_ name: String, short: [UInt8], checksumDelta: UInt8 = 0) -> [[UInt8]] {
    var sum: UInt8 = 0
    for byte in short { sum = (sum & 1 != 0 ? 0x80 : 0) &+ (sum >> 1) &+ byte }
    sum &+= checksumDelta
    var units = Array(name.utf16)
    if units.count % 13 != 0 { units.append(0) }
    while units.count % 13 != 0 { units.append(0xFFFF) }
    let count = units.count / 13
    let offsets = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30]
    var slots: [[UInt8]] = []
    for n in stride(from: count, through: 1, by: -1) {
      var slot = [UInt8](repeating: 0, count: 32)
      slot[0] = UInt8(n) | (n == count ? 0x40 : 0)
      slot[11] = 0x0F
      slot[13] = sum
      for (i, o) in offsets.enumerated() { slot.storeLittleEndian(units[(n - 1) * 13 + i], at: o) }
      slots.append(slot)
    }
    return slots
  }

  var image: MemoryImage { MemoryImage(bytes, name: "tiny.img") }
}
