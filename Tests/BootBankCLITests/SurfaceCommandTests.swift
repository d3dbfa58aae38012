import BootBanks
import Foundation
import TestSupport
import Testing

/// `bootbank surface` on a loop device with bad sectors: the mapfile ddrescuelog reads, and the
/// file behind each bad sector found where the file's bytes really are (located by content,
/// with mtools, not by our FAT reader).
@Suite("bootbank surface", .serialized)
struct SurfaceCommandTests {
  static let ddrescuelog = hasTool("ddrescuelog")

  /// The absolute byte offset in `image` of the first 4 KiB of `path` in the FAT partition at
  /// `partitionOffset`, found by extracting the file with mcopy and searching for its bytes.
  static func offsetOfFile(_ path: String, image: URL, partitionOffset: Int) throws -> Int {
    let dir = try TestPaths.scratchDirectory("surface-locate")
    let out = dir.appendingPathComponent("file")
    let copy = try run("mcopy", ["-n", "-i", "\(image.path)@@\(partitionOffset)", "::\(path)", out.path])
    #expect(copy.status == 0, "\(copy.stderr)")
    let file = try Data(contentsOf: out)
    let needle = file.prefix(4096)
    let disk = try Data(contentsOf: image)
    let found = try #require(disk.range(of: needle, in: partitionOffset..<disk.count))
    // Only one place holds it, so the bytes found are the file's.
    #expect(disk.range(of: needle, in: found.upperBound..<disk.count) == nil, "\(path) appears twice")
    return found.lowerBound
  }

  static func ddrescuelogBad(_ mapfile: String) throws -> (bytes: Int64, areas: Int)? {
    let result = try run("ddrescuelog", ["-t", mapfile])
    guard result.status == 0 else { return nil }
    for line in result.text.split(separator: "\n") where line.contains("bad-sector:") {
      // "    bad-sector:     4096 B,  in      1 area(s)  (  0%)"
      let fields = line.split(whereSeparator: { $0 == " " || $0 == "," })
      guard let index = fields.firstIndex(of: "bad-sector:"), index + 4 < fields.count else { continue }
      let number = Double(fields[index + 1]) ?? -1
      let unit = fields[index + 2]
      let scale: Double = unit == "B" ? 1 : unit == "kB" ? 1000 : unit == "MB" ? 1e6 : -1
      return (Int64(number * scale), Int(fields[index + 4]) ?? -1)
    }
    return nil
  }

  @Test(
    .enabled(if: badSectorDevicesAvailable, "needs root, /dev/fuse, fusermount3 and python3-pyfuse3"),
    .enabled(if: ddrescuelog, "ddrescuelog is not installed (Debian package gddrescue; make test installs it)"),
    .enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)))
  func aBadSectorIsMappedToTheFileTheNextBootNeeds() throws {
    let dir = try TestPaths.scratchDirectory("surface")
    let image = dir.appendingPathComponent("esxi7.img")
    try FileManager.default.copyItem(at: URL(fileURLWithPath: Scenarios.path("esxi7.img")), to: image)
    // Partition 6 is the bank the loader boots next on esxi7.img; its k.b00 is the vmkernel.
    let partition6 = 202752 * 512
    let bad = try Self.offsetOfFile("/k.b00", image: image, partitionOffset: partition6)
    let mapfile = dir.appendingPathComponent("disk.map").path
    try withUnreadableRange(image, first: bad, count: 4096) { device in
      let result = try BootbankBinary.run(["surface", device, "--mapfile", mapfile, "--json"])
      #expect(result.status == 1, "\(result.stderr)")
      let json = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
      if JSONSchemaTests.hasJSONSchema {
        // A real damage item against the schema scripts rely on.
        #expect(try JSONSchemaTests.validate([("surface.schema.json", json)]) == [nil])
      }
      #expect(json["unreadableBytes"] as? Int == 4096)
      #expect(json["nextBootPartition"] as? Int == 6)
      let damage = json["damage"] as? [[String: Any]] ?? []
      #expect(damage.count == 1)
      let first = try #require(damage.first)
      #expect(first["firstLBA"] as? Int == bad / 512)
      #expect(first["lastLBA"] as? Int == bad / 512 + 7)
      #expect(first["partition"] as? Int == 6)
      #expect((first["path"] as? String)?.lowercased() == "/k.b00")
      #expect(first["structure"] as? String == "file")
      #expect(first["role"] as? String == "/bootbank")
      #expect(first["neededByNextBoot"] as? Bool == true)

      let text = try BootbankBinary.run(["surface", device, "--banks-only"])
      #expect(text.status == 1)
      #expect(text.text.contains("NEXT BOOT NEEDS 1"), "\(text.text)")
      #expect(text.text.contains("LBA \(bad / 512)-\(bad / 512 + 7): partition 6 (/bootbank): file /"))
    }
    // ddrescuelog, which no one here wrote, reads the mapfile and counts the same bad area.
    let counted = try #require(try Self.ddrescuelogBad(mapfile))
    #expect(counted.bytes == 4096)
    #expect(counted.areas == 1)
    let listed = try run("ddrescuelog", ["-l-", "-b512", mapfile])
    #expect(listed.text.split(separator: "\n").map(String.init) == (0..<8).map { String(bad / 512 + $0) })

    // A later run on a readable copy resumes from the mapfile: it reads only what was bad.
    let resumed = try BootbankBinary.run(["surface", image.path, "--mapfile", mapfile, "--json"])
    #expect(resumed.status == 0, "\(resumed.stderr)")
    let after = try #require(try Self.ddrescuelogBad(mapfile))
    #expect(after.bytes == 0)
  }

  @Test(
    .enabled(if: badSectorDevicesAvailable, "needs root, /dev/fuse, fusermount3 and python3-pyfuse3"),
    .enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)))
  func tablesAndFreeSpaceAreNamedAndOnlyTheLoadersTableIsNeeded() throws {
    let dir = try TestPaths.scratchDirectory("surface")
    let image = dir.appendingPathComponent("esxi7.img")
    try FileManager.default.copyItem(at: URL(fileURLWithPath: Scenarios.path("esxi7.img")), to: image)
    // The backup GPT entries: the last 33 sectors but one; ESXi's loader never reads them.
    let size = try FileManager.default.attributesOfItem(atPath: image.path)[.size] as? Int ?? 0
    let backupEntries = size - 33 * 512
    try withUnreadableRange(image, first: backupEntries, count: 512) { device in
      let result = try BootbankBinary.run(["surface", device, "--json"])
      #expect(result.status == 1)
      let json = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
      let damage = (json["damage"] as? [[String: Any]] ?? []).first
      #expect((damage?["structure"] as? String)?.hasPrefix("backup GPT entries") == true, "\(result.text)")
      #expect(damage?["neededByNextBoot"] as? Bool == false)
    }
    // The primary GPT header: the loader reads it.
    try withUnreadableRange(image, first: 512, count: 512) { device in
      let result = try BootbankBinary.run(["surface", device, "--json"])
      let json = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
      let damage = (json["damage"] as? [[String: Any]] ?? []).first
      #expect((damage?["structure"] as? String)?.hasPrefix("primary GPT header") == true, "\(result.text)")
      #expect(damage?["neededByNextBoot"] as? Bool == true)
    }
  }

  @Test func aMapfileRoundTripsAndHostileOnesAreRefused() throws {
    var map = RescueMap(size: 1 << 20)
    map.mark(4096..<8192, .bad)
    map.mark(0..<4096, .finished)
    map.mark(65536..<131072, .finished)
    map.mark(6144..<7168, .finished)
    #expect(map.blocks.map(\.status) == [.finished, .bad, .finished, .bad, .nonTried, .finished, .nonTried])
    #expect(map.size == 1 << 20)
    let parsed = try RescueMap(parsing: map.encoded())
    #expect(parsed.blocks == map.blocks)
    #expect(parsed.encoded() == map.encoded())
    #expect(map.status(at: 5000) == .bad)
    #expect(map.status(at: 6144) == .finished)
    #expect(map.status(at: 1 << 20) == nil)
    for (text, line) in [
      ("", 0), ("0x0 + 1\n0x10 0x10 +\n", 2), ("0x0 + 1\n0x0 0x10 X\n", 2), ("0x0 + 1\n0x0 -5 +\n", 2),
      ("0x0 + 1\n0x0 0x7FFFFFFFFFFFFFFF +\n0x7FFFFFFFFFFFFFFF 0x10 +\n", 3), ("garbage\n", 1),
    ] {
      #expect(throws: RescueMap.ParseError.self) { try RescueMap(parsing: text) }
      do { _ = try RescueMap(parsing: text) } catch let error { #expect(error.line >= line, "\(text)") }
    }
  }
}
