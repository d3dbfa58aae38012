import DiskFormat
import Foundation
import PartitionTable
import TestSupport
import Testing

/// GPT disks made by sgdisk on sparse temporary files, read by us and by sgdisk.
@Suite("sgdisk as oracle", .enabled(if: toolPath("sgdisk") != nil, "sgdisk (gdisk package) is not installed"))
struct SgdiskOracleTests {
  /// The ESXi 6.x installer's layout on an 8 GiB sparse file, at the installer's LBAs
  /// (`-a 1`: no alignment), with the VMware type GUIDs and the installer's names.
  static let esxi6Arguments = [
    "-a", "1", "-o",
    "-n", "1:64:8191", "-t", "1:C12A7328-F81F-11D2-BA4B-00A0C93EC93B", "-c", "1:BOOT",
    "-n", "5:8224:520191", "-t", "5:EBD0A0A2-B9E5-4433-87C0-68B6B72699C7", "-c", "5:BANK1",
    "-n", "6:520224:1032191", "-t", "6:EBD0A0A2-B9E5-4433-87C0-68B6B72699C7", "-c", "6:BANK2",
    "-n", "7:1032224:1257471", "-t", "7:9D275380-40AD-11DB-BF97-000C2911D1B8", "-c", "7:DUMP",
    "-n", "8:1257504:1843199", "-t", "8:EBD0A0A2-B9E5-4433-87C0-68B6B72699C7", "-c", "8:STORE",
    "-n", "9:1843200:7086079", "-t", "9:9D275380-40AD-11DB-BF97-000C2911D1B8",
    "-n", "2:7086080:15472639", "-t", "2:EBD0A0A2-B9E5-4433-87C0-68B6B72699C7",
    "-n", "3:15472640:0", "-t", "3:AA31E02A-400F-11DB-9590-000C2911D1B8",
    "-A", "1:set:2", "-A", "5:set:63", "-A", "6:set:0",
  ]

  func makeDisk(_ scratch: ScratchDirectory, size: Int64 = 8 << 30, arguments: [String] = esxi6Arguments) throws
    -> String
  {
    let path = try scratch.sparseFile("disk.img", size: size)
    let result = try runTool(toolPath("sgdisk")!, arguments + [path])
    try #require(result.status == 0, "sgdisk: \(result.stderr)")
    return path
  }

  /// `sgdisk -i N` for each partition number in `sgdisk -p`.
  struct SgdiskPartition: Equatable {
    var number = 0, first: UInt64 = 0, last: UInt64 = 0, attributes: UInt64 = 0
    var type = "", typeName = "", unique = "", name = ""
  }

  func sgdiskPartitions(_ path: String) throws -> [SgdiskPartition] {
    let sgdisk = toolPath("sgdisk")!
    let table = try runTool(sgdisk, ["-p", path]).stdout
    var numbers = [Int]()
    var inTable = false
    for line in table.split(separator: "\n") {
      if line.hasPrefix("Number") {
        inTable = true
        continue
      }
      if inTable, let n = line.split(separator: " ").first.flatMap({ Int($0) }) { numbers.append(n) }
    }
    return try numbers.sorted().map { number in
      var p = SgdiskPartition(number: number)
      for line in try runTool(sgdisk, ["-i", "\(number)", path]).stdout.split(separator: "\n") {
        let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2 else { continue }
        let value = parts[1]
        switch parts[0] {
        case "Partition GUID code":
          p.type = String(value.prefix(36))
          p.typeName = String(value.dropFirst(38).dropLast())
        case "Partition unique GUID": p.unique = value
        case "First sector": p.first = UInt64(value.split(separator: " ")[0]) ?? 0
        case "Last sector": p.last = UInt64(value.split(separator: " ")[0]) ?? 0
        case "Attribute flags": p.attributes = UInt64(value, radix: 16) ?? 0
        case "Partition name": p.name = String(value.dropFirst().dropLast())
        default: break
        }
      }
      return p
    }
  }

  static func ours(_ partitions: [Partition]) -> [SgdiskPartition] {
    partitions.map {
      SgdiskPartition(
        number: $0.number, first: $0.firstLBA, last: $0.lastLBA, attributes: $0.attributes,
        type: $0.typeGUID?.description ?? "",
        typeName: "", unique: $0.uniqueGUID?.description ?? "", name: $0.name)
    }
  }

  @Test("the ESXi 6.x layout sgdisk writes reads back field for field")
  func esxi6Layout() throws {
    let scratch = try ScratchDirectory("sgdisk")
    let path = try makeDisk(scratch)
    let layout = try PartitionTable.read(from: TestFileSource(path: path))
    #expect(layout.type == .gpt && layout.esxiBootable && !layout.hasErrors, "\(layout.allFindings.map(\.message))")
    let theirs = try sgdiskPartitions(path)
    var stripped = theirs
    for i in stripped.indices { stripped[i].typeName = "" }
    #expect(Self.ours(layout.partitions) == stripped)
    #expect(layout.partitions.map(\.number) == [1, 2, 3, 5, 6, 7, 8, 9])
    #expect(layout.partition(1)?.bootable == true)
    #expect(layout.partition(7)?.typeName == "vmkDiagnostic")
    #expect(layout.partition(3)?.typeName == "VMFS")
    #expect(layout.partition(3)?.lastLBA == (8 << 30) / 512 - 34)
    #expect(layout.partition(6)?.attributeNames == ["RequiredPartition"])
    #expect(layout.partition(5)?.attributeNames == ["GUID:63"])
    // sgdisk's names where it has them.
    for (p, s) in zip(layout.partitions, theirs)
    where ![PartitionType.vmkDiagnostic, PartitionType.vmfs].contains(p.typeGUID?.description ?? "") {
      #expect(p.typeName == s.typeName)
    }
  }

  @Test("the ESXi 7.x layout (4 GiB banks, ESX-OSData) on a 16 GiB sparse file")
  func esxi7Layout() throws {
    let scratch = try ScratchDirectory("sgdisk7")
    let path = try makeDisk(
      scratch, size: 16 << 30,
      arguments: [
        "-a", "1", "-o",
        "-n", "1:64:204863", "-t", "1:C12A7328-F81F-11D2-BA4B-00A0C93EC93B", "-c", "1:BOOT",
        "-n", "5:208896:8595455", "-t", "5:EBD0A0A2-B9E5-4433-87C0-68B6B72699C7", "-c", "5:BOOTBANK1",
        "-n", "6:8597504:16984063", "-t", "6:EBD0A0A2-B9E5-4433-87C0-68B6B72699C7", "-c", "6:BOOTBANK2",
        "-n", "7:16986112:33554398", "-t", "7:4EB2EA39-7855-4790-A79E-FAE495E21F8D", "-c", "7:OSDATA",
      ])
    let layout = try PartitionTable.read(from: TestFileSource(path: path))
    #expect(layout.type == .gpt && layout.esxiBootable && !layout.hasErrors, "\(layout.allFindings.map(\.message))")
    var theirs = try sgdiskPartitions(path)
    for i in theirs.indices { theirs[i].typeName = "" }
    #expect(Self.ours(layout.partitions) == theirs)
    #expect(layout.partitions.map(\.name) == ["BOOT", "BOOTBANK1", "BOOTBANK2", "OSDATA"])
    #expect(layout.partition(7)?.typeName == "VMFS-L (ESX-OSData)")
    #expect(layout.partition(5)?.sizeBytes == UInt64(8_595_455 - 208_896 + 1) * 512)  // 4 GiB less the 1 MiB gap
  }

  /// sgdisk -v prints "Main header: OK|ERROR" and the like when any CRC is off.
  func sgdiskCRCVerdicts(_ path: String) throws -> [String: Bool] {
    let result = try runTool(toolPath("sgdisk")!, ["-v", path])
    var verdicts = [
      "Main header": true, "Backup header": true, "Main partition table": true, "Backup partition table": true,
    ]
    for line in (result.stdout + "\n" + result.stderr).split(separator: "\n") {
      for key in verdicts.keys where line.hasPrefix(key + ": ") { verdicts[key] = line.hasSuffix("OK") }
    }
    return verdicts
  }

  @Test(
    "per-structure CRC verdicts agree with sgdisk -v",
    arguments: [
      ("nothing", Int64(-1)),
      ("primary header CRC", Int64(512 + 0x10)),
      ("primary entry array", Int64(1024 + 0x38)),
      ("backup header CRC", Int64(2047 * 512 + 0x10)),
      ("backup entry array", Int64(2015 * 512 + 0x38)),
    ])
  func crcVerdicts(what: String, offset: Int64) throws {
    let scratch = try ScratchDirectory("sgdisk-v")
    let path = try makeDisk(
      scratch, size: 1 << 20,
      arguments: [
        "-a", "1", "-o", "-n", "1:64:127", "-t", "1:ef00", "-c", "1:BOOT", "-n", "5:128:191", "-t", "5:0700", "-c",
        "5:BANK1",
      ])
    if offset >= 0 {
      let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
      try handle.seek(toOffset: UInt64(offset))
      let byte = try handle.read(upToCount: 1) ?? Data([0])
      try handle.seek(toOffset: UInt64(offset))
      handle.write(Data([byte[0] ^ 0xFF]))
      try handle.close()
    }
    let sgdisk = try sgdiskCRCVerdicts(path)
    let layout = try PartitionTable.read(from: TestFileSource(path: path))
    #expect(layout.structure(StructureVerdict.primaryHeader)?.ok == sgdisk["Main header"])
    #expect(layout.structure(StructureVerdict.primaryEntries)?.ok == sgdisk["Main partition table"])
    #expect(layout.structure(StructureVerdict.backupHeader)?.ok == sgdisk["Backup header"])
    #expect(layout.structure(StructureVerdict.backupEntries)?.ok == sgdisk["Backup partition table"])
    let primaryOK = sgdisk["Main header"] == true && sgdisk["Main partition table"] == true
    #expect(layout.esxiBootable == primaryOK)
    // Whatever sgdisk lists (it falls back to the backup), Linux's view here is the same.
    let theirs = try sgdiskPartitions(path).map { $0.number }
    #expect((layout.linuxPartitions ?? layout.partitions).map(\.number) == theirs)
    if !primaryOK {
      #expect(
        layout.findings.contains { $0.kind == "primaryGPTBadBackupGood" && $0.message.contains("NOT bootable by ESXi") }
      )
    }
  }

  @Test("an image truncated after sgdisk wrote it: findings, no read past the end")
  func truncatedImage() throws {
    let scratch = try ScratchDirectory("sgdisk-trunc")
    let path = try makeDisk(
      scratch, size: 1 << 20, arguments: ["-a", "1", "-o", "-n", "1:64:2000", "-t", "1:ef00"])
    let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
    try handle.truncate(atOffset: 512 * 1000)
    try handle.close()
    let layout = try PartitionTable.read(from: TestFileSource(path: path))
    #expect(layout.type == .gpt)
    // The primary header and its entry array (LBA 1-33) are inside the image and pass the only
    // checks esx-boot's gpt_read_header() makes: the loader reads the table; the partition
    // running past the end is a finding, not the loader's business.
    #expect(layout.esxiBootable)
    #expect(layout.loader.volumes.map(\.number) == [1])
    #expect(layout.findings.contains { $0.kind == "noSoundGPT" })
    let primary = layout.structure(StructureVerdict.primaryHeader)?.findings ?? []
    #expect(primary.contains { $0.kind == "badAlternateLBA" && $0.message.contains("shorter than the table claims") })
    #expect(
      layout.structure(StructureVerdict.primaryEntries)?.findings.contains { $0.kind == "partitionPastEnd" } == true)
    #expect(layout.structure(StructureVerdict.backupHeader)?.ok == false)
  }
}
