import BootBanks
import Foundation
import TestSupport
import Testing

/// `bootbank restore`: an image made by `bootbank image` (raw, .gz, .zst) or mapped by
/// `bmaptool create`, written onto a device full of random bytes, then compared with the
/// original by independent tools (sfdisk, sgdisk -v, mtools, fsck.fat -n) and by verify.
@Suite("bootbank restore", .serialized)
struct RestoreCommandTests {
  static let tools = ImageCommandTests.tools && hasTool("fsck.fat")
  static let reason = "needs bmaptool, mtools, sfdisk, sgdisk and fsck.fat"

  /// A file of `size` pseudo-random bytes (a card that held something else).
  static func randomTarget(_ path: String, size: Int) throws {
    var random = SplitMix64(state: 99)
    FileManager.default.createFile(atPath: path, contents: nil)
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    let chunk = 1 << 20
    var done = 0
    while done < size {
      let count = min(chunk, size - done)
      var bytes = [UInt8](repeating: 0, count: count)
      var i = 0
      while i < count {
        let word = random.next()
        for k in 0..<min(8, count - i) { bytes[i + k] = UInt8(truncatingIfNeeded: word >> (8 * UInt64(k))) }
        i += 8
      }
      handle.write(Data(bytes))
      done += count
    }
    try handle.close()
  }

  /// The copy equals the original where it matters: tables, FAT trees and files, raw OSDATA.
  static func expectEqual(_ source: URL, _ dest: String, dir: URL, label: String) throws {
    let originalTable = try run("sfdisk", ["-d", source.path]).text
    let copiedTable = try run("sfdisk", ["-d", dest]).text
    #expect(
      copiedTable.replacingOccurrences(of: dest, with: "X")
        == originalTable.replacingOccurrences(of: source.path, with: "X"), "\(label): tables")
    let verified = try run("sgdisk", ["-v", dest])
    #expect(verified.text.contains("No problems found"), "\(label): \(verified.text)")
    let destURL = URL(fileURLWithPath: dest)
    for (number, lba) in ImageCommandTests.fatPartitions {
      let tree = { (image: String) in try run("mdir", ["-/", "-a", "-i", "\(image)@@\(lba * 512)", "::"]).text }
      #expect(try tree(dest) == tree(source.path), "\(label): partition \(number)")
      let a = try ImageCommandTests.fatFiles(source, lba: lba, into: dir.appendingPathComponent("\(label)-a\(number)"))
      let b = try ImageCommandTests.fatFiles(destURL, lba: lba, into: dir.appendingPathComponent("\(label)-b\(number)"))
      #expect(!a.isEmpty && a == b, "\(label): files of partition \(number)")
      // fsck.fat reads a partition: a loop device over it, read-only.
      let fsck = try withLoopDevice(destURL, offset: lba * 512) { device in try run("fsck.fat", ["-n", device]) }
      #expect(fsck.status == 0, "\(label): fsck.fat -n partition \(number): \(fsck.text)")
    }
    let verify = try BootbankBinary.run(["verify", dest])
    #expect(verify.status == 0, "\(label): verify: \(verify.text)\(verify.stderr)")
  }

  @Test(
    .enabled(if: tools && loopDevicesAvailable, Comment(rawValue: reason + ", and root with loop devices")),
    .enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)),
    arguments: ["copy.img", "copy.img.gz", "copy.img.zst"])
  func restoreOntoRandomBytesGivesTheOriginal(_ name: String) throws {
    let dir = try TestPaths.scratchDirectory("restore")
    let source = try ImageCommandTests.sourceImage(in: dir)
    let out = dir.appendingPathComponent(name).path
    let imaged = try BootbankBinary.run(["image", source.path, "-o", out])
    try #require(imaged.status == 0, "\(imaged.stderr)")
    let size = try #require(try FileManager.default.attributesOfItem(atPath: source.path)[.size] as? Int)
    let target = dir.appendingPathComponent("target.img")
    try Self.randomTarget(target.path, size: size)
    // Onto a block device: a loop device over the random file.
    let result = try withLoopDevice(target, readOnly: false) { device in
      try BootbankBinary.run(["restore", out, device, "--no-backup", "--yes", "--json"])
    }
    #expect(result.status == 0, "\(result.text)\(result.stderr)")
    let json = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
    #expect(json["outcome"] as? String == "written")
    let plan = try #require(json["plan"] as? [String: Any])
    let steps = try #require(plan["steps"] as? [[String: Any]])
    // LBA 0-1 first and last, behind barriers.
    #expect(steps.first?["lba"] as? Int == 0)
    #expect(steps[1]["kind"] as? String == "barrier")
    #expect(steps[steps.count - 2]["lba"] as? Int == 0)
    try Self.expectEqual(source, target.path, dir: dir, label: name)
    // The OSDATA blocks the image holds came back; its zero blocks keep the random bytes (the
    // README says raw free space may differ).
    let original = try Data(contentsOf: source)
    let copied = try Data(contentsOf: target)
    let osdata = ImageCommandTests.osdata.first * 512
    #expect(copied[osdata..<(osdata + 8192)] == original[osdata..<(osdata + 8192)])
    #expect(copied[(osdata + 8192)..<(osdata + 12288)] != original[(osdata + 8192)..<(osdata + 12288)])
  }

  /// A bmap from `bmaptool create` of a sparse image: restored onto a zeroed file (bmaptool's
  /// map leaves out the image's holes, which must read as zeros on the target).
  @Test(
    .enabled(if: tools, Comment(rawValue: reason)),
    .enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)))
  func aBmapFromBmaptoolCreateRestores() throws {
    let dir = try TestPaths.scratchDirectory("restore-bmaptool")
    let source = try ImageCommandTests.sourceImage(in: dir)
    let bmap = dir.appendingPathComponent("source.bmap").path
    let created = try run("bmaptool", ["create", "-o", bmap, source.path])
    try #require(created.status == 0, "\(created.stderr)")
    let size = try #require(try FileManager.default.attributesOfItem(atPath: source.path)[.size] as? Int)
    let target = dir.appendingPathComponent("target.img").path
    #expect(try run("truncate", ["-s", String(size), target]).status == 0)
    let result = try BootbankBinary.run(["restore", source.path, target, "--bmap", bmap, "--no-backup", "--yes"])
    #expect(result.status == 0, "\(result.text)\(result.stderr)")
    #expect(result.text.contains("read back"), "\(result.text)")
    try Self.expectEqual(source, target, dir: dir, label: "bmaptool")
  }

  /// A damaged image is refused before the target is touched: one byte of a mapped block of a
  /// raw image, and a .gz image of other bytes than its bmap says.
  @Test(
    .enabled(if: tools, Comment(rawValue: reason)),
    .enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)),
    arguments: ["raw", "gz"])
  func aCorruptedImageIsRefusedBeforeWriting(_ kind: String) throws {
    let dir = try TestPaths.scratchDirectory("restore-corrupt")
    let source = try ImageCommandTests.sourceImage(in: dir)
    let out = dir.appendingPathComponent(kind == "raw" ? "copy.img" : "copy.img.gz").path
    try #require(try BootbankBinary.run(["image", source.path, "-o", out]).status == 0)
    let bmap = dir.appendingPathComponent("copy.img.bmap").path
    let osdata = ImageCommandTests.osdata.first * 512 + 700 * 4096 + 10
    if kind == "raw" {
      let handle = try FileHandle(forUpdating: URL(fileURLWithPath: out))
      try handle.seek(toOffset: UInt64(osdata))
      let byte = try #require(try handle.read(upToCount: 1)).first ?? 0
      try handle.seek(toOffset: UInt64(osdata))
      try handle.write(contentsOf: Data([byte ^ 0xFF]))
      try handle.close()
    } else {
      // Image another device under the same names: the .gz is sound, but not the bmap's.
      let handle = try FileHandle(forUpdating: source)
      try handle.seek(toOffset: UInt64(osdata))
      try handle.write(contentsOf: Data([0x42]))
      try handle.close()
      try FileManager.default.removeItem(atPath: out)
      let again = try BootbankBinary.run([
        "image", source.path, "-o", out, "--bmap", dir.appendingPathComponent("other.bmap").path,
      ])
      try #require(again.status == 0)
    }
    let size = try #require(try FileManager.default.attributesOfItem(atPath: source.path)[.size] as? Int)
    let target = dir.appendingPathComponent("target.img").path
    try Self.randomTarget(target, size: size)
    let before = try ImageCommandTests.sha256(target)
    let result = try BootbankBinary.run(["restore", out, target, "--bmap", bmap, "--no-backup", "--yes"])
    #expect(result.status == 2, "\(result.text)\(result.stderr)")
    #expect(result.stderr.contains("blocks"), "\(result.stderr)")
    #expect(result.stderr.split(separator: "\n").count == 1, "one line: \(result.stderr)")
    #expect(try ImageCommandTests.sha256(target) == before, "the target is untouched")
  }

  /// An interrupted restore (LBA 0-1 marked, ranges written): status says not bootable and
  /// why; the same restore run again finishes it. --backup images the target first.
  @Test(
    .enabled(if: tools, Comment(rawValue: reason)),
    .enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)))
  func statusNamesAnInterruptedRestoreAndRunningItAgainFinishes() throws {
    let dir = try TestPaths.scratchDirectory("restore-interrupted")
    let source = try ImageCommandTests.sourceImage(in: dir)
    let out = dir.appendingPathComponent("copy.img.zst").path
    try #require(try BootbankBinary.run(["image", source.path, "-o", out]).status == 0)
    let target = dir.appendingPathComponent("target.img")
    try FileManager.default.copyItem(atPath: Scenarios.path("esxi7-synced.img"), toPath: target.path)
    let handle = try FileHandle(forWritingTo: target)
    try handle.write(contentsOf: Data(RestoreMarker.bytes(sectorSize: 512)))
    try handle.close()
    let status = try BootbankBinary.run(["status", target.path])
    #expect(status.status != 0)
    #expect(
      status.stderr.contains("not bootable") && status.stderr.contains("interrupted bootbank restore"),
      "\(status.stderr)")

    let missing = try BootbankBinary.run(["restore", out, target.path, "--yes"])
    #expect(missing.status == 64, "neither --backup nor --no-backup: \(missing.stderr)")
    let backup = dir.appendingPathComponent("backup.img.zst").path
    // The target has no partition table the image command reads: the backup is refused.
    let refused = try BootbankBinary.run(["restore", out, target.path, "--backup", backup, "--yes"])
    #expect(refused.status == 2, "\(refused.text)\(refused.stderr)")
    let result = try BootbankBinary.run(["restore", out, target.path, "--no-backup", "--yes"])
    #expect(result.status == 0, "\(result.text)\(result.stderr)")
    #expect(try BootbankBinary.run(["status", target.path]).status == 0)
    try Self.expectEqual(source, target.path, dir: dir, label: "again")

    // With --backup: the target's image first, which restores to the device before.
    let other = dir.appendingPathComponent("other.img")
    try FileManager.default.copyItem(atPath: Scenarios.path("esxi7-synced.img"), toPath: other.path)
    let withBackup = try BootbankBinary.run(["restore", out, other.path, "--backup", backup, "--yes"])
    #expect(withBackup.status == 0, "\(withBackup.text)\(withBackup.stderr)")
    #expect(FileManager.default.fileExists(atPath: backup))
    let undone = try BootbankBinary.run(["restore", backup, other.path, "--no-backup", "--yes"])
    #expect(undone.status == 0, "\(undone.text)\(undone.stderr)")
    let diff = try BootbankBinary.run(["diff", Scenarios.path("esxi7-synced.img"), other.path])
    #expect(diff.status == 0, "restored from the backup: \(diff.text)")
  }
}
