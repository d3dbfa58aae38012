import DiskFormat
import FAT
import Foundation
import PartitionTable
import TestSupport
import Testing

/// decode(encode(x)) == x for generated records, and encode(decode(bytes)) == bytes for every
/// boot sector, FSInfo sector, VMware marker, FAT entry and directory slot of the fixtures and
/// the corpus.
@Suite("FAT encoders")
struct FATEncoderTests {
  /// A time the fields can hold: any second with the creation time's tenths, even seconds
  /// for the write time, which has none.
  static func timestamp(_ rng: inout SplitMix64, evenSeconds: Bool = false) -> FATTimestamp {
    let second = Int(rng.next() % 60)
    return FATTimestamp(
      year: 1980 + Int(rng.next() % 128), month: Int(rng.next() % 13), day: Int(rng.next() % 32),
      hour: Int(rng.next() % 24), minute: Int(rng.next() % 60), second: evenSeconds ? second & ~1 : second)
  }

  @Test("a generated 8.3 entry decodes to itself on FAT32 and FAT16", arguments: 0..<200)
  func directoryEntry(seed: UInt64) throws {
    var rng = SplitMix64(state: seed)
    let created = Self.timestamp(&rng)
    let accessed = Self.timestamp(&rng)
    let modified = Self.timestamp(&rng, evenSeconds: true)
    let fat32 = seed % 2 == 0
    let x = DirectoryEntry(
      rawName: rng.bytes(11), attributes: FATAttributes(rawValue: rng.byte() & 0x3F), caseFlags: rng.byte() & 0x18,
      created: created, accessed: accessed, modified: modified,
      firstCluster: fat32 ? rng.value() & 0x0FFF_FFFF : UInt32(rng.value(UInt16.self)), size: rng.value())
    let bytes = x.encoded(fat32: fat32)
    let y = try #require(entry(bytes, fat32: fat32))
    #expect(y == x)
    #expect(y.created == created)
    #expect(y.modified == modified)
    #expect(y.accessed?.year == accessed.year && y.accessed?.month == accessed.month && y.accessed?.day == accessed.day)
  }

  @Test("any 32 bytes decode as an 8.3 entry that re-encodes to them", arguments: 0..<200)
  func directorySlot(seed: UInt64) throws {
    var rng = SplitMix64(state: seed)
    let bytes = rng.bytes(32)
    for fat32 in [false, true] {
      let decoded = try #require(entry(bytes, fat32: fat32))
      #expect(decoded.encoded(fat32: fat32) == bytes)
    }
  }

  @Test("NT case bits in byte 12 lower-case the base and the extension")
  func caseBits() throws {
    let name = Array("README  TXT".utf8)
    for (flags, shown) in [(0x00, "README.TXT"), (0x08, "readme.TXT"), (0x10, "README.txt"), (0x18, "readme.txt")] {
      let record = DirectoryEntry(
        rawName: name, attributes: .archive, caseFlags: UInt8(flags), firstCluster: 3, size: 1)
      let bytes = record.encoded(fat32: false)
      #expect(bytes[12] == UInt8(flags))
      #expect(entry(bytes, fat32: false)?.shortName == shown)
    }
  }

  @Test("a generated long-name slot decodes to itself", arguments: 0..<200)
  func longNameSlot(seed: UInt64) throws {
    var rng = SplitMix64(state: seed)
    let x = LongNameSlot(
      sequence: Int(rng.next() % 20) + 1, isLast: rng.next() % 2 == 0, checksum: rng.byte(),
      units: (0..<13).map { _ in rng.value(UInt16.self) })
    let bytes = x.encoded()
    #expect(bytes[11] == 0x0F)
    #expect(longName(bytes) == x)
    var raw = rng.bytes(32)
    raw[11] = 0x0F
    #expect(longName(raw)?.encoded() == raw)
  }

  @Test(
    "a long name splits into slots that carry the short name's checksum and read back",
    arguments: ["a", "README.md", "exactly13chrs", "exactly-26-characters-long", String(repeating: "ü", count: 255)])
  func longNameSlots(name: String) throws {
    let short = Array("LONGNA~1TXT".utf8)
    let slots = try #require(LongNameSlot.slots(for: name, shortName: short))
    #expect(slots.count == (name.utf16.count + 12) / 13)
    #expect(slots.first?.isLast == true)
    #expect(slots.map(\.sequence) == Array((1...slots.count).reversed()))
    #expect(slots.allSatisfy { $0.checksum == DirectoryEntry.checksum(of: short) })
    let units = slots.reversed().flatMap(\.units)
    #expect(LongNameSlot.name(from: units) == name)
    if name.utf16.count % 13 != 0 {
      #expect(units[name.utf16.count] == 0)
      #expect(units[(name.utf16.count + 1)...].allSatisfy { $0 == 0xFFFF })
    }
    #expect(LongNameSlot.slots(for: String(repeating: "x", count: 256), shortName: short) == nil)
  }

  @Test("FAT entries: generated values read back; FAT12 neighbours and FAT32 top bits untouched", arguments: 0..<50)
  func fatEntries(seed: UInt64) {
    var rng = SplitMix64(state: seed)
    for type in [FATType.fat12, .fat16, .fat32] {
      let count: UInt32 = 64
      var bytes = rng.bytes(AllocationTable.byteCount(type: type, clusterCount: count - 2))
      let original = bytes
      let values = (0..<count).map { _ in rng.value(UInt32.self) & type.entryMask }
      for (i, v) in values.enumerated() { AllocationTable.store(v, at: UInt32(i), type: type, in: &bytes) }
      let table = AllocationTable(bytes: bytes, type: type, clusterCount: count - 2, absoluteOffset: 0)
      #expect((0..<count).map { table.rawValue($0) } == values)
      if type == .fat32 {
        for i in 0..<Int(count) { #expect(bytes[i * 4 + 3] & 0xF0 == original[i * 4 + 3] & 0xF0) }
      }
      if type == .fat12 {
        // One entry changed leaves both neighbours as they were.
        var one = bytes
        AllocationTable.store(0xABC, at: 7, type: type, in: &one)
        let after = AllocationTable(bytes: one, type: type, clusterCount: count - 2, absoluteOffset: 0)
        #expect(after.rawValue(6) == values[6] && after.rawValue(8) == values[8] && after.rawValue(7) == 0xABC)
      }
      for entry: AllocationTable.Entry in [.free, .next(5), .endOfChain, .bad] {
        #expect(table.classify(AllocationTable.value(of: entry, type: type)) == entry)
      }
    }
  }

  @Test("a boot sector with generated fields decodes to itself", arguments: 0..<100)
  func bootSector(seed: UInt64) throws {
    var rng = SplitMix64(state: seed)
    let x = try BootSectorGenerator.make(&rng)
    let y = try BootSector(parsing: x.encoded().span, at: 0)
    #expect(y == x)
  }

  @Test("a generated FSInfo sector and VMware marker decode to themselves", arguments: 0..<100)
  func fsInfoAndMarker(seed: UInt64) throws {
    var rng = SplitMix64(state: seed)
    var info = FSInfo(freeCount: rng.value(), nextFree: rng.value())
    info.reserved1 = rng.bytes(480)
    info.reserved2 = rng.bytes(12)
    let decodedInfo = try FSInfo(parsing: info.encoded().span, at: 0)
    #expect(decodedInfo == info)
    let marker = VMwareFATMagic(uuid: rng.bytes(16), offset: 512)
    let decodedMarker = VMwareFATMagic(parsing: marker.encoded().span, at: 512)
    #expect(decodedMarker == marker)
  }

  @Test(
    "every fixture's FAT records re-encode byte for byte",
    .enabled(if: !RecordImages.fixtures.isEmpty, "no images/*.img: run `make images`"),
    arguments: RecordImages.fixtures)
  func fixtureRecords(_ path: String) throws {
    for volume in try RecordVolumes.volumes(in: path) { try RecordVolumes.check(volume, path) }
  }

  @Test(
    "every corpus FAT volume's records re-encode byte for byte",
    .enabled(if: Paths.corpusPresent, "no ../shared/corpus/MANIFEST.json next to the package"),
    .timeLimit(.minutes(10)), arguments: CorpusManifest.volumes.filter { !$0.image.contains("check-huge") })
  func corpusRecords(_ volume: CorpusVolume) throws {
    guard let fat = try? CorpusTests.open(volume) else { return }  // unreadable volumes are CorpusTests' business
    try RecordVolumes.check(fat, volume.testDescription)
  }
}

/// Decoders over arrays, for use inside `#expect` (which cannot capture a `Span`).
func entry(_ bytes: [UInt8], fat32: Bool) -> DirectoryEntry? { DirectoryEntry(slot: bytes.span, fat32: fat32) }
func longName(_ bytes: [UInt8]) -> LongNameSlot? { LongNameSlot(slot: bytes.span) }

/// Boot sectors with random fields and a layout that follows the rules.
enum BootSectorGenerator {
  /// A valid boot sector to start from.
  static let tinySector = Array(TinyFAT().bytes[0..<BootSector.size])

  static func make(_ rng: inout SplitMix64) throws -> BootSector {
    let type = [FATType.fat12, .fat16, .fat32][Int(rng.next() % 3)]
    let bps = 512 << Int(rng.next() % 4)
    let spc = 1 << Int(rng.next() % 8)
    let reserved = Int(rng.next() % 32) + (type == .fat32 ? 8 : 1)
    let fats = Int(rng.next() % 2) + 1
    let clusters: UInt64
    switch type {
    case .fat12: clusters = rng.next() % 4084 + 1
    case .fat16: clusters = rng.next() % (65_526 - 4085) + 4085
    case .fat32: clusters = rng.next() % 2_000_000 + 1
    }
    let rootEntries = type == .fat32 ? 0 : Int(rng.next() % 64 + 1) * 16
    let fatBytes = ((clusters + 2) * UInt64(type.entryBits) + 7) / 8
    let fatSize = (fatBytes + UInt64(bps) - 1) / UInt64(bps) + rng.next() % 3
    let rootSectors = (UInt64(rootEntries) * 32 + UInt64(bps) - 1) / UInt64(bps)
    let total = UInt64(reserved) + UInt64(fats) * fatSize + rootSectors + clusters * UInt64(spc)
    // Start from a blank sector: the layout fields are written by `encoded()`.
    var otherBytes = rng.bytes(BootSector.size)
    otherBytes[0] = 0xEB
    otherBytes = BootSector.blankingNamedFields(otherBytes, type: type)
    var sector = try BootSector(parsing: tinySector.span, at: 0)
    sector.otherBytes = otherBytes
    sector.type = type
    sector.bytesPerSector = bps
    sector.sectorsPerCluster = spc
    sector.reservedSectors = reserved
    sector.fatCount = fats
    sector.rootEntryCount = rootEntries
    let small = type != .fat32 && total <= 0xFFFF && rng.next() % 2 == 0
    sector.totalSectors16 = small ? UInt16(total) : 0
    sector.totalSectors32 = small ? 0 : UInt32(total)
    sector.fatSize16 = type == .fat32 ? 0 : UInt16(fatSize)
    sector.fatSize32 = type == .fat32 ? UInt32(fatSize) : 0
    sector.media = [0xF0, 0xF8, 0xF9, 0xFF][Int(rng.next() % 4)]
    sector.sectorsPerTrack = rng.value()
    sector.heads = rng.value()
    sector.hiddenSectors = rng.value()
    sector.extFlags = type == .fat32 ? rng.value() : 0
    sector.rootCluster = type == .fat32 ? UInt32(rng.next() % clusters) + 2 : 0
    sector.fsInfoSector = type == .fat32 ? rng.value() : 0
    sector.backupBootSector = type == .fat32 ? rng.value() : 0
    sector.stateFlags = rng.byte()
    sector.extendedBootSignature = rng.byte()
    sector.volumeID = rng.value()
    sector.oemName = rng.bytes(8)
    sector.volumeLabel = rng.bytes(11)
    sector.fileSystemType = rng.bytes(8)
    sector.clusterCount = UInt32(clusters)
    return sector
  }
}

/// The FAT volumes of an image and the record checks run on each.
enum RecordVolumes {
  /// The whole image when it is a FAT volume, else each partition that is one.
  static func volumes(in path: String) throws -> [FATVolume] {
    let source = try TestFileSource(path: path)
    if let whole = try? FATVolume(source: source) { return [whole] }
    let layout = try PartitionTable.read(from: source)
    return (layout.partitions + (layout.linuxPartitions ?? [])).compactMap { p in
      guard let start = Int64(exactly: p.offsetBytes), let size = Int64(exactly: p.sizeBytes),
        start + size <= source.byteCount
      else { return nil }
      return try? FATVolume(source: source.slice(start..<(start + size)))
    }
  }

  /// The entries of every directory the walk reaches.
  static func entries(_ fat: FATVolume) throws -> [FATEntry] {
    var out: [FATEntry] = []
    try fat.walk { out.append($0) }
    return out
  }

  static func check(_ fat: FATVolume, _ name: String) throws {
    let boot = fat.bootSector
    let source = fat.source
    #expect(boot.encoded() == (try source.read(at: 0, count: BootSector.size)), "\(name): boot sector")
    if boot.type == .fat32, boot.backupBootSector != 0, boot.backupBootSector != 0xFFFF {
      let at = Int64(boot.backupBootSector) * Int64(boot.bytesPerSector)
      if at + 512 <= source.byteCount {
        let backup = try source.read(at: at, count: BootSector.size)
        if let decoded = try? BootSector(parsing: backup.span, at: at) {
          #expect(decoded.encoded() == backup, "\(name): backup boot sector")
        }
      }
    }
    if let info = fat.fsInfo {
      let at = Int64(boot.fsInfoSector) * Int64(boot.bytesPerSector)
      #expect(info.encoded() == (try source.read(at: at, count: FSInfo.size)), "\(name): FSInfo")
    }
    if let marker = try VMwareFATMagic.read(from: source) {
      let at = marker.offset - source.absoluteBaseOffset
      #expect(marker.encoded() == (try source.read(at: at, count: VMwareFATMagic.size)), "\(name): VMware marker")
    }
    try checkTable(fat, name)
    try checkDirectories(fat, name)
    try checkLongNames(fat, name)
  }

  /// Each long name, split into slots by `LongNameSlot.slots`, gives the bytes the tool that
  /// made the volume wrote before its 8.3 entry (checksum, NUL and 0xFFFF padding included).
  static func checkLongNames(_ fat: FATVolume, _ name: String) throws {
    try fat.walk { entry in
      guard let long = entry.longName, let raw = entry.raw,
        let slots = LongNameSlot.slots(for: long, shortName: raw.rawName)
      else { return }
      let at = entry.entryOffset - fat.source.absoluteBaseOffset - Int64(slots.count * DirectoryEntry.size)
      let cluster = Int64(fat.bootSector.bytesPerCluster)
      let dataStart = fat.bootSector.dataOffset
      // Slots that start in an earlier cluster of the chain are not contiguous on disk.
      if at >= dataStart,
        (at - dataStart) / cluster != (entry.entryOffset - fat.source.absoluteBaseOffset - dataStart) / cluster
      {
        return
      }
      let onDisk = try fat.source.read(at: at, count: slots.count * DirectoryEntry.size)
      #expect(slots.flatMap { $0.encoded() } == onDisk, "\(name): long name of \(entry.path)")
    }
  }

  /// Every FAT entry scrambled through the encoder, then stored back: the bytes come back.
  static func checkTable(_ fat: FATVolume, _ name: String) throws {
    let boot = fat.bootSector
    let count = min(
      AllocationTable.byteCount(type: boot.type, clusterCount: boot.clusterCount), Int(boot.fatByteCount))
    let original = try fat.source.read(at: boot.fatOffset(copy: 0), count: count)
    var bytes = original
    var rng = SplitMix64(state: UInt64(count))
    let entries = UInt32(min(Int(boot.clusterCount) + 2, count * 8 / boot.type.entryBits))
    for i in 0..<entries { AllocationTable.store(rng.value(), at: i, type: boot.type, in: &bytes) }
    for i in 0..<entries {
      AllocationTable.store(fat.table.rawValue(i) ?? 0, at: i, type: boot.type, in: &bytes)
    }
    #expect(bytes == original, "\(name): FAT")
  }

  /// Every 32-byte slot of the root directory and of each directory the walk reaches.
  static func checkDirectories(_ fat: FATVolume, _ name: String) throws {
    var regions: [[UInt8]] = []
    let boot = fat.bootSector
    if boot.type != .fat32 {
      regions.append(try fat.source.read(at: boot.rootDirectoryOffset, count: Int(boot.rootDirectoryByteCount)))
    }
    var directories = [fat.root]
    try fat.walk { if $0.isDirectory { directories.append($0) } }
    for directory in directories where !(directory.isRoot && boot.type != .fat32) {
      try? fat.forEachRun(of: directory) { regions.append($0.bytes(0..<$0.count) ?? []) }
    }
    var slots = 0
    for region in regions {
      for at in stride(from: 0, to: region.count - 31, by: DirectoryEntry.size) {
        let slot = Array(region[at..<(at + DirectoryEntry.size)])
        if slot[11] == FATAttributes.longName.rawValue {
          #expect(longName(slot)?.encoded() == slot, "\(name): long-name slot")
        } else {
          #expect(
            entry(slot, fat32: boot.type == .fat32)?.encoded(fat32: boot.type == .fat32) == slot,
            "\(name): 8.3 entry")
        }
        slots += 1
      }
    }
    #expect(slots > 0 || regions.isEmpty, "\(name): no directory slots read")
  }
}
