import Foundation
import TestSupport
import Testing

/// `bootbank checksum` through the built binary, against sha256sum, rhash and mtools.
@Suite("bootbank checksum")
struct ChecksumCommandTests {
  static let enabled = Scenarios.available && hasTool("rhash") && hasTool("mtype")
  static let bank5 = 69632 * 512

  @Test(.enabled(if: enabled, "needs images/ (make images), rhash and mtools"))
  func wholeDeviceDigestsEqualSha256sumAndRhash() throws {
    let image = Scenarios.path("esxi7.img")
    let (status, json) = try BootbankBinary.json(["checksum", image, "--algo", "crc32,sha256,sha1"])
    #expect(status == 0)
    let region = (json["regions"] as? [[String: Any]])?.first
    let sha256 = try run("sha256sum", [image]).text.split(separator: " ").first.map(String.init)
    let sha1 = try run("sha1sum", [image]).text.split(separator: " ").first.map(String.init)
    let crc = try run("rhash", ["--crc32", "--simple", image]).text.split(separator: " ").first.map { $0.lowercased() }
    #expect(region?["sha256"] as? String == sha256)
    #expect(region?["sha1"] as? String == sha1)
    #expect(region?["crc32"] as? String == crc)
  }

  @Test(.enabled(if: enabled, "needs images/ (make images), rhash and mtools"))
  func fileDigestsEqualWhatMtoolsReads() throws {
    let image = Scenarios.path("esxi7.img")
    let (status, json) = try BootbankBinary.json(["checksum", image, "--partition", "5", "--files"])
    #expect(status == 0)
    let files = json["files"] as? [[String: Any]] ?? []
    #expect(files.count >= 10)
    for file in files {
      let path = try #require(file["path"] as? String)
      let bytes = try run("mtype", ["-i", "\(image)@@\(Self.bank5)", "::\(path)"]).stdout
      let want = try run("sha256sum", [], stdin: bytes).text.split(separator: " ").first.map(String.init)
      #expect(file["sha256"] as? String == want, "\(path)")
      #expect(file["size"] as? Int == bytes.count, "\(path)")
    }
  }

  @Test(.enabled(if: enabled, "needs images/ (make images), rhash and mtools"))
  func aManifestCatchesOneFlippedByteAndNamesTheFile() throws {
    let dir = try ScratchDirectory("checksum-check")
    let image = dir.path("card.img")
    try #require(try run("cp", ["--sparse=always", Scenarios.path("esxi7.img"), image]).status == 0)
    let manifest = dir.path("card.json")
    #expect(
      try BootbankBinary.run(["checksum", image, "--partition", "5", "--files", "--manifest", manifest]).status == 0)
    // The sha256sum list beside it checks the files mtools extracts.
    let extracted = dir.url.appendingPathComponent("files")
    try FileManager.default.createDirectory(at: extracted, withIntermediateDirectories: true)
    try #require(
      try run("mcopy", ["-n", "-s", "-m", "-i", "\(image)@@\(Self.bank5)", "::/*", extracted.path]).status == 0)
    let sums = try run("sh", ["-c", "cd '\(extracted.path)' && sha256sum -c '\(manifest).sha256'"])
    #expect(sums.status == 0, "\(sums.text)")
    #expect(try BootbankBinary.run(["checksum", "--check", manifest, image]).status == 0)

    // Flip one byte inside s.v00: find its first bytes in the image, as a worn card would.
    let content = try run("mtype", ["-i", "\(image)@@\(Self.bank5)", "::/s.v00"]).stdout
    let data = try Data(contentsOf: URL(fileURLWithPath: image), options: .alwaysMapped)
    let at = try #require(data.range(of: content.prefix(64), in: Self.bank5..<data.count)?.lowerBound)
    let handle = try FileHandle(forUpdating: URL(fileURLWithPath: image))
    try handle.seek(toOffset: UInt64(at + 1000))
    let old = try handle.read(upToCount: 1)?.first ?? 0
    try handle.seek(toOffset: UInt64(at + 1000))
    try handle.write(contentsOf: Data([old ^ 0x01]))
    try handle.close()

    let (status, json) = try BootbankBinary.json(["checksum", "--check", manifest, image])
    #expect(status == 1)
    let findings = json["findings"] as? [[String: Any]] ?? []
    #expect(findings.count == 1)
    #expect(findings.first?["path"] as? String == "/s.v00")
    #expect(findings.first?["kind"] as? String == "fileChanged")
    #expect(findings.first?["partition"] as? Int == 5)
  }

  @Test func anUnknownAlgorithmIsAUsageError() throws {
    #expect(try BootbankBinary.run(["checksum", "/dev/null", "--algo", "md5"]).status == 64)
  }
}

/// Saved manifests are read back from disk: garbage, a truncated file or another format is a
/// clear error with status 2, never a crash.
@Suite("checksum manifests that are not manifests")
struct ChecksumManifestInputTests {
  @Test(
    .enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)),
    arguments: ["", "{", "not json at all", #"{"format": "something-else/9"}"#, #"{"format": "bootbank-checksum/1"}"#])
  func aBadManifestIsStatusTwo(text: String) throws {
    let dir = try ScratchDirectory("bad-manifest")
    let path = dir.path("m.json")
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    let check = try BootbankBinary.run(["checksum", "--check", path, Scenarios.path("esxi7.img")])
    #expect(check.status == 2)
    #expect(check.stderr.contains(path), "\(check.stderr)")
    let verify = try BootbankBinary.run(["verify", Scenarios.path("esxi7.img"), "--manifest", path])
    #expect(verify.status == 2)
    #expect(verify.stderr.contains(path), "\(verify.stderr)")
  }
}
