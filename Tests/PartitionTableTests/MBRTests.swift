import DiskFormat
import PartitionTable
import TestSupport
import Testing

@Suite("MBR and EBR chain")
struct MBRTests {
  @Test("the legacy ESXi 4.x-upgraded layout: p4 active boot, p1 extended with logical p5-p8, p2, p3")
  func legacyLayout() throws {
    let layout = try PartitionTable.read(from: MemoryImage(MBRImageBuilder.legacyESXi.build()))
    #expect(layout.type == .mbr)
    #expect(layout.linuxType == .mbr)
    #expect(layout.esxiBootable)
    #expect(layout.allFindings.isEmpty, "\(layout.allFindings.map(\.message))")
    #expect(layout.partitions.map(\.number) == [1, 2, 3, 4, 5, 6, 7, 8])
    #expect(layout.structures.map(\.name) == ["MBR", "EBR chain"])
    #expect(layout.mbrDiskSignature == 0x1234_ABCD)
    let p4 = try #require(layout.partition(4))
    #expect(p4.bootable && p4.mbrType == 0x04 && p4.firstLBA == 32 && p4.lastLBA == 255)
    let p1 = try #require(layout.partition(1))
    #expect(p1.isExtendedContainer && !p1.isLogical)
    let logicals = layout.partitions.filter(\.isLogical)
    #expect(logicals.map(\.firstLBA) == [288, 544, 800, 928])
    #expect(logicals.map(\.mbrType) == [0x06, 0x06, 0xFC, 0x06])
    #expect(logicals.map(\.typeName) == ["FAT16", "FAT16", "VMware VMKCORE", "FAT16"])
    #expect(layout.partition(3)?.typeName == "VMware VMFS")
    #expect(layout.partition(5)?.sizeBytes == 224 * 512)
  }

  struct Case: Sendable, CustomTestStringConvertible {
    var name: String
    var offset: Int
    var value: [UInt8]
    var verdict: String
    var kind: String
    var fieldOffset: Int
    var type: DiskLayout.TableType
    var testDescription: String { name }
  }

  /// MBR at 0, first EBR at LBA 256 (byte 0x20000), second EBR at LBA 512 (byte 0x40000).
  static let cases: [Case] = [
    Case(
      name: "MBR Signature", offset: 0x1FE, value: [0x55, 0xAB], verdict: "MBR", kind: "badSignature",
      fieldOffset: 0x1FE, type: .none),
    Case(
      name: "MBR BootIndicator", offset: 0x1CE, value: [0x7F], verdict: "MBR", kind: "badBootIndicator",
      fieldOffset: 0x1CE, type: .none),
    Case(
      name: "MBR StartingLBA 0", offset: 0x1CE + 8, value: [0, 0, 0, 0], verdict: "MBR", kind: "badStartingLBA",
      fieldOffset: 0x1CE + 8, type: .mbr),
    Case(
      name: "MBR SizeInLBA past the end", offset: 0x1CE + 12, value: [0, 0, 0, 1], verdict: "MBR",
      kind: "partitionPastEnd", fieldOffset: 0x1CE + 12, type: .mbr),
    Case(
      name: "MBR OSType 0 with sectors", offset: 0x1CE + 4, value: [0], verdict: "MBR", kind: "badOSType",
      fieldOffset: 0x1CE + 4, type: .mbr),
    Case(
      name: "MBR records overlap", offset: 0x1CE + 8, value: [0x00, 0x04, 0, 0], verdict: "MBR",
      kind: "partitionsOverlap", fieldOffset: 0x1CE, type: .mbr),
    Case(
      name: "EBR Signature", offset: 0x20000 + 0x1FE, value: [0, 0], verdict: "EBR chain", kind: "badSignature",
      fieldOffset: 0x20000 + 0x1FE, type: .mbr),
    Case(
      name: "EBR link loops to itself", offset: 0x20000 + 0x1CE + 8, value: [0, 0, 0, 0], verdict: "EBR chain",
      kind: "ebrLoop", fieldOffset: 0x20000 + 0x1CE + 8, type: .mbr),
    Case(
      name: "EBR link past the disk", offset: 0x40000 + 0x1CE + 8, value: [0, 0, 0, 0x10], verdict: "EBR chain",
      kind: "ebrPastEnd", fieldOffset: 0x40000 + 0x1CE + 8, type: .mbr),
    Case(
      name: "EBR link outside the extended partition", offset: 0x40000 + 0x1CE + 8, value: [0x00, 0x05, 0, 0],
      verdict: "EBR chain", kind: "badStartingLBA", fieldOffset: 0x40000 + 0x1CE + 8, type: .mbr),
    Case(
      name: "logical past the disk", offset: 0x20000 + 0x1BE + 12, value: [0, 0, 0, 1], verdict: "EBR chain",
      kind: "partitionPastEnd", fieldOffset: 0x20000 + 0x1BE + 12, type: .mbr),
    Case(
      name: "logical outside the extended partition", offset: 0x20000 + 0x1BE + 12, value: [0x00, 0x04, 0, 0],
      verdict: "EBR chain", kind: "badSizeInLBA", fieldOffset: 0x20000 + 0x1BE + 12, type: .mbr),
  ]

  @Test("a corrupted MBR or EBR field is named, with its absolute offset", arguments: cases)
  func corruption(_ c: Case) throws {
    var bytes = MBRImageBuilder.legacyESXi.build()
    bytes.put(c.value, at: c.offset)
    let layout = try PartitionTable.read(from: MemoryImage(bytes, name: "mbr.img"))
    #expect(layout.type == c.type)
    let finding = layout.structure(c.verdict)?.findings.first { $0.kind == c.kind }
    #expect(finding != nil, "\(layout.allFindings.map { "\($0.kind): \($0.message)" })")
    #expect(finding?.offset == Int64(c.fieldOffset))
    if c.kind.hasPrefix("bad") {
      #expect(finding?.message.contains(String(c.kind.dropFirst(3))) == true)
    }
  }

  @Test("an EBR link pointing past the disk is a finding, not a read past the end")
  func ebrPastDisk() throws {
    var b = MBRImageBuilder.legacyESXi
    b.records[0].size = 100_000  // the container claims more than the disk holds
    var bytes = b.build()
    bytes.storeLittleEndian(UInt32(50_000), at: 0x20000 + 0x1CE + 8)
    let layout = try PartitionTable.read(from: MemoryImage(bytes))
    #expect(layout.structure("EBR chain")?.findings.contains { $0.kind == "ebrPastEnd" } == true)
    #expect(layout.structure("MBR")?.findings.contains { $0.kind == "partitionPastEnd" } == true)
    // The loader's walk (mbr_get_max_part) stops at the EBR it cannot read: the volumes before it
    // are its table, the unreadable link a warning; the table's own errors stay Linux's.
    #expect(layout.esxiBootable)
    #expect(layout.loader.findings.map(\.kind) == ["loaderEBRUnreadable"])
  }

  @Test("a long chain stops at the bound", .timeLimit(.minutes(1)))
  func longChain() throws {
    // 200 EBRs, one per sector, each with a one-sector logical partition after it.
    var b = MBRImageBuilder(sectors: 1024)
    b.records = [MBRImageBuilder.Record(type: 0x0F, start: 2, size: 1000)]
    b.logicals = (0..<200).map { (ebr: UInt32(2 + 2 * $0), start: 1, size: 1, type: 0x83) }
    let layout = try PartitionTable.read(from: MemoryImage(b.build()))
    #expect(layout.partitions.filter(\.isLogical).count == MBRTable.maxLogicalPartitions)
    #expect(layout.partitions.last?.number == 4 + MBRTable.maxLogicalPartitions)
    #expect(layout.structure("EBR chain")?.findings.contains { $0.kind == "tooManyLogicalPartitions" } == true)
  }

  @Test("logical partitions are numbered from 5 in chain order, skipping empty EBRs")
  func numbering() throws {
    var b = MBRImageBuilder(sectors: 512)
    b.records = [
      MBRImageBuilder.Record(type: 0x83, start: 1, size: 9),
      MBRImageBuilder.Record(type: 0x85, start: 100, size: 300),
    ]
    b.logicals = [(100, 1, 10, 0x83), (200, 1, 10, 0x82), (300, 1, 10, 0x8E)]
    var bytes = b.build()
    bytes.put([UInt8](repeating: 0, count: 16), at: 200 * 512 + 0x1BE)  // middle EBR: link only
    let layout = try PartitionTable.read(from: MemoryImage(bytes))
    #expect(layout.partitions.map(\.number) == [1, 2, 5, 6])
    #expect(layout.partition(6)?.firstLBA == 301)
    #expect(layout.partition(6)?.mbrType == 0x8E)
    #expect(layout.partition(2)?.typeName == "Linux extended")
  }

  @Test("an MBR with four empty records is a table with no partitions, and says so")
  func emptyTable() throws {
    let layout = try PartitionTable.read(from: MemoryImage(MBRImageBuilder(sectors: 64).build()))
    #expect(layout.type == .mbr && layout.partitions.isEmpty)
    #expect(layout.structure("MBR")?.findings.map(\.kind) == ["noPartitions"])
  }
}
