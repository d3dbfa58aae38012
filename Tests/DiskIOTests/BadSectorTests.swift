import DiskFormat
import DiskIO
import Foundation
import TestSupport
import Testing

/// A FUSE file with an unreadable range (Tests/Fixtures/faultydisk.py) under a loop device:
/// a block device with bad sectors, as a worn USB/SD card has.
@Suite("Bad sectors", .serialized)
struct BadSectorTests {
  static let available: Bool = badSectorDevicesAvailable

  @Test(.enabled(if: available, "needs root, /dev/fuse, fusermount3 and python3-pyfuse3"))
  func anUnreadableSectorIsAnErrorNamingItsLBA() throws {
    let dir = try TestPaths.scratchDirectory("badsectors")
    let image = dir.appendingPathComponent("source.img")
    let bytes = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
    try Data(bytes).write(to: image)
    // Bytes 65536..<69632 are bad: LBA 128-135 with 512-byte sectors.
    try withUnreadableRange(image, first: 65536, count: 4096) { device in
      let target = try Target(path: device)
      // Good sectors read back exactly.
      #expect(try target.read(at: 0, count: 4096) == Array(bytes[0..<4096]))
      // A read across the bad range fails, and the error names the first bad LBA.
      let error = #expect(throws: ReadError.self) { try target.read(at: 100 * 512, count: 50 * 512) }
      #expect(error?.firstLBA == 128)
      if case .io(let errno, _)? = error?.kind { #expect(errno == EIO) } else { Issue.record("expected an I/O error") }
      #expect(error?.description.contains("LBA 128") == true)
      // Streaming stops at the bad sector with the same error, and every window handed out is
      // released first (consumers release late, from another thread).
      let group = DispatchGroup()
      let streamError = #expect(throws: ReadError.self) {
        try target.stream(0..<target.byteCount, windowSize: 1 << 16, depth: 3) { _, release in
          group.enter()
          DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(2)) {
            release()
            group.leave()
          }
        }
      }
      group.wait()
      #expect(streamError?.firstLBA == 128)
      // The command says which LBA, with exit status 2.
      let result = try BootbankBinary.run(["checksum", device])
      #expect(result.status == 2)
      #expect(result.stderr.contains("LBA 128"), "\(result.stderr)")
    }
  }

  /// A worn card: a bad sector inside s.v00 of bank 6 of the sample device. verify names the
  /// LBA and the file it hurts, and goes on with everything else.
  @Test(
    .enabled(
      if: available && TestPaths.fixture("esxi7.img") != nil, "needs FUSE, loop devices and images/ (make images)"))
  func verifyMapsABadSectorToTheFileItHurts() throws {
    let image = try #require(TestPaths.fixture("esxi7.img"))
    let bank6 = 202752 * 512
    let content = try run("mtype", ["-i", "\(image.path)@@\(bank6)", "::/s.v00"]).stdout
    let data = try Data(contentsOf: image, options: .alwaysMapped)
    let start = try #require(data.range(of: content.prefix(64), in: bank6..<data.count)?.lowerBound)
    let bad = (start + 8192) / 4096 * 4096
    try withUnreadableRange(image, first: bad, count: 4096) { device in
      let result = try BootbankBinary.run(["verify", device, "--json"])
      #expect(result.status == 1)
      let json = (try? JSONSerialization.jsonObject(with: result.stdout)) as? [String: Any] ?? [:]
      let bank = (json["banks"] as? [[String: Any]])?.first { $0["partition"] as? Int == 6 }
      let finding = (bank?["findings"] as? [[String: Any]])?.first { $0["kind"] as? String == "unreadableSector" }
      #expect(finding?["path"] as? String == "/s.v00")
      #expect(finding?["lba"] as? Int == bad / 512)
      // The other bank is still checked and sound.
      let other = (json["banks"] as? [[String: Any]])?.first { $0["partition"] as? Int == 5 }
      #expect(other?["verdict"] as? String == "ok")
      // checksum --files digests every other file and names the one it cannot read (exit 1).
      let sums = try BootbankBinary.run(["checksum", device, "--partition", "6", "--files", "--json"])
      #expect(sums.status == 1)
      let report = (try? JSONSerialization.jsonObject(with: sums.stdout)) as? [String: Any] ?? [:]
      let files = (report["files"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String }
      #expect(files.contains("/sb.v00") && !files.contains("/s.v00"))
      let unreadable = (report["findings"] as? [[String: Any]])?.first
      #expect(unreadable?["path"] as? String == "/s.v00")
      #expect(unreadable?["lba"] as? Int == bad / 512)
    }
  }
}
