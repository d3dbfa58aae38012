import DiskFormat
import FAT
import Testing

/// Directory slots built by hand: long names, NT case bits, deleted entries, labels, times.
@Suite("Directories and long names")
struct DirectoryTests {
  @Test("a long name with a surrogate pair decodes; its 8.3 name stays available")
  func surrogatePair() throws {
    var tiny = TinyFAT()
    let short = TinyFAT.name83("SMILE~1", "TXT")
    for slot in TinyFAT.longNameSlots("smile 😀 face.txt", short: short) { tiny.addSlot(directory: nil, slot) }
    tiny.addFile(short, clusters: [2], size: 5)
    let fat = try FATVolume(source: tiny.image)
    let entry = try #require(try fat.list(fat.root).first)
    #expect(entry.name == "smile 😀 face.txt")
    #expect(entry.longName == "smile 😀 face.txt")
    #expect(entry.shortName == "SMILE~1.TXT")
    #expect(try fat.lookup("/SMILE 😀 FACE.TXT") == entry)
    #expect(try fat.lookup("/smile~1.txt") == entry)
    #expect(try fat.check().findings.isEmpty)
  }

  @Test("an unpaired surrogate is a finding and the 8.3 name is used")
  func unpairedSurrogate() throws {
    var tiny = TinyFAT()
    let short = TinyFAT.name83("BAD", "TXT")
    var slots = TinyFAT.longNameSlots("ab😀", short: short)
    slots[0].storeLittleEndian(UInt16(0xDC00), at: 5)  // the high surrogate becomes a low one
    for slot in slots { tiny.addSlot(directory: nil, slot) }
    tiny.addFile(short, clusters: [2], size: 5)
    let fat = try FATVolume(source: tiny.image)
    #expect(try fat.list(fat.root).first?.name == "BAD.TXT")
    #expect(try fat.check().findings.map(\.kind) == ["lfnBadName"])
  }

  @Test("a long name with the wrong checksum is not used, and is a finding")
  func badChecksum() throws {
    var tiny = TinyFAT()
    let short = TinyFAT.name83("LONGNA~1", "TXT")
    for slot in TinyFAT.longNameSlots("Long Name.txt", short: short, checksumDelta: 1) {
      tiny.addSlot(directory: nil, slot)
    }
    tiny.addFile(short, clusters: [2], size: 5)
    let fat = try FATVolume(source: tiny.image)
    #expect(try fat.list(fat.root).first?.name == "LONGNA~1.TXT")
    let findings = try fat.check().findings
    #expect(findings.map(\.kind) == ["lfnBadChecksum"])
    #expect(findings.first?.offset == Int64(TinyFAT.rootOffset + 32))  // the first slot, after the label
  }

  @Test("orphaned long-name slots are findings: before a deleted entry, out of sequence, without start")
  func orphans() throws {
    var tiny = TinyFAT()
    let short = TinyFAT.name83("A", "TXT")
    let slots = TinyFAT.longNameSlots("a name of twenty-six chars", short: short)  // 2 slots + NUL slot
    tiny.addSlot(directory: nil, slots[0])
    tiny.addEntry(directory: nil, name: [0xE5] + Array(short.dropFirst()), attributes: 0x20, cluster: 0, size: 0)
    tiny.addSlot(directory: nil, slots[slots.count - 1])  // sequence 1 with no start
    tiny.addFile(short, clusters: [2], size: 5)
    let fat = try FATVolume(source: tiny.image)
    #expect(try fat.list(fat.root).map(\.name) == ["A.TXT"])  // the deleted entry is not listed
    let kinds = try fat.check().findings.map(\.kind)
    #expect(kinds == ["lfnOrphan", "lfnOrphan"])
  }

  @Test("NT lower-case bits apply to the base and the extension separately, as mtools shows")
  func caseBits() throws {
    var tiny = TinyFAT()
    tiny.addEntry(
      directory: nil, name: TinyFAT.name83("BASE", "TXT"), attributes: 0x20, cluster: 0, size: 0, caseFlags: 0x08)
    tiny.addEntry(
      directory: nil, name: TinyFAT.name83("EXT", "TXT"), attributes: 0x20, cluster: 0, size: 0, caseFlags: 0x10)
    tiny.addEntry(
      directory: nil, name: TinyFAT.name83("BOTH", "TXT"), attributes: 0x20, cluster: 0, size: 0, caseFlags: 0x18)
    tiny.addEntry(directory: nil, name: [0x05] + Array("ABC    TXT".utf8), attributes: 0x20, cluster: 0, size: 0)
    let fat = try FATVolume(source: tiny.image)
    let names = try fat.list(fat.root).map(\.name)
    // 0x05 stands for 0xE5: Õ in code page 850.
    #expect(names == ["base.TXT", "EXT.txt", "both.txt", "ÕABC.TXT"], "\(names)")
  }

  @Test("the root's volume-label entry is the label; it is never listed as a file")
  func label() throws {
    var tiny = TinyFAT(label: "BOOTLABEL")
    // Replace the root entry written by TinyFAT with another label.
    tiny.bytes.replaceSubrange(TinyFAT.rootOffset..<(TinyFAT.rootOffset + 11), with: TinyFAT.name83("ROOTLABE", "L"))
    let fat = try FATVolume(source: tiny.image)
    #expect(try fat.label() == "ROOTLABEL")
    #expect(fat.bootSector.label == "BOOTLABEL")
    #expect(try fat.list(fat.root).isEmpty)
    let report = try fat.check()
    #expect(report.findings.map(\.kind) == ["labelMismatch"])
    #expect(report.label == "ROOTLABEL")
  }

  @Test("timestamps decode; date 0 is 1980-00-00 as mdir shows it")
  func timestamps() throws {
    let stamp = try #require(FATTimestamp(date: 0x5B38, time: 0x4A21))
    #expect(stamp.description == "2025-09-24 09:17:02")
    #expect(stamp.minutePrecision == "2025-09-24 09:17")
    #expect(stamp.secondsSince1970 == 1_758_705_422)
    #expect(FATTimestamp(date: 0) == nil)
    #expect(FATTimestamp(date: 0, zeroDate: true)?.minutePrecision == "1980-00-00 00:00")
  }

  @Test("`.` and `..` are not listed; misplaced or missing ones are findings")
  func dotEntries() throws {
    var tiny = TinyFAT()
    tiny.addDirectory(parent: nil, TinyFAT.name83("DIR"), cluster: 7)
    let fat = try FATVolume(source: tiny.image)
    #expect(try fat.list(path: "/dir").isEmpty)
    #expect(try fat.check().findings.isEmpty)

    var broken = tiny
    // Swap `.` with a file entry placed third.
    broken.addEntry(directory: 7, name: TinyFAT.name83("FILE"), attributes: 0x20, cluster: 0, size: 0)
    let at = TinyFAT.offset(ofCluster: 7)
    let dot = Array(broken.bytes[at..<(at + 32)])
    let file = Array(broken.bytes[(at + 64)..<(at + 96)])
    broken.bytes.replaceSubrange(at..<(at + 32), with: file)
    broken.bytes.replaceSubrange((at + 64)..<(at + 96), with: dot)
    let kinds = try FATVolume(source: broken.image).check().findings.map { "\($0.kind)@\($0.path ?? "")" }
    #expect(kinds.contains("missingDotEntry@/DIR/FILE"))
    #expect(kinds.contains("misplacedDotEntry@/DIR/."))
  }

  @Test("the allocation map covers the metadata and the used clusters")
  func allocationMap() throws {
    var tiny = TinyFAT()
    tiny.addFile(TinyFAT.name83("A"), clusters: [2, 3], size: 1000)
    tiny.addFile(TinyFAT.name83("B"), clusters: [10], size: 1)
    let map = try FATVolume(source: tiny.image).allocationMap()
    #expect(map.allocatedClusterCount == 3)
    #expect(map.isAllocated(3) && !map.isAllocated(4))
    let data = Int64(TinyFAT.dataOffset)
    #expect(map.usedRanges == [0..<(data + 1024), (data + 8 * 512)..<(data + 9 * 512)])
  }
}

@Suite("Probe and VMware magic")
struct ProbeTests {
  @Test func probeReadsTypeLabelSerial() throws {
    let tiny = TinyFAT(label: "BANK")
    let probe = try #require(FATProbe.probe(bootSector: Array(tiny.bytes.prefix(512))))
    #expect(probe.type == .fat16)
    #expect(probe.label == "BANK")
    #expect(probe.serial == "1234-ABCD")
    #expect(FATProbe.probe(bootSector: [UInt8](repeating: 0, count: 512)) == nil)
    #expect(FATProbe.probe(bootSector: [0xEB]) == nil)
  }

  static func withMagic(at offset: Int, size: Int) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: size)
    bytes.replaceSubrange(offset..<(offset + 16), with: VMwareFATMagic.signature)
    bytes.replaceSubrange((offset + 16)..<(offset + 32), with: (0..<16).map { UInt8($0) })
    return bytes
  }

  @Test func magicAtTheSecondSector() throws {
    let image = MemoryImage(Self.withMagic(at: 512, size: 8192))
    let magic = try #require(try VMwareFATMagic.read(from: image.slice(0..<8192)))
    #expect(magic.offset == 512)
    #expect(magic.kernelForm == "000102030405060708090a0b0c0d0e0f")
    #expect(magic.volumeForm == "03020100-07060504-0908-0a0b0c0d0e0f")
  }

  @Test("on 4Kn media the marker is read at 4096, and at 512 where the 6.7 installer wrote it")
  func magicOn4Kn() throws {
    let at4096 = MemoryImage(Self.withMagic(at: 4096, size: 16384), sectorSize: 4096)
    #expect(try VMwareFATMagic.read(from: at4096)?.offset == 4096)
    let at512 = MemoryImage(Self.withMagic(at: 512, size: 16384), sectorSize: 4096)
    #expect(try VMwareFATMagic.read(from: at512)?.offset == 512)
    let partition = MemoryImage(
      [UInt8](repeating: 0, count: 4096) + Self.withMagic(at: 4096, size: 16384), sectorSize: 4096)
    #expect(try VMwareFATMagic.read(from: partition.slice(4096..<20480))?.offset == 8192)
    #expect(try VMwareFATMagic.read(from: MemoryImage([UInt8](repeating: 0, count: 8192))) == nil)
  }
}
