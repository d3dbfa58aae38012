import DiskFormat
import DiskIO
import Foundation
import PartitionTable
import TestSupport
import Testing

/// The writes that rewrite boot.cfg through its FAT (mark --rewrite, set-next when `updated`
/// gains a digit) and repair-gpt --fix-pmbr, end to end through the built binary, checked with
/// mtools, fsck.fat -n, sgdisk -v and status.
@Suite("boot.cfg rewrites and the protective MBR")
struct RewriteCommandTests {
  static let available = WriteCommandTests.available && hasTool("fsck.fat") && hasTool("mcopy")
  static let reason: Comment = "needs images/ (make images), mtools, fsck.fat and sgdisk"

  /// fsck.fat -n on partition `number` of `image`, copied out with dd.
  static func fsck(_ image: String, partition number: Int, sectorSize: Int = 512, in dir: ScratchDirectory) throws
    -> ProcessResult
  {
    let part = try WriteCommandTests.partition(number, in: image, sectorSize: sectorSize)
    let copy = dir.path("p\(number).img")
    return try run(
      "sh",
      [
        "-c",
        "dd if=\"$0\" bs=\(sectorSize) skip=\(part.offsetBytes / UInt64(sectorSize)) count=\(part.sizeBytes / UInt64(sectorSize)) status=none of=\"$1\" && fsck.fat -n \"$1\"",
        image, copy,
      ])
  }

  static func sgdiskClean(_ image: String) throws -> (Bool, String) {
    let verify = try run("sh", ["-c", "sgdisk -v \"$0\" 2>&1", image]).text
    return (
      verify.contains("No problems found") && !verify.contains("Caution") && !verify.contains("Warning"), verify
    )
  }

  /// Replaces every bank's boot.cfg of `image` with `transform(old)`, with mcopy.
  static func edit(_ image: String, partitions: [Int], _ transform: (String) -> String, in dir: ScratchDirectory)
    throws
  {
    for number in partitions {
      let offset = try WriteCommandTests.offset(of: number, in: image)
      let spec = "\(image)@@\(offset)"
      let file = dir.path("edit\(number).cfg")
      try transform(try run("mtype", ["-i", spec, "::/boot.cfg"]).text).write(
        toFile: file, atomically: true, encoding: .utf8)
      #expect(try run("mcopy", ["-o", "-i", spec, file, "::/boot.cfg"]).status == 0)
    }
  }

  static func plannedNext(_ arguments: [String]) throws -> Int? {
    let (_, json) = try BootbankBinary.json(arguments + ["--dry-run"])
    let plan = json["plan"] as? [String: Any]
    return (plan?["after"] as? [String: Any])?["next"] as? Int
  }

  @Test(.enabled(if: available, reason))
  func markRewriteMovesBootstateFirstAndKeepsEveryOtherLine() throws {
    let dir = try ScratchDirectory("rewrite")
    let image = try WriteCommandTests.copy("esxi7-bootstate-late-valid.img", into: dir)
    let old = try WriteCommandTests.bootConfig(image, partition: 6)
    #expect(!old.hasPrefix("bootstate="))
    let before = try WriteCommandTests.sha256(image)

    // Without --rewrite: refused, nothing written.
    let refused = try BootbankBinary.run([
      "mark", image, "--bank", "6", "--state", "invalid", "--yes", "--undo", dir.path("r.json"),
    ])
    #expect(refused.status == 2, "\(refused.text)")
    #expect(refused.text.contains("--rewrite"))
    #expect(try WriteCommandTests.sha256(image) == before)

    let arguments = ["mark", image, "--bank", "6", "--state", "upgrading", "--rewrite"]
    let planned = try Self.plannedNext(arguments)
    let result = try BootbankBinary.run(arguments + ["--yes", "--undo", dir.path("m.json")])
    #expect(result.status == 0, "\(result.text)\(result.stderr)")
    #expect(result.text.contains("directory entry"))
    #expect(result.text.contains("read back from the medium and equal"))

    let new = try WriteCommandTests.bootConfig(image, partition: 6)
    #expect(new.hasPrefix("bootstate=1\n"))
    let kept = old.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("bootstate=") }
    #expect(Array(new.split(separator: "\n", omittingEmptySubsequences: false).dropFirst()) == kept)
    let fsck = try Self.fsck(image, partition: 6, in: dir)
    #expect(fsck.status == 0, "\(fsck.text)\(fsck.stderr)")
    let (clean, verify) = try Self.sgdiskClean(image)
    #expect(clean, "\(verify)")
    #expect(try WriteCommandTests.next(image) == planned)
    let bank = (try WriteCommandTests.status(image)["banks"] as? [[String: Any]])?.first {
      $0["partition"] as? Int == 6
    }
    #expect(bank?["bootstate"] as? Int == 1)

    // Now the writer finds it: a second mark is one sector in place.
    let (_, again) = try BootbankBinary.json(["mark", image, "--bank", "6", "--state", "valid", "--dry-run"])
    let steps = ((again["plan"] as? [String: Any])?["steps"] as? [[String: Any]]) ?? []
    #expect(steps.filter { $0["kind"] as? String == "write" }.count == 1)

    // The undo puts every byte back.
    let undone = try BootbankBinary.run(["undo", dir.path("m.json"), image, "--yes", "--undo", dir.path("u.json")])
    #expect(undone.status == 0, "\(undone.text)\(undone.stderr)")
    #expect(try WriteCommandTests.sha256(image) == before)
  }

  @Test(.enabled(if: available, reason), arguments: [false, true])
  func setNextWhenUpdatedGainsADigit(trial: Bool) throws {
    let dir = try ScratchDirectory("rewrite")
    let image = try WriteCommandTests.copy("esxi7.img", into: dir)
    try Self.edit(
      image, partitions: [5, 6],
      {
        $0.split(separator: "\n", omittingEmptySubsequences: false).map {
          $0.hasPrefix("updated=") ? "updated=9" : String($0)
        }.joined(separator: "\n")
      }, in: dir)
    // A tie: the lower partition boots.
    #expect(try WriteCommandTests.next(image) == 5)
    let old = try WriteCommandTests.bootConfig(image, partition: 6)
    var arguments = ["set-next", image, "--bank", "6"]
    if trial { arguments.append("--trial") }
    let planned = try Self.plannedNext(arguments)
    #expect(planned == 6)
    let result = try BootbankBinary.run(arguments + ["--yes", "--undo", dir.path("s.json")])
    #expect(result.status == 0, "\(result.text)\(result.stderr)")
    #expect(result.text.contains("updated 9 → 10"))
    let new = try WriteCommandTests.bootConfig(image, partition: 6)
    #expect(new.contains("\nupdated=10"))
    #expect(new.hasPrefix("bootstate=\(trial ? 1 : 0)\n"))
    #expect(new.utf8.count == old.utf8.count + 1)
    let rest = { (text: String) in
      text.split(separator: "\n", omittingEmptySubsequences: false).filter {
        !$0.hasPrefix("bootstate=") && !$0.hasPrefix("updated=")
      }
    }
    #expect(rest(new) == rest(old))
    let fsck = try Self.fsck(image, partition: 6, in: dir)
    #expect(fsck.status == 0, "\(fsck.text)\(fsck.stderr)")
    let (clean, verify) = try Self.sgdiskClean(image)
    #expect(clean, "\(verify)")
    #expect(try WriteCommandTests.next(image) == planned)
  }

  @Test(
    .enabled(if: available, reason),
    arguments: ["esxi7-pmbr-bootflag.img", "esxi7-hybrid-mbr.img"])
  func fixPMBRWritesTheOneTheLoaderAccepts(image name: String) throws {
    let dir = try ScratchDirectory("pmbr")
    let image = try WriteCommandTests.copy(name, into: dir)
    #expect(try WriteCommandTests.next(image) == nil)
    let before = try WriteCommandTests.sha256(image)
    // Without --fix-pmbr: nothing to write, and the plan says what would fix it.
    let plain = try BootbankBinary.run(["repair-gpt", image, "--yes", "--undo", dir.path("p.json")])
    #expect(plain.status == 0, "\(plain.text)")
    #expect(plain.text.contains("--fix-pmbr"))
    #expect(try WriteCommandTests.sha256(image) == before)

    let result = try BootbankBinary.run(["repair-gpt", image, "--fix-pmbr", "--yes", "--undo", dir.path("f.json")])
    #expect(result.status == 0, "\(result.text)\(result.stderr)")
    #expect(result.text.contains("protective MBR"))
    let (clean, verify) = try Self.sgdiskClean(image)
    #expect(clean, "\(verify)")
    #expect(try WriteCommandTests.next(image) == 6)
    // Record 1 as the loader wants it, read with sfdisk-independent bytes: type 0xEE at LBA 1, flag 0.
    let sector = try [UInt8](Data(contentsOf: URL(fileURLWithPath: image), options: .alwaysMapped).prefix(512))
    #expect(sector[446] == 0 && sector[450] == 0xEE && sector[454] == 1 && sector[510] == 0x55 && sector[511] == 0xAA)
    #expect(sector[462..<510].allSatisfy { $0 == 0 })
    let again = try BootbankBinary.run(["repair-gpt", image, "--fix-pmbr", "--yes", "--undo", dir.path("g.json")])
    #expect(again.status == 0)
    #expect(again.text.contains("nothing to write"))
  }

  @Test(.enabled(if: available, reason))
  func fixPMBRRefusesARealMBR() throws {
    let dir = try ScratchDirectory("pmbr")
    let image = try WriteCommandTests.copy("esxi7.img", into: dir)
    // Record 1 turned into a FAT32 partition: an MBR table, not a protective MBR.
    let handle = try FileHandle(forUpdating: URL(fileURLWithPath: image))
    try handle.seek(toOffset: 450)
    try handle.write(contentsOf: Data([0x0C]))
    try handle.close()
    let before = try WriteCommandTests.sha256(image)
    let result = try BootbankBinary.run(["repair-gpt", image, "--fix-pmbr", "--yes", "--undo", dir.path("r.json")])
    #expect(result.status == 2, "\(result.text)")
    #expect(result.text.contains("real table"))
    #expect(try WriteCommandTests.sha256(image) == before)
  }

  // MARK: Loop devices

  /// The rewrites on loop devices of both sector sizes: read back with O_DIRECT, then fsck.fat,
  /// sgdisk and status on the device.
  @Test(
    .enabled(if: available && loopDevicesAvailable, "needs root, loop devices, images/, mtools"),
    arguments: [("esxi7.img", 512), ("esxi7-4kn.img", 4096)])
  func rewritesOnALoopDevice(image name: String, sectorSize: Int) throws {
    let dir = try ScratchDirectory("looprewrite")
    let image = try WriteCommandTests.copy(name, into: dir)
    for number in [5, 6] {
      let offset = try WriteCommandTests.offset(of: number, in: image, sectorSize: sectorSize)
      let spec = "\(image)@@\(offset)"
      let file = dir.path("b\(number).cfg")
      let text = try run("mtype", ["-i", spec, "::/boot.cfg"]).text
      try text.split(separator: "\n", omittingEmptySubsequences: false).map {
        $0.hasPrefix("updated=") ? "updated=9" : String($0)
      }.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
      #expect(try run("mcopy", ["-o", "-i", spec, file, "::/boot.cfg"]).status == 0)
    }
    try WriteCommandTests.withPartitionedLoop(image, sectorSize: sectorSize) { device in
      let planned = try Self.plannedNext(["set-next", device, "--bank", "6"])
      #expect(planned == 6)
      let result = try BootbankBinary.run(["set-next", device, "--bank", "6", "--yes", "--undo", dir.path("s.json")])
      #expect(result.status == 0, "\(result.text)\(result.stderr)")
      #expect(result.text.contains("directory entry"))
      #expect(try WriteCommandTests.next(device) == planned)
      let (clean, verify) = try Self.sgdiskClean(device)
      #expect(clean, "\(verify)")
    }
    #expect(try WriteCommandTests.bootConfig(image, partition: 6, sectorSize: sectorSize).contains("updated=10"))
    let fsck = try Self.fsck(image, partition: 6, sectorSize: sectorSize, in: dir)
    #expect(fsck.status == 0, "\(fsck.text)\(fsck.stderr)")
  }

  // MARK: Loop devices: a mounted partition, a held device

  /// The node of partition `number` of a loop device: `/dev/loopNpM`, or where no udev made it,
  /// one made here with mknod from sysfs (removed with the scratch directory).
  static func partitionNode(_ device: String, _ number: Int, in dir: ScratchDirectory) throws -> String {
    let node = device + "p\(number)"
    if FileManager.default.fileExists(atPath: node) { return node }
    let name = (node as NSString).lastPathComponent
    // Where the kernel's own scan found nothing, partx adds the partitions (BLKPG).
    if !FileManager.default.fileExists(atPath: "/sys/class/block/\(name)") {
      _ = try run("partx", ["--add", device])
    }
    let numbers = try String(contentsOfFile: "/sys/class/block/\(name)/dev", encoding: .utf8)
      .trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ":")
    let made = dir.path(name)
    let result = try run("mknod", [made, "b", String(numbers[0]), String(numbers[1])])
    guard result.status == 0 else { throw CommandFailed(message: "mknod: \(result.stderr)") }
    return made
  }

  /// dmsetup works only where the kernel has device-mapper.
  static let deviceMapper: Bool =
    loopDevicesAvailable && FileManager.default.fileExists(atPath: "/dev/mapper/control")
    && (try? run("dmsetup", ["version"]).status) == 0

  @Test(
    .enabled(if: available && loopDevicesAvailable, "needs root, loop devices, images/, mtools"),
    arguments: [("esxi7.img", 512), ("esxi7-4kn.img", 4096)])
  func aMountedPartitionOfTheLoopDeviceIsRefused(image name: String, sectorSize: Int) throws {
    let dir = try ScratchDirectory("loopmount")
    let image = try WriteCommandTests.copy(name, into: dir)
    var before = ""
    let mountPoint = dir.path("mnt")
    try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
    // The bank itself (vfat) where the kernel mounts FAT; else the OSDATA partition made ext2
    // first (the refusal is the same: a partition of the device is mounted).
    let vfat = (try? String(contentsOfFile: "/proc/filesystems", encoding: .utf8))?.contains("vfat") == true
    try WriteCommandTests.withPartitionedLoop(image, sectorSize: sectorSize) { device in
      let partition = try Self.partitionNode(device, vfat ? 5 : 7, in: dir)
      if !vfat { try #require(try run("mkfs.ext2", ["-q", "-F", partition]).status == 0) }
      before = try WriteCommandTests.sha256(image)
      let mounted = try run("mount", ["-t", vfat ? "vfat" : "ext2", "-o", "ro", partition, mountPoint])
      try #require(mounted.status == 0, "mount: \(mounted.stderr)")
      defer { _ = try? run("umount", [mountPoint]) }
      for arguments in [
        ["mark", device, "--bank", "6", "--state", "invalid"],
        ["set-next", device, "--bank", "altbootbank"],
        ["repair-gpt", device, "--fix-pmbr"],
      ] {
        let result = try BootbankBinary.run(arguments + ["--yes", "--undo", dir.path("m.json")])
        #expect(result.status == 2 || (arguments[0] == "repair-gpt" && result.status == 0), "\(result.text)")
        if arguments[0] != "repair-gpt" {
          #expect(result.stderr.contains("mounted"), "\(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.path("m.json")))
      }
    }
    #expect(try WriteCommandTests.sha256(image) == before)
  }

  @Test(
    .enabled(if: available && deviceMapper, "needs root, loop devices and a kernel with device-mapper (dmsetup)"),
    arguments: [("esxi7.img", 512), ("esxi7-4kn.img", 4096)])
  func aDeviceHeldByADeviceMapperTargetIsRefused(image name: String, sectorSize: Int) throws {
    let dir = try ScratchDirectory("loopheld")
    let image = try WriteCommandTests.copy(name, into: dir)
    let before = try WriteCommandTests.sha256(image)
    try WriteCommandTests.withPartitionedLoop(image, sectorSize: sectorSize) { device in
      let partition = try Self.partitionNode(device, 6, in: dir)
      let sectors = try run("blockdev", ["--getsz", partition]).text.trimmingCharacters(in: .whitespacesAndNewlines)
      let name = "bootbank-test-\(getpid())"
      let created = try run("dmsetup", ["create", name, "--table", "0 \(sectors) linear \(partition) 0"])
      try #require(created.status == 0, "dmsetup: \(created.stderr)")
      defer { _ = try? run("dmsetup", ["remove", "--retry", name]) }
      let result = try BootbankBinary.run([
        "mark", device, "--bank", "6", "--state", "invalid", "--yes", "--undo", dir.path("h.json"),
      ])
      #expect(result.status == 2, "\(result.text)")
      #expect(result.stderr.contains("held by"), "\(result.stderr)")
      #expect(!FileManager.default.fileExists(atPath: dir.path("h.json")))
    }
    #expect(try WriteCommandTests.sha256(image) == before)
  }
}
