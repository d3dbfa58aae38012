import DiskFormat
import Foundation
import PartitionTable
import TestSupport
import Testing

/// MBR disks with EBR chains made by sfdisk, and hybrid MBRs made by sgdisk, read by us and by them.
@Suite("sfdisk and sgdisk hybrids as oracles")
struct SfdiskOracleTests {
  /// Our MBR partitions against `sfdisk --json`: node number, start, size, type.
  @Test(
    "EBR chains sfdisk writes list the same partitions, logical ones from 5",
    .enabled(if: toolPath("sfdisk") != nil, "sfdisk (fdisk package) is not installed"),
    arguments: [
      "start=64, size=100, type=83\nstart=200, size=1000, type=5\nstart=232, size=50, type=83\nstart=300, size=60, type=82\n",
      "start=2048, size=4096, type=f, bootable\nstart=2049, size=10, type=c\nstart=3000, size=1000, type=fc\nstart=6144, size=100, type=fb\n",
      "start=32, size=8160, type=5\nstart=64, size=100, type=6\nstart=200, size=100, type=6\nstart=400, size=100, type=fc\nstart=600, size=100, type=6\nstart=800, size=7000, type=83\n",
    ])
  func ebrChains(script: String) throws {
    let scratch = try ScratchDirectory("sfdisk")
    let path = try scratch.sparseFile("disk.img", size: 8 << 20)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: toolPath("sfdisk")!)
    process.arguments = ["--no-reread", "--no-tell-kernel", "-q", path]
    let input = Pipe()
    process.standardInput = input
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    input.fileHandleForWriting.write(Data(("label: dos\n" + script).utf8))
    try input.fileHandleForWriting.close()
    process.waitUntilExit()
    try #require(process.terminationStatus == 0)

    let json = try runTool(toolPath("sfdisk")!, ["--json", path]).stdout
    let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
    let table = object?["partitiontable"] as? [String: Any]
    let theirs = (table?["partitions"] as? [[String: Any]] ?? []).map { p -> (Int, UInt64, UInt64, UInt8, Bool) in
      let node = p["node"] as? String ?? ""
      let number = Int(node.reversed().prefix { $0.isNumber }.reversed().map(String.init).joined()) ?? 0
      return (
        number, (p["start"] as? NSNumber)?.uint64Value ?? 0, (p["size"] as? NSNumber)?.uint64Value ?? 0,
        UInt8(p["type"] as? String ?? "", radix: 16) ?? 0, p["bootable"] as? Bool ?? false
      )
    }
    let layout = try PartitionTable.read(from: TestFileSource(path: path))
    #expect(layout.type == .mbr && layout.esxiBootable && !layout.hasErrors, "\(layout.allFindings.map(\.message))")
    #expect(layout.partitions.count == theirs.count)
    for (ours, t) in zip(layout.partitions, theirs) {
      #expect(ours.number == t.0)
      #expect(ours.firstLBA == t.1)
      #expect(ours.sectorCount == t.2)
      #expect(ours.mbrType == t.3)
      #expect(ours.bootable == t.4)
    }
    let id = (table?["id"] as? String).flatMap { UInt32($0.dropFirst(2), radix: 16) }
    #expect(layout.mbrDiskSignature == id)
  }

  /// sgdisk 1.0.9's `-h 1` puts the 0xEE record first (ESXi reads GPT, with a hybrid warning);
  /// `-h 1:EE` puts it after the hybrid record, so record 1 is 0xEF and ESXi reads MBR.
  @Test(
    "hybrid MBRs sgdisk writes",
    .enabled(if: toolPath("sgdisk") != nil, "sgdisk (gdisk package) is not installed"),
    arguments: [("1", DiskLayout.TableType.gpt), ("1:EE", DiskLayout.TableType.mbr)])
  func hybrids(option: String, esxiType: DiskLayout.TableType) throws {
    let scratch = try ScratchDirectory("sgdisk-hybrid")
    let path = try scratch.sparseFile("disk.img", size: 1 << 20)
    let sgdisk = toolPath("sgdisk")!
    let made = try runTool(
      sgdisk, ["-a", "1", "-o", "-n", "1:64:127", "-t", "1:ef00", "-n", "2:128:191", "-t", "2:0700", path])
    try #require(made.status == 0)
    try #require(try runTool(sgdisk, ["-h", option, path]).status == 0)
    let layout = try PartitionTable.read(from: TestFileSource(path: path))
    #expect(layout.type == esxiType)
    #expect(layout.linuxType == .gpt)
    if esxiType == .gpt {
      #expect(layout.esxiBootable)
      let kinds = layout.structure(StructureVerdict.protectiveMBR)?.findings.map(\.kind) ?? []
      #expect(kinds.contains("hybridMBR"))
      #expect(kinds.contains("badSizeInLBA"))  // the 0xEE record covers only LBA 1-63
      #expect(layout.partitions.map(\.number) == [1, 2])
    } else {
      // The loader reads the MBR records (ESP first, then 0xEE): it can read this table, and
      // finds the ESP only; that Linux reads a GPT instead is the error.
      #expect(layout.esxiBootable)
      #expect(layout.findings.contains { $0.kind == "esxiSeesMBR" && $0.severity == .error })
      #expect(layout.partitions.map(\.mbrType) == [0xEF, 0xEE])
      #expect(layout.linuxPartitions?.map(\.number) == [1, 2])
      let finding = layout.structure(StructureVerdict.protectiveMBR)?.findings.first { $0.kind == "badOSType" }
      #expect(finding?.offset == 0x1C2)
    }
  }
}
