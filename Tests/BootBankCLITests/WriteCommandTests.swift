import DiskFormat
import DiskIO
import Foundation
import PartitionTable
import TestSupport
import Testing

/// The writing commands end to end, through the built binary, on copies of generated images,
/// checked with independent tools (mtools, fsck.fat, sgdisk, sha256sum).
struct CommandFailed: Error { var message: String }

@Suite("writing commands")
struct WriteCommandTests {
  static let available = TestPaths.fixture("esxi7.img") != nil && hasTool("mtype") && hasTool("sgdisk")
  static let reason: Comment = "needs images/ (make images), mtools and sgdisk"

  /// A sparse copy of a fixture.
  static func copy(_ name: String, into dir: ScratchDirectory) throws -> String {
    let path = dir.path(name)
    let result = try run("cp", ["--sparse=always", TestPaths.images.appendingPathComponent(name).path, path])
    guard result.status == 0 else { throw CommandFailed(message: "cp: \(result.stderr)") }
    return path
  }

  static func sha256(_ path: String) throws -> String {
    String(try run("sha256sum", [path]).text.prefix(64))
  }

  /// Byte offset of partition `number` in an image (at its GPT's sector size).
  static func offset(of number: Int, in path: String, sectorSize: Int = 512) throws -> UInt64 {
    try partition(number, in: path, sectorSize: sectorSize).offsetBytes
  }

  static func partition(_ number: Int, in path: String, sectorSize: Int = 512) throws -> Partition {
    let source = try Target(path: path, sectorSize: sectorSize)
    return try #require(try PartitionTable.read(from: source, sectorSize: sectorSize).partition(number))
  }

  static func bootConfig(_ path: String, partition: Int, sectorSize: Int = 512) throws -> String {
    let offset = try offset(of: partition, in: path, sectorSize: sectorSize)
    return try run("mtype", ["-i", "\(path)@@\(offset)", "::/boot.cfg"]).text
  }

  static func status(_ path: String) throws -> [String: Any] {
    try BootbankBinary.json(["status", path]).object
  }

  static func next(_ path: String) throws -> Int? {
    (try status(path)["next"] as? [String: Any])?["partition"] as? Int
  }

  @Test(.enabled(if: available, reason))
  func aDryRunPrintsThePlanAndWritesNothing() throws {
    let dir = try ScratchDirectory("write")
    let image = try Self.copy("esxi7.img", into: dir)
    let before = try Self.sha256(image)
    let text = try BootbankBinary.run(["mark", image, "--bank", "altbootbank", "--state", "invalid", "--dry-run"])
    #expect(text.status == 0, "\(text.stderr)")
    #expect(text.text.contains("Plan: mark on \(image)"))
    #expect(text.text.contains("barrier (fdatasync)"))
    #expect(text.text.contains("Loader's choice after:"))
    #expect(text.text.contains("Dry run: nothing written."))
    let (status, json) = try BootbankBinary.json(["mark", image, "--bank", "6", "--state", "invalid", "--dry-run"])
    #expect(status == 0)
    let plan = try #require(json["plan"] as? [String: Any])
    let steps = try #require(plan["steps"] as? [[String: Any]])
    #expect(steps.first?["kind"] as? String == "write")
    #expect((steps.first?["expectedSHA256"] as? String)?.count == 64)
    #expect(json["dryRun"] as? Bool == true)
    #expect(try Self.sha256(image) == before)
  }

  @Test(.enabled(if: available, reason))
  func withoutATerminalAndWithoutYesNothingIsWritten() throws {
    let dir = try ScratchDirectory("write")
    let image = try Self.copy("esxi7.img", into: dir)
    let before = try Self.sha256(image)
    let result = try BootbankBinary.run([
      "mark", image, "--bank", "6", "--state", "invalid", "--undo", dir.path("u.json"),
    ])
    #expect(result.status == 2)
    #expect(result.stderr.contains("--yes"))
    #expect(try Self.sha256(image) == before)
    #expect(!FileManager.default.fileExists(atPath: dir.path("u.json")))
  }

  @Test(.enabled(if: available && hasTool("fsck.fat"), reason))
  func markThenUndoRestoresEveryByte() throws {
    let dir = try ScratchDirectory("write")
    let image = try Self.copy("esxi7.img", into: dir)
    let before = try Self.sha256(image)
    let alt = try #require(
      (try Self.status(image)["banks"] as? [[String: Any]])?.first { $0["role"] as? String == "/altbootbank" }?[
        "partition"] as? Int)
    let undo = dir.path("undo/mark.json")
    let result = try BootbankBinary.run([
      "mark", image, "--bank", String(alt), "--state", "invalid", "--yes", "--undo", undo,
    ])
    #expect(result.status == 0, "\(result.text)\(result.stderr)")
    #expect(result.text.contains("Undo file: \(undo)"))
    #expect(result.text.contains("read back from the medium and equal"))
    #expect(result.text.contains("Status now:"))
    // mtools reads the new digit; the file system and the GPT stay clean.
    #expect(try Self.bootConfig(image, partition: alt).contains("bootstate=3"))
    let part = try Self.partition(alt, in: image)
    let fsck = try run(
      "sh",
      [
        "-c",
        "dd if=\(image) bs=512 skip=\(part.offsetBytes / 512) count=\(part.sizeBytes / 512) status=none of=\(dir.path("p.img")) && fsck.fat -n \(dir.path("p.img"))",
      ])
    #expect(fsck.status == 0, "\(fsck.text)")
    #expect(try run("sgdisk", ["-v", image]).text.contains("No problems found"))
    let json = try Self.status(image)
    let bank = (json["banks"] as? [[String: Any]])?.first { $0["partition"] as? Int == alt }
    #expect(bank?["bootstate"] as? Int == 3)

    // A target of another identity is refused.
    let other = try Self.copy("esxi7-4kn.img", into: dir)
    let refused = try BootbankBinary.run(["undo", undo, other, "--yes", "--undo", dir.path("u2.json")])
    #expect(refused.status == 2)
    #expect(refused.text.contains("another target"))

    let back = try BootbankBinary.run(["undo", undo, image, "--yes", "--undo", dir.path("undo/undo.json")])
    #expect(back.status == 0, "\(back.text)\(back.stderr)")
    #expect(try Self.sha256(image) == before)
    // Undoing again finds every range already old: nothing to write.
    let again = try BootbankBinary.run(["undo", undo, image, "--yes", "--undo", dir.path("undo/again.json")])
    #expect(again.status == 0)
    #expect(again.text.contains("nothing to write"))
  }

  @Test(.enabled(if: available, reason))
  func rollbackThenNoAlternate() throws {
    let dir = try ScratchDirectory("write")
    let image = try Self.copy("esxi7.img", into: dir)
    let json = try Self.status(image)
    let fallback = (json["fallback"] as? [String: Any])?["partition"] as? Int
    let result = try BootbankBinary.run(["rollback", image, "--yes", "--undo", dir.path("r.json")])
    #expect(result.status == 0, "\(result.text)\(result.stderr)")
    #expect(try Self.next(image) == fallback)
    let sha = try Self.sha256(image)
    let again = try BootbankBinary.run(["rollback", image, "--yes", "--undo", dir.path("r2.json")])
    #expect(again.status == 2)
    #expect(again.text.contains("No alternate hypervisor to roll back to."))
    #expect(try Self.sha256(image) == sha)
  }

  @Test(.enabled(if: available, reason))
  func setNextTrialBootsTheBankOnceThenFallsBack() throws {
    let dir = try ScratchDirectory("write")
    let image = try Self.copy("esxi7.img", into: dir)
    let json = try Self.status(image)
    let current = try #require((json["next"] as? [String: Any])?["partition"] as? Int)
    let fallback = try #require((json["fallback"] as? [String: Any])?["partition"] as? Int)
    let result = try BootbankBinary.run(
      ["set-next", image, "--bank", "altbootbank", "--trial", "--yes", "--undo", dir.path("s.json")])
    #expect(result.status == 0, "\(result.text)\(result.stderr)")
    #expect(try Self.next(image) == fallback)
    #expect(try Self.bootConfig(image, partition: fallback).contains("bootstate=1"))
    let after = try BootbankBinary.run(["status", image, "--after", "2"])
    #expect(after.text.contains("boot 2: partition \(current) boots normally"))
  }

  /// On a terminal the plan is confirmed with a prompt: "n" writes nothing (2), "y" writes (0).
  @Test(.enabled(if: available, reason))
  func aTerminalPromptConfirms() throws {
    let dir = try ScratchDirectory("write")
    let image = try Self.copy("esxi7.img", into: dir)
    let binary = try #require(BootbankBinary.url).path
    let script = """
      import os, pty, sys
      pid, fd = pty.fork()
      if pid == 0:
          os.execv(sys.argv[1], [sys.argv[1], sys.argv[2], sys.argv[5], '--bank', '5', '--state', 'invalid', '--undo', sys.argv[4]])
      out, sent = b'', False
      while True:
          try:
              data = os.read(fd, 4096)
          except OSError:
              break
          if not data:
              break
          out += data
          if b'[y/N]' in out and not sent:
              os.write(fd, (sys.argv[3] + '\\n').encode())
              sent = True
      _, status = os.waitpid(pid, 0)
      sys.stdout.write(out.decode(errors='replace'))
      sys.exit(os.waitstatus_to_exitcode(status))
      """
    let before = try Self.sha256(image)
    let refused = try run("python3", ["-c", script, binary, "mark", "n", dir.path("n.json"), image])
    #expect(refused.status == 2, "\(refused.text)")
    #expect(refused.text.contains("[y/N]"))
    #expect(try Self.sha256(image) == before)
    let written = try run("python3", ["-c", script, binary, "mark", "y", dir.path("y.json"), image])
    #expect(written.status == 0, "\(written.text)")
    #expect(try Self.bootConfig(image, partition: 5).contains("bootstate=3"))
  }

  @Test(.enabled(if: available, reason))
  func usageErrorsAre64() throws {
    let result = try BootbankBinary.run(["mark", "/nonexistent", "--bank", "x9", "--state", "valid"])
    #expect(result.status == 64)
    let state = try BootbankBinary.run(["mark", "/nonexistent", "--bank", "5", "--state", "dirty"])
    #expect(state.status == 64)
  }

  // MARK: Loop devices

  /// Attaches `image` with its partitions (`losetup -P`), runs `body`, detaches.
  static func withPartitionedLoop<R>(
    _ image: String, sectorSize: Int, readOnly: Bool = false, _ body: (String) throws -> R
  )
    throws -> R
  {
    var arguments = ["--find", "--show", "--partscan", "--sector-size", String(sectorSize)]
    if readOnly { arguments.append("--read-only") }
    let attach = try run("losetup", arguments + [image])
    guard attach.status == 0 else { throw CommandFailed(message: "losetup: \(attach.stderr)") }
    let device = attach.text.trimmingCharacters(in: .whitespacesAndNewlines)
    defer { _ = try? run("losetup", ["--detach", device]) }
    _ = try? run("udevadm", ["settle"])
    return try body(device)
  }

  @Test(
    .enabled(if: available && loopDevicesAvailable, "needs root, loop devices, images/, mtools"),
    arguments: [("esxi7.img", 512), ("esxi7-4kn.img", 4096)])
  func onALoopDevice(image name: String, sectorSize: Int) throws {
    let dir = try ScratchDirectory("loopwrite")
    let image = try Self.copy(name, into: dir)
    try Self.withPartitionedLoop(image, sectorSize: sectorSize) { device in
      let before = try Self.sha256(image)
      // A second process holding the device exclusively: refused, nothing written.
      let holder = Process()
      holder.executableURL = URL(fileURLWithPath: "/usr/bin/env")
      holder.arguments = [
        "python3", "-c",
        "import os,sys,time; os.open(sys.argv[1], os.O_RDONLY|os.O_EXCL); print('held', flush=True); time.sleep(30)",
        device,
      ]
      let out = Pipe()
      holder.standardOutput = out
      try holder.run()
      _ = out.fileHandleForReading.availableData
      let held = try BootbankBinary.run([
        "mark", device, "--bank", "altbootbank", "--state", "invalid", "--yes", "--undo", dir.path("h.json"),
      ])
      holder.terminate()
      holder.waitUntilExit()
      #expect(held.status == 2, "\(held.text)\(held.stderr)")
      #expect(held.stderr.contains("exclusively"))
      #expect(try Self.sha256(image) == before)

      // The image file the loop device backs is refused too.
      let backed = try BootbankBinary.run([
        "mark", image, "--bank", "6", "--state", "invalid", "--yes", "--undo", dir.path("b.json"),
      ])
      #expect(backed.status == 2)
      #expect(backed.stderr.contains("loop device"))

      // Free: written and read back with O_DIRECT, then undone.
      let undo = dir.path("ok.json")
      let result = try BootbankBinary.run([
        "mark", device, "--bank", "altbootbank", "--state", "invalid", "--yes", "--undo", undo,
      ])
      #expect(result.status == 0, "\(result.text)\(result.stderr)")
      let undone = try BootbankBinary.run(["undo", undo, device, "--yes", "--undo", dir.path("ok2.json")])
      #expect(undone.status == 0, "\(undone.text)\(undone.stderr)")
    }
    #expect(try Self.sha256(image) == Self.sha256(TestPaths.images.appendingPathComponent(name).path))
    try Self.withPartitionedLoop(image, sectorSize: sectorSize, readOnly: true) { device in
      let result = try BootbankBinary.run([
        "mark", device, "--bank", "6", "--state", "invalid", "--yes", "--undo", dir.path("ro.json"),
      ])
      #expect(result.status == 2)
    }
  }
}

/// A write the medium refuses: the run stops part-way (status 3) and says what was issued and
/// where the undo file is.
@Suite("writes that fail", .serialized)
struct FailingWriteTests {
  static let available: Bool =
    WriteCommandTests.available && loopDevicesAvailable && FileManager.default.fileExists(atPath: "/dev/fuse")
    && hasTool("fusermount3") && (try? run("/usr/bin/python3", ["-c", "import pyfuse3"]).status) == 0

  @Test(.enabled(if: available, "needs root, /dev/fuse, fusermount3, python3-pyfuse3, images/, mtools, sgdisk"))
  func aWriteTheMediumRefusesStopsPartWayWithStatus3() throws {
    let dir = try ScratchDirectory("badwrites")
    let image = try WriteCommandTests.copy("esxi7.img", into: dir)
    let (_, dry) = try BootbankBinary.json(["mark", image, "--bank", "5", "--state", "invalid", "--dry-run"])
    let steps = (dry["plan"] as? [String: Any])?["steps"] as? [[String: Any]] ?? []
    let lba = try #require(steps.first?["lba"] as? Int)
    let before = try WriteCommandTests.sha256(image)
    let undo = dir.path("undo.json")
    let result = try withFaultyFile(URL(fileURLWithPath: image), first: lba * 512, count: 512, badWrites: true) {
      try withLoopDevice($0, readOnly: false) { device in
        try BootbankBinary.run(["mark", device, "--bank", "5", "--state", "invalid", "--yes", "--undo", undo])
      }
    }
    #expect(result.status == 3, "\(result.text)\(result.stderr)")
    #expect(result.text.contains("STOPPED PART-WAY"))
    #expect(result.text.contains("LBA \(lba)"))
    #expect(result.text.contains("Undo file: \(undo)"))
    #expect(result.text.contains("bootbank undo \(undo)"))
    let file = try Data(contentsOf: URL(fileURLWithPath: undo))
    let header = file[..<(file.firstIndex(of: 0x0A) ?? file.endIndex)]
    let saved = try JSONSerialization.jsonObject(with: header) as? [String: Any]
    #expect((saved?["ranges"] as? [[String: Any]])?.first?["lba"] as? Int == lba)
    #expect(try WriteCommandTests.sha256(image) == before)
  }
}

/// repair-gpt end to end: sgdisk -v clean after, the loader boots again after a primary repair.
@Suite("repair-gpt")
struct RepairGPTCommandTests {
  @Test(
    .enabled(if: WriteCommandTests.available, WriteCommandTests.reason),
    arguments: ["esxi7-bad-backup-gpt.img", "esxi7-bad-primary-gpt.img"])
  func repairsTheDamagedCopy(image name: String) throws {
    let dir = try ScratchDirectory("repair")
    let image = try WriteCommandTests.copy(name, into: dir)
    let damaged = try run("sh", ["-c", "sgdisk -v \"$0\" 2>&1", image]).text
    #expect(damaged.contains("don't match") && damaged.contains("ERROR"), "\(damaged)")
    let result = try BootbankBinary.run(["repair-gpt", image, "--yes", "--undo", dir.path("g.json")])
    #expect(result.status == 0, "\(result.text)\(result.stderr)")
    let verify = try run("sh", ["-c", "sgdisk -v \"$0\" 2>&1", image])
    #expect(verify.text.contains("No problems found"), "\(verify.text)")
    #expect(!verify.text.contains("Caution") && !verify.text.contains("Warning"), "\(verify.text)")
    #expect(try WriteCommandTests.next(image) != nil)
    // Both valid and agreeing now: nothing to write.
    let again = try BootbankBinary.run(["repair-gpt", image, "--yes", "--undo", dir.path("g2.json")])
    #expect(again.status == 0)
    #expect(again.text.contains("nothing to write"))
  }

  @Test(.enabled(if: WriteCommandTests.available, WriteCommandTests.reason))
  func twoValidCopiesThatDifferAreRefused() throws {
    let dir = try ScratchDirectory("repair")
    let image = try WriteCommandTests.copy("esxi7.img", into: dir)
    // Change one partition name in the backup only (sgdisk rewrites both: so patch the primary back).
    let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: image), options: .alwaysMapped).prefix(34 * 512))
    #expect(try run("sgdisk", ["-c", "5:RENAMED", image]).status == 0)
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: image))
    try handle.write(contentsOf: Data(original))
    try handle.close()
    let before = try WriteCommandTests.sha256(image)
    let result = try BootbankBinary.run(["repair-gpt", image, "--yes", "--undo", dir.path("g.json")])
    #expect(result.status == 2, "\(result.text)")
    #expect(result.text.contains("both GPT copies are valid but differ"))
    #expect(try WriteCommandTests.sha256(image) == before)
  }

  /// A 4Kn device on a 4096-byte loop device with its backup header damaged: repaired in place,
  /// 4Kn stays 4Kn (sgdisk reads it at 4096 and finds nothing wrong).
  @Test(.enabled(if: WriteCommandTests.available && loopDevicesAvailable, "needs root, loop devices, images/, sgdisk"))
  func repairsA4KnBackupOnALoopDevice() throws {
    let dir = try ScratchDirectory("repair")
    let image = try WriteCommandTests.copy("esxi7-4kn.img", into: dir)
    let size = try #require(try FileManager.default.attributesOfItem(atPath: image)[.size] as? Int)
    // One byte of the backup header's DiskGUID (the last 4096-byte sector) flipped.
    let handle = try FileHandle(forUpdating: URL(fileURLWithPath: image))
    try handle.seek(toOffset: UInt64(size - 4096 + 0x38))
    let byte = try #require(try handle.read(upToCount: 1)?.first)
    try handle.seek(toOffset: UInt64(size - 4096 + 0x38))
    try handle.write(contentsOf: Data([byte ^ 0xFF]))
    try handle.close()
    try WriteCommandTests.withPartitionedLoop(image, sectorSize: 4096) { device in
      let damaged = try run("sh", ["-c", "sgdisk -v \"$0\" 2>&1", device]).text
      #expect(damaged.contains("Backup header: ERROR"), "\(damaged)")
      let result = try BootbankBinary.run(["repair-gpt", device, "--yes", "--undo", dir.path("g.json")])
      #expect(result.status == 0, "\(result.text)\(result.stderr)")
      #expect(result.text.contains("4096-byte sectors"))
      #expect(result.text.contains("backup GPT header: MyLBA"))
      let verify = try run("sh", ["-c", "sgdisk -v \"$0\" 2>&1", device])
      #expect(verify.text.contains("No problems found"), "\(verify.text)")
      #expect(!verify.text.contains("Caution") && !verify.text.contains("Warning"), "\(verify.text)")
    }
  }
}
