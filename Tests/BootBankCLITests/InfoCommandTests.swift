import Foundation
import TestSupport
import Testing

/// `bootbank info` through the built binary, on devices made by sgdisk and mkfs.fat.
@Suite("bootbank info")
struct InfoCommandTests {
  /// A 64 MiB GPT disk like a small ESXi 7 device: ESP, two basic-data FAT16 banks with the
  /// VMware marker in sector 1.
  static func makeDisk(in dir: ScratchDirectory, sectorSize: Int = 512) throws -> String {
    let path = try dir.sparseFile("disk.img", size: 64 << 20)
    if sectorSize == 512 {
      try #require(
        try run(
          "sgdisk",
          [
            "-n", "1:64:8191", "-t", "1:EF00", "-c", "1:BOOT",
            "-n", "5:8192:40959", "-t", "5:0700", "-c", "5:BOOTBANK1",
            "-n", "6:40960:122879", "-t", "6:0700", "-c", "6:BOOTBANK2", path,
          ]
        ).status == 0)
    } else {
      // 4Kn: sgdisk must see a 4096-byte device to lay the table out in 4096-byte LBAs.
      try withLoopDevice(URL(fileURLWithPath: path), sectorSize: 4096, readOnly: false) { device in
        try #require(
          try run(
            "sgdisk",
            [
              "-n", "1:8:1023", "-t", "1:EF00", "-c", "1:BOOT",
              "-n", "5:1024:9215", "-t", "5:0700", "-c", "5:BOOTBANK1",
              "-n", "6:9216:15359", "-t", "6:0700", "-c", "6:BOOTBANK2", device,
            ]
          ).status == 0)
      }
    }
    // Format bank 5 and give it the VMware marker in its second sector.
    let bankStart = (sectorSize == 512 ? 8192 : 1024) * sectorSize
    let bankBytes = (sectorSize == 512 ? 32768 : 8192) * sectorSize
    let bank = dir.path("bank.img")
    try #require(try run("truncate", ["-s", String(bankBytes), bank]).status == 0)
    try #require(
      try run(
        "mkfs.fat",
        [
          "-F", "16", "-s", "1", "-R", "4", "-S", String(sectorSize), "-n", "BANK1", "-i", "12345678", "--invariant",
          bank,
        ]
      ).status == 0)
    var marker = Array("VMWARE FAT16    ".utf8)
    marker += (0..<16).map { UInt8($0 * 17) }
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: bank))
    try handle.seek(toOffset: UInt64(sectorSize))
    try handle.write(contentsOf: Data(marker))
    try handle.close()
    try #require(
      try run(
        "dd",
        [
          "if=\(bank)", "of=\(path)", "bs=1M", "seek=\(bankStart)", "oflag=seek_bytes", "conv=notrunc,sparse",
          "status=none",
        ]
      ).status == 0)
    return path
  }

  /// Flips one byte of a file in place.
  static func flip(_ path: String, at offset: UInt64) throws {
    let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
    try handle.seek(toOffset: offset)
    let byte = try handle.read(upToCount: 1)?.first ?? 0
    try handle.seek(toOffset: offset)
    try handle.write(contentsOf: Data([byte ^ 0xFF]))
    try handle.close()
  }

  @Test func aHealthyDiskShowsEveryPartitionAndTheBankMarker() throws {
    let dir = try ScratchDirectory("info")
    let disk = try Self.makeDisk(in: dir)
    let (status, json) = try BootbankBinary.json(["info", disk])
    #expect(status == 0)
    let target = json["target"] as? [String: Any]
    #expect(target?["kind"] as? String == "file")
    #expect(target?["sectorSize"] as? Int == 512)
    #expect(target?["sizeBytes"] as? Int == 64 << 20)
    let table = json["table"] as? [String: Any]
    #expect(table?["type"] as? String == "gpt")
    #expect(table?["esxiBootable"] as? Bool == true)
    let structures = table?["structures"] as? [[String: Any]] ?? []
    #expect(
      structures.map { $0["name"] as? String ?? "" } == [
        "protective MBR", "primary GPT header", "primary GPT entries", "backup GPT header", "backup GPT entries",
      ])
    #expect(structures.allSatisfy { $0["ok"] as? Bool == true })
    let partitions = json["partitions"] as? [[String: Any]] ?? []
    #expect(partitions.map { $0["number"] as? Int ?? 0 } == [1, 5, 6])
    #expect(partitions.map { $0["name"] as? String ?? "" } == ["BOOT", "BOOTBANK1", "BOOTBANK2"])
    #expect(partitions[0]["typeGUID"] as? String == "C12A7328-F81F-11D2-BA4B-00A0C93EC93B")
    #expect(partitions[1]["typeGUID"] as? String == "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7")
    #expect(partitions[1]["firstLBA"] as? Int == 8192)
    #expect(partitions[1]["lastLBA"] as? Int == 40959)
    let fs = partitions[1]["filesystem"] as? [String: Any]
    #expect(fs?["type"] as? String == "FAT16")
    #expect(fs?["label"] as? String == "BANK1")
    #expect(partitions[1]["vmwareUUID"] as? String == "00112233445566778899aabbccddeeff")
    #expect(partitions[1]["vmwareVolumesUUID"] as? String == "33221100-77665544-9988-aabbccddeeff")
    #expect(partitions[0]["filesystem"] is NSNull)
    #expect(partitions[2]["vmwareUUID"] is NSNull)
  }

  @Test func aBadPrimaryGPTIsNotBootableByESXiAndSaysSoLoudly() throws {
    let dir = try ScratchDirectory("info-bad-primary")
    let disk = try Self.makeDisk(in: dir)
    try Self.flip(disk, at: 512 + 0x10)  // HeaderCRC32 of the primary header
    let result = try BootbankBinary.run(["info", disk])
    #expect(result.status == 1)
    #expect(result.text.contains("NOT bootable by ESXi"))
    #expect(result.text.contains("HeaderCRC32 at byte 0x210"))
    let (_, json) = try BootbankBinary.json(["info", disk])
    let table = json["table"] as? [String: Any]
    #expect(table?["esxiBootable"] as? Bool == false)
    let primary = (table?["structures"] as? [[String: Any]])?.first { $0["name"] as? String == "primary GPT header" }
    #expect(primary?["ok"] as? Bool == false)
    let finding = (primary?["findings"] as? [[String: Any]])?.first
    #expect(finding?["severity"] as? String == "error")
    #expect(finding?["offset"] as? Int == 0x210)
  }

  @Test func aBadBackupAloneIsAWarningAndStillBootable() throws {
    let dir = try ScratchDirectory("info-bad-backup")
    let disk = try Self.makeDisk(in: dir)
    try Self.flip(disk, at: UInt64((64 << 20) - 512 + 0x10))
    let (status, json) = try BootbankBinary.json(["info", disk])
    #expect(status == 1)
    let table = json["table"] as? [String: Any]
    #expect(table?["esxiBootable"] as? Bool == true)
    let backup = (table?["structures"] as? [[String: Any]])?.first { $0["name"] as? String == "backup GPT header" }
    #expect(backup?["ok"] as? Bool == false)
    #expect((backup?["findings"] as? [[String: Any]])?.allSatisfy { $0["severity"] as? String == "warning" } == true)
  }

  @Test func aTruncatedImageIsReportedNotReadPast() throws {
    let dir = try ScratchDirectory("info-truncated")
    let disk = try Self.makeDisk(in: dir)
    try #require(try run("truncate", ["-s", String(20 << 20), disk]).status == 0)
    let (status, json) = try BootbankBinary.json(["info", disk])
    #expect(status == 1)
    let text = String(describing: json)
    #expect(text.contains("error"))
  }

  @Test("unreadable targets exit 2 with a message naming them", arguments: ["empty", "directory", "missing"])
  func unreadableTargets(kind: String) throws {
    let dir = try ScratchDirectory("info-unreadable")
    let path: String
    switch kind {
    case "empty": path = try dir.sparseFile("empty.img", size: 0)
    case "directory": path = dir.url.path
    default: path = dir.path("missing.img")
    }
    let result = try BootbankBinary.run(["info", path])
    #expect(result.status == 2)
    #expect(result.stderr.contains(path))
  }

  @Test(.enabled(if: loopDevicesAvailable, "needs root and loop devices"), arguments: [512, 4096])
  func loopDevicesOfBothSectorSizes(sectorSize: Int) throws {
    let dir = try ScratchDirectory("info-loop")
    let disk = try Self.makeDisk(in: dir, sectorSize: sectorSize)
    try withLoopDevice(URL(fileURLWithPath: disk), sectorSize: sectorSize) { device in
      let (status, json) = try BootbankBinary.json(["info", device])
      #expect(status == 0)
      let target = json["target"] as? [String: Any]
      #expect(target?["kind"] as? String == "blockDevice")
      #expect(target?["sectorSize"] as? Int == sectorSize)
      #expect(target?["sectorSizeSource"] as? String == "device")
      let partitions = json["partitions"] as? [[String: Any]] ?? []
      #expect(partitions.map { $0["number"] as? Int ?? 0 } == [1, 5, 6])
      #expect((partitions[1]["filesystem"] as? [String: Any])?["type"] as? String == "FAT16")
      #expect(partitions[1]["vmwareUUID"] as? String == "00112233445566778899aabbccddeeff")
    }
    // The same bytes as a plain file: the 4K GPT is found at byte 4096 and used.
    let (_, json) = try BootbankBinary.json(["info", disk])
    let target = json["target"] as? [String: Any]
    #expect(target?["sectorSize"] as? Int == sectorSize)
    if sectorSize == 4096 { #expect(target?["sectorSizeSource"] as? String == "gptHeaderFoundOnlyAtOtherSize") }
  }
}
