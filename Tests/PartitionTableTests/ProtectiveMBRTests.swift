import DiskFormat
import PartitionTable
import TestSupport
import Testing

/// ESXi's loader takes a disk as GPT only when MBR record 1 is type 0xEE, StartingLBA 1,
/// BootIndicator 0 (esx-boot's `bootlib/gpt.c`). Linux and sgdisk are laxer; each difference is a finding.
@Suite("protective MBR rule")
struct ProtectiveMBRTests {
  let image = GPTImageBuilder().build()

  @Test("a GPT disk with a protective MBR is GPT for ESXi and Linux alike")
  func protective() throws {
    let layout = try PartitionTable.read(from: MemoryImage(image))
    #expect(layout.type == .gpt && layout.linuxType == .gpt && layout.esxiBootable)
    #expect(
      layout.structures.map(\.name) == [
        "protective MBR", "primary GPT header", "primary GPT entries", "backup GPT header", "backup GPT entries",
      ])
    #expect(layout.structures.allSatisfy { $0.ok })
    #expect(layout.allFindings.isEmpty)
    #expect(layout.diskGUID?.description == "11111111-2222-3333-4444-555555555555")
    let p2 = try #require(layout.partition(2))
    #expect(p2.name == "BOOTBANK1" && p2.typeName == "Microsoft basic data" && p2.attributeNames == ["GUID:63"])
    #expect(p2.uniqueGUID?.description == "AAAAAAAA-0000-0000-0000-000000000005")
    #expect(layout.linuxPartitions == nil)
  }

  @Test(
    "record 1 failing the loader's rule: ESXi reads MBR, Linux reads GPT",
    arguments: [
      ("BootIndicator", 0x1BE, [UInt8(0x80)]),
      ("StartingLBA", 0x1BE + 8, [2, 0, 0, 0]),
      ("OSType", 0x1BE + 4, [0x83]),
    ])
  func ruleFails(field: String, offset: Int, value: [UInt8]) throws {
    var bytes = image
    bytes.put(value, at: offset)
    let layout = try PartitionTable.read(from: MemoryImage(bytes))
    #expect(layout.type == .mbr)
    #expect(layout.linuxType == .gpt)
    #expect(!layout.esxiBootable)
    #expect(layout.findings.contains { $0.kind == "esxiSeesMBR" && $0.severity == .error })
    let finding = layout.structure("protective MBR")?.findings.first { $0.kind == "bad" + field }
    #expect(finding?.offset == Int64(offset), "\(layout.allFindings.map(\.message))")
    #expect(layout.linuxPartitions?.map(\.name) == ["BOOT", "BOOTBANK1"])
  }

  @Test("0xEE in record 2 only: ESXi reads MBR; sgdisk would read the GPT")
  func eeInSecondRecord() throws {
    var bytes = image
    let record1 = Array(bytes[0x1BE..<0x1CE])
    bytes.put([UInt8](repeating: 0, count: 16), at: 0x1BE)
    bytes.put(record1, at: 0x1CE)
    let layout = try PartitionTable.read(from: MemoryImage(bytes))
    #expect(layout.type == .mbr && layout.linuxType == .gpt)
    let message = layout.structure("protective MBR")?.findings.first { $0.kind == "badOSType" }?.message ?? ""
    #expect(message.contains("0xEE is in record 2") || message.contains("0xee is in record 2"), "\(message)")
  }

  @Test("a hybrid MBR (0xEE in record 1 plus other records) is GPT for ESXi, with a warning")
  func hybrid() throws {
    var bytes = image
    bytes.put([0x80, 0, 0, 0, 0x0C, 0, 0, 0, 64, 0, 0, 0, 64, 0, 0, 0], at: 0x1CE)
    let layout = try PartitionTable.read(from: MemoryImage(bytes))
    #expect(layout.type == .gpt && layout.esxiBootable)
    let finding = layout.structure("protective MBR")?.findings.first { $0.kind == "hybridMBR" }
    #expect(finding?.severity == .warning)
  }

  @Test("a protective record whose SizeInLBA is not the disk size is a warning")
  func protectiveSize() throws {
    var bytes = image
    bytes.storeLittleEndian(UInt32(100), at: 0x1BE + 12)
    let layout = try PartitionTable.read(from: MemoryImage(bytes))
    #expect(layout.esxiBootable)
    #expect(layout.structure("protective MBR")?.findings.first?.kind == "badSizeInLBA")
    #expect(layout.structure("protective MBR")?.findings.first?.offset == 0x1CA)
  }
}
