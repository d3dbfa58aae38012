import Foundation
import TestSupport
import Testing

/// `bootbank diff` through the built binary.
@Suite("bootbank diff")
struct DiffCommandTests {
  static let enabled = Scenarios.available && hasTool("mcopy")

  func differences(_ json: [String: Any]) -> [[String: Any]] { json["differences"] as? [[String: Any]] ?? [] }

  @Test(.enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)))
  func twoBuildsDifferByPayloadAndTheBankStateIsExpected() throws {
    let (status, json) = try BootbankBinary.json(["diff", Scenarios.path("esxi7.img")])
    #expect(status == 1)
    #expect(json["equal"] as? Bool == false)
    let all = differences(json)
    let s = all.first { $0["payload"] as? String == "esx-base:s" }
    #expect(s?["kind"] as? String == "changed")
    #expect(s?["path"] as? String == "/s.v00")
    #expect(
      all.contains { $0["kind"] as? String == "changed" && ($0["detail"] as? String)?.hasPrefix("build:") == true })
    #expect(
      all.contains { $0["kind"] as? String == "expected" && ($0["detail"] as? String) == "updated=2 vs updated=1" })
    #expect(
      all.contains { $0["kind"] as? String == "expected" && ($0["detail"] as? String)?.hasPrefix("bank UUID") == true })
    // The profiles also map payloads no bank holds (an EFI loader, an upgrade tool): no difference.
    #expect(!all.contains { ["/bootx64..b00", "/isoinfo.u00"].contains($0["path"] as? String) }, "\(all)")
  }

  @Test(.enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)))
  func aDamagedPayloadIsTheOnlyDifferenceBetweenTwoDevices() throws {
    let (status, json) = try BootbankBinary.json([
      "diff", Scenarios.path("esxi7.img"), Scenarios.path("esxi7-digest-mismatch.img"),
    ])
    #expect(status == 1)
    let all = differences(json)
    #expect(all.count == 1)
    #expect(all.first?["path"] as? String == "/s.v00")
    #expect(all.first?["kind"] as? String == "changed")
  }

  @Test(.enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)))
  func aDeviceEqualsItself() throws {
    let (status, json) = try BootbankBinary.json([
      "diff", "--raw", Scenarios.path("esxi7.img"), Scenarios.path("esxi7.img"),
    ])
    #expect(status == 0)
    #expect(json["equal"] as? Bool == true)
    #expect(differences(json).isEmpty)
  }

  /// Bank 5 made a file-by-file copy of bank 6 with mtools, keeping its own boot.cfg state:
  /// the two banks then hold the same image and differ only where a sync allows (UUID, boot state, per-host files).
  @Test(.enabled(if: enabled, "needs images/ (make images) and mtools"))
  func aSyncedDeviceHoldsTheSameImageInBothBanks() throws {
    let dir = try ScratchDirectory("diff-synced")
    let image = dir.path("synced.img")
    try #require(try run("cp", ["--sparse=always", Scenarios.path("esxi7.img"), image]).status == 0)
    let bank5 = "\(image)@@\(69632 * 512)"
    let bank6 = "\(image)@@\(202752 * 512)"
    let out = dir.url.appendingPathComponent("bank6")
    try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
    try #require(try run("mcopy", ["-n", "-s", "-m", "-i", bank6, "::/*", out.path]).status == 0)
    // Keep bank 5 the fallback: same image, updated one lower.
    let config = try String(contentsOf: out.appendingPathComponent("boot.cfg"), encoding: .utf8)
      .replacingOccurrences(of: "updated=2", with: "updated=1")
    try config.write(to: out.appendingPathComponent("boot.cfg"), atomically: true, encoding: .utf8)
    let files = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted().map {
      out.appendingPathComponent($0).path
    }
    try #require(try run("mcopy", ["-o", "-m", "-i", bank5] + files + ["::/"]).status == 0)
    let (status, json) = try BootbankBinary.json(["diff", image])
    #expect(status == 0, "\(differences(json))")
    #expect(json["equal"] as? Bool == true)
    #expect(differences(json).allSatisfy { $0["kind"] as? String == "expected" })
    #expect(differences(json).contains { $0["detail"] as? String == "updated=2 vs updated=1" })
  }
}
