import Foundation
import TestSupport
import Testing

/// `bootbank verify` through the built binary on every damage the image generator makes.
@Suite("bootbank verify")
struct VerifyCommandTests {
  struct Expectation: Sendable, CustomTestStringConvertible {
    var image: String
    var verdict: String
    var partition: Int?
    var kind: String
    var path: String?
    var offset: Int?
    /// More arguments to `verify`.
    var options: [String] = []
    var testDescription: String { "\(image): \(kind)" }
  }

  /// Each damaged image, the verdict, and the finding that must name the damage and its place
  /// (the places come from images/manifest-of-scenarios.json).
  static let damaged: [Expectation] = [
    Expectation(
      image: "esxi7-digest-mismatch.img", verdict: "broken", partition: 6, kind: "payloadDigestMismatch", path: "/s.v00"
    ),
    // The SHA-1 is ESXi 6.7's own check; its SHA-256 proves as much, so it is checked with
    // --all-digests (or where a descriptor gives no SHA-256).
    Expectation(
      image: "esxi7-digest-mismatch.img", verdict: "broken", partition: 6, kind: "payloadSHA1Mismatch", path: "/s.v00",
      options: ["--all-digests"]),
    // The gzip stream of k.b00 ends early: the finding points at the device byte where it ends
    // (file byte 25592, through the cluster chain).
    Expectation(
      image: "esxi7-truncated-gzip.img", verdict: "broken", partition: 6, kind: "payloadGzipInvalid", path: "/k.b00",
      offset: 103_945_208),
    Expectation(
      image: "esxi7-missing-module.img", verdict: "broken", partition: 6, kind: "moduleMissing", path: "/sb.v00"),
    Expectation(
      image: "esxi7-missing-module.img", verdict: "broken", partition: 6, kind: "payloadFileMissing", path: "/sb.v00"),
    // The generator's loop: the last cluster of s.v00 (36) links back to cluster 20; fsck.fat
    // says "Circular cluster chain". The finding points at cluster 36's FAT entry.
    Expectation(
      image: "esxi7-fat-loop.img", verdict: "broken", partition: 6, kind: "circularChain", path: "/s.v00",
      offset: 103_813_192),
    Expectation(
      image: "esxi7-fat-crosslink.img", verdict: "broken", partition: 6, kind: "sharedClusters", path: "/sb.v00"),
    Expectation(
      image: "esxi7-fat-mismatch.img", verdict: "broken", partition: 6, kind: "fatCopiesDiffer", offset: 103_845_964),
    Expectation(image: "esxi7-bad-primary-gpt.img", verdict: "broken", kind: "badHeaderCRC32", offset: 528),
    Expectation(
      image: "esxi7-missing-magic.img", verdict: "broken", partition: 6, kind: "bankMagicMissing", offset: 103_809_536),
    Expectation(image: "esxi7-bad-primary-gpt.img", verdict: "broken", kind: "primaryGPTBadBackupGood"),
    Expectation(image: "esxi7-bad-backup-gpt.img", verdict: "degraded", kind: "badHeaderCRC32", offset: 181_403_152),
  ]

  @Test(.enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)), arguments: damaged)
  func damageIsFoundWhereItIs(_ want: Expectation) throws {
    let (status, json) = try BootbankBinary.json(["verify", Scenarios.path(want.image)] + want.options)
    #expect(status == 1)
    #expect(json["verdict"] as? String == want.verdict)
    var findings = json["findings"] as? [[String: Any]] ?? []
    for bank in json["banks"] as? [[String: Any]] ?? [] { findings += bank["findings"] as? [[String: Any]] ?? [] }
    let match = findings.first { $0["kind"] as? String == want.kind }
    #expect(match != nil, "no \(want.kind) in \(findings.map { $0["kind"] ?? "" })")
    guard let match else { return }
    #expect(match["partition"] as? Int == want.partition)
    if let path = want.path { #expect(match["path"] as? String == path) }
    if let offset = want.offset { #expect(match["offset"] as? Int == offset) }
    #expect(["error", "warning"].contains(match["severity"] as? String))
  }

  @Test(
    .enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)),
    arguments: ["esxi7.img", "esxi6.img", "esxi-mbr.img", "esxi7-4kn.img", "esxi7-upgrade-pending.img"])
  func soundDevicesVerifyClean(image: String) throws {
    let result = try BootbankBinary.run(["verify", Scenarios.path(image)])
    #expect(result.status == 0, "\(result.text)")
    #expect(result.text.hasPrefix("Device: OK: next boot: partition"))
    let (_, json) = try BootbankBinary.json(["verify", Scenarios.path(image)])
    let banks = json["banks"] as? [[String: Any]] ?? []
    #expect(banks.count == 2)
    for bank in banks {
      #expect(bank["verdict"] as? String == "ok")
      let files = bank["files"] as? [[String: Any]] ?? []
      // Every payload the profile maps was checked against imgdb.tgz.
      #expect(files.filter { $0["check"] as? String == "manifest" }.count >= 8)
      #expect(files.allSatisfy { $0["ok"] as? Bool == true })
    }
  }

  @Test(.enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)))
  func aFailedTrialLeavesNoWayBackAndSaysSo() throws {
    let result = try BootbankBinary.run(["verify", Scenarios.path("esxi7-trial-failed.img")])
    #expect(result.status == 1)
    #expect(result.text.contains("fallback bank 5: INVALID, bootstate=3: a failed boot now has no way back"))
    #expect(result.text.hasPrefix("Device: DEGRADED"))
  }

  @Test(.enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)))
  func noBankIsBroken() throws {
    let (status, json) = try BootbankBinary.json(["verify", Scenarios.path("esxi7-both-invalid.img")])
    #expect(status == 1)
    #expect(json["verdict"] as? String == "broken")
    #expect((json["summary"] as? String)?.contains("No hypervisor found.") == true)
  }

  @Test(.enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)))
  func sha1OnlyWithAllDigests() throws {
    let image = Scenarios.path("esxi7-digest-mismatch.img")
    func kinds(_ options: [String]) throws -> [String] {
      let (_, json) = try BootbankBinary.json(["verify", image] + options)
      let bank = (json["banks"] as? [[String: Any]])?.first { $0["partition"] as? Int == 6 }
      return (bank?["findings"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String }
    }
    #expect(try kinds([]) == ["payloadDigestMismatch"])
    #expect(try kinds(["--all-digests"]) == ["payloadDigestMismatch", "payloadSHA1Mismatch"])
    #expect(try BootbankBinary.run(["verify", "--help"]).text.contains("--all-digests"))
  }

  @Test func aMissingTargetIsStatusTwo() throws {
    #expect(try BootbankBinary.run(["verify", "/nonexistent.img"]).status == 2)
  }
}

/// verify on banks whose files are garbage: findings, never a crash.
@Suite("bootbank verify on hostile bank content")
struct VerifyHostileTests {
  static let enabled = Scenarios.available && hasTool("mcopy")

  /// A copy of esxi7.img with `file` in bank 6 replaced by `bytes`.
  func replacing(_ file: String, with bytes: Data, in dir: ScratchDirectory) throws -> String {
    let image = dir.path("hostile.img")
    try #require(try run("cp", ["--sparse=always", Scenarios.path("esxi7.img"), image]).status == 0)
    let local = dir.url.appendingPathComponent(file)
    try bytes.write(to: local)
    try #require(try run("mcopy", ["-o", "-i", "\(image)@@\(202752 * 512)", local.path, "::/\(file)"]).status == 0)
    return image
  }

  @Test(
    .enabled(if: enabled, "needs images/ and mtools"),
    arguments: [
      ("imgdb.tgz", "imgdbUnreadable"), ("state.tgz", "gzipInvalid"), ("k.b00", "payloadGzipInvalid"),
    ])
  func garbageIsAFindingNamingTheFile(file: String, kind: String) throws {
    let dir = try ScratchDirectory("verify-hostile")
    var generator = SystemRandomNumberGenerator()
    let garbage = Data((0..<5000).map { _ in UInt8.random(in: 0...255, using: &generator) })
    let image = try replacing(file, with: garbage, in: dir)
    let (status, json) = try BootbankBinary.json(["verify", image])
    #expect(status == 1)
    let bank = (json["banks"] as? [[String: Any]])?.first { $0["partition"] as? Int == 6 }
    #expect(bank?["verdict"] as? String == "broken")
    let findings = bank?["findings"] as? [[String: Any]] ?? []
    #expect(
      findings.contains { $0["kind"] as? String == kind && ($0["path"] as? String)?.hasSuffix(file) == true },
      "\(findings.map { $0["kind"] ?? "" })")
  }

  @Test(.enabled(if: enabled, "needs images/ and mtools"))
  func aGzipBombIsStoppedNotInflated() throws {
    // 1 GiB of zeros gzipped is 1 MiB; as state.tgz (a valid gzip of an empty tar: zero blocks)
    // it must be streamed in bounded memory, never held whole.
    let dir = try ScratchDirectory("verify-bomb")
    let bomb = try run("sh", ["-c", "head -c 1073741824 /dev/zero | gzip -1"]).stdout
    let image = try replacing("state.tgz", with: bomb, in: dir)
    let result = try run("/usr/bin/time", ["-f", "%M", try #require(BootbankBinary.url).path, "verify", image])
    #expect([0, 1].contains(result.status))
    let peakKiB = Int(result.stderr.split(separator: "\n").last ?? "") ?? .max
    #expect(peakKiB < 200 * 1024, "peak RSS \(peakKiB) KiB")
  }
}

/// A bank as real hosts lay it out, and the two ways verify went wrong on sound and on
/// damaged devices: crying wolf over a saved manifest of the ESP, and staying silent about a
/// destroyed bank.
@Suite("bootbank verify: no false alarm, no silence")
struct VerifyTruthTests {
  static let enabled = Scenarios.available && hasTool("mcopy") && hasTool("mtype")
  static let p1 = 64 * 512
  static let p6 = 202752 * 512

  func copy(_ name: String, in dir: ScratchDirectory) throws -> String {
    let image = dir.path(name)
    try #require(try run("cp", ["--sparse=always", Scenarios.path("esxi7.img"), image]).status == 0)
    return image
  }

  /// Every finding of a verify --json report, device first.
  func findings(_ json: [String: Any]) -> [[String: Any]] {
    var all = json["findings"] as? [[String: Any]] ?? []
    for bank in json["banks"] as? [[String: Any]] ?? [] { all += bank["findings"] as? [[String: Any]] ?? [] }
    return all
  }

  @Test(.enabled(if: enabled, "needs images/ and mtools"))
  func aRealShapedBankVerifiesClean() throws {
    // The generator's imgdb.tgz holds, as a real host's does, each descriptor's .xml.sig and
    // .xml.orig, and a profile that maps payloads no bank holds.
    let imgdb = try run("mtype", ["-i", "\(Scenarios.path("esxi7.img"))@@\(Self.p6)", "::/imgdb.tgz"]).stdout
    let members = try run("tar", ["-tz"], stdin: imgdb).text.split(separator: "\n")
    #expect(members.filter { $0.hasSuffix(".xml.sig") }.count == 2)
    #expect(members.filter { $0.hasSuffix(".xml.orig") }.count == 2)
    let profile = try run("tar", ["-xzO", "--wildcards", "var/db/esximg/profiles/*"], stdin: imgdb).text
    #expect(profile.contains("bootx64..b00"))
    let (status, json) = try BootbankBinary.json(["verify", Scenarios.path("esxi7.img")])
    #expect(status == 0)
    #expect(json["verdict"] as? String == "ok")
    #expect(findings(json).isEmpty, "\(findings(json))")
  }

  @Test(.enabled(if: enabled, "needs images/ and mtools"))
  func aSavedManifestOfTheWholeDeviceIsNoAlarm() throws {
    // checksum --files digests every FAT partition: the ESP (1) too, which is no bank.
    let dir = try ScratchDirectory("verify-manifest-esp")
    let image = try copy("card.img", in: dir)
    let manifest = dir.path("m.json")
    #expect(try BootbankBinary.run(["checksum", image, "--files", "--manifest", manifest]).status == 0)
    let saved = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: manifest)))
    let partitions = Set(
      ((saved as? [String: Any])?["files"] as? [[String: Any]] ?? []).compactMap { $0["partition"] as? Int })
    #expect(partitions == [1, 5, 6])
    let (status, json) = try BootbankBinary.json(["verify", image, "--manifest", manifest])
    #expect(status == 0, "\(findings(json))")
    #expect(json["verdict"] as? String == "ok")
    #expect(findings(json).isEmpty)

    // A file of the ESP changed since: verify and checksum --check report the same finding.
    let local = dir.url.appendingPathComponent("BOOTX64.EFI")
    let esp = try run("mdir", ["-b", "-/", "-i", "\(image)@@\(Self.p1)", "::/"]).text
    let file = try #require(esp.split(separator: "\n").first { !$0.hasSuffix("/") }.map(String.init))
    let bytes = try run("mtype", ["-i", "\(image)@@\(Self.p1)", file]).stdout
    try (bytes + Data([0x0A])).write(to: local)
    try #require(try run("mcopy", ["-o", "-i", "\(image)@@\(Self.p1)", local.path, file]).status == 0)
    let path = String(file.dropFirst(2))
    let (changedStatus, changed) = try BootbankBinary.json(["verify", image, "--manifest", manifest])
    #expect(changedStatus == 1)
    let found = findings(changed).filter { $0["kind"] as? String == "fileChanged" }
    #expect(found.count == 1)
    #expect(found.first?["partition"] as? Int == 1)
    #expect((found.first?["path"] as? String)?.lowercased() == path.lowercased())
    let (checkStatus, check) = try BootbankBinary.json(["checksum", "--check", manifest, image])
    #expect(checkStatus == 1)
    let checkFindings = check["findings"] as? [[String: Any]] ?? []
    #expect(checkFindings.map { $0["kind"] as? String } == ["fileChanged"])
    #expect(checkFindings.first?["message"] as? String == found.first?["message"] as? String)
    #expect(!findings(changed).contains { ($0["message"] as? String)?.contains("no longer a bank") == true })
  }

  /// Random bytes over the start of partition 6 (the newer build, /bootbank): 256 KiB (boot
  /// sector, magic, FATs), or its boot sector alone (the VMware magic in sector 1 survives).
  @Test(.enabled(if: enabled, "needs images/ and mtools"), arguments: [256 << 10, 512])
  func aDestroyedBankIsNamed(noiseBytes: Int) throws {
    let dir = try ScratchDirectory("verify-destroyed")
    let image = try copy("card.img", in: dir)
    let manifest = dir.path("m.json")
    #expect(try BootbankBinary.run(["checksum", image, "--files", "--manifest", manifest]).status == 0)
    var generator = SystemRandomNumberGenerator()
    let noise = Data((0..<noiseBytes).map { _ in UInt8.random(in: 0...255, using: &generator) })
    let handle = try FileHandle(forUpdating: URL(fileURLWithPath: image))
    try handle.seek(toOffset: UInt64(Self.p6))
    try handle.write(contentsOf: noise)
    try handle.close()

    let result = try BootbankBinary.run(["verify", image])
    #expect(result.status == 1)
    #expect(result.text.hasPrefix("Device: BROKEN: partition 6: a bank destroyed"), "\(result.text)")
    #expect(result.text.contains("next boot: partition 5"))
    let (_, json) = try BootbankBinary.json(["verify", image])
    #expect(json["verdict"] as? String == "broken")
    let destroyed = findings(json).filter { $0["kind"] as? String == "bankDestroyed" }
    #expect(destroyed.count == 1)
    #expect(destroyed.first?["partition"] as? Int == 6)
    #expect(destroyed.first?["offset"] as? Int == Self.p6)
    #expect((destroyed.first?["message"] as? String)?.contains("BOOTBANK2") == true)

    // With the manifest saved before: the bank's files are one finding, never "no longer a bank".
    let (_, withManifest) = try BootbankBinary.json(["verify", image, "--manifest", manifest])
    let kinds = findings(withManifest).compactMap { $0["kind"] as? String }
    #expect(kinds.contains("bankDestroyed"))
    #expect(kinds.filter { $0 == "volumeUnreadable" }.count == 1)
    #expect(!kinds.contains("fileMissing"))
    #expect(!findings(withManifest).contains { ($0["message"] as? String)?.contains("no longer a bank") == true })
  }

  /// One verdict names every partition holding a bank the loader looks at (counted, dropped,
  /// rejected or never scanned), and no partition that is not one (the ESP, a 6.x store).
  @Test(
    .enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)),
    arguments: [
      ("esxi7.img", [5, 6]), ("esxi6.img", [5, 6]), ("esxi7-four-banks.img", [5, 6, 8, 9]),
      ("esxi7-both-invalid.img", [5, 6]), ("esxi7-bootstate4.img", [5, 6]), ("esxi7-updated-nonnumeric.img", [5, 6]),
    ])
  func theVerdictNamesEveryBank(image: String, banks: [Int]) throws {
    let (_, json) = try BootbankBinary.json(["verify", Scenarios.path(image)])
    let summary = try #require(json["summary"] as? String)
    let named = (1...9).filter { summary.contains("partition \($0)") || summary.contains("bank \($0)") }
    #expect(named == banks, "\(summary)")
  }

  @Test(
    .enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)),
    arguments: [
      "esxi7.img", "esxi6.img", "esxi-mbr.img", "esxi7-4kn.img", "esxi7-three-banks.img", "esxi7-four-banks.img",
    ])
  func soundDevicesNameNoDestroyedBank(image: String) throws {
    let (_, json) = try BootbankBinary.json(["verify", Scenarios.path(image)])
    #expect(!findings(json).contains { $0["kind"] as? String == "bankDestroyed" })
  }
}
