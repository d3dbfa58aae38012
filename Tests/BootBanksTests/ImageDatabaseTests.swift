import Archive
import BootBanks
import Checksum
import DiskFormat
import Foundation
import TestSupport
import Testing

/// imgdb.tgz built in the test the way ESXi lays it out (GNU tar + gzip), with XML shaped
/// like ESXi 6.7's profile and VIB descriptors, and a bank's payloads to check against it.
@Suite("image database and payload manifest")
struct ImageDatabaseTests {
  /// The decompressed payloads, and their gzip files as a bank holds them.
  let kernelData = Array(String(repeating: "vmkernel module bytes ", count: 3000).utf8)
  let baseData = Array(String(repeating: "esx-base sb payload ", count: 5000).utf8)
  let s: [UInt8]
  let sb: [UInt8]
  let emptyGzip: [UInt8]

  init() throws {
    s = try Self.gzip(kernelData)
    sb = try Self.gzip(baseData)
    emptyGzip = try Self.gzip([])
  }

  static func gzip(_ data: [UInt8]) throws -> [UInt8] {
    [UInt8](try run("gzip", ["-n", "-c"], stdin: Data(data)).stdout)
  }

  static func sha256(_ data: [UInt8]) -> String { SHA256Hasher.hex(data) }

  static func sha1(_ data: [UInt8]) -> String {
    var h = SHA1Hasher()
    h.update(data)
    return h.finalize().map { String(format: "%02x", $0) }.joined()
  }

  static func payloadXML(_ name: String, type: String, shipped: [UInt8], decompressed: [UInt8]) -> String {
    """
        <payload name="\(name)" type="\(type)" size="\(shipped.count)">
          <checksum checksum-type="sha-256">\(sha256(shipped))</checksum>
          <checksum checksum-type="sha-256" verify-process="gunzip">\(sha256(decompressed))</checksum>
          <checksum checksum-type="sha-1" verify-process="gunzip">\(sha1(decompressed))</checksum>
        </payload>
    """
  }

  func esxBaseXML(namespaced: Bool = false) -> String {
    let root =
      namespaced ? "<vib xmlns=\"http://www.vmware.com/depotmanagement/vib\" version=\"5.0\">" : "<vib version=\"5.0\">"
    return """
      <?xml version="1.0" encoding="utf-8"?>
      \(root)
        <type>bootbank</type>
        <name>esx-base</name>
        <version>6.7.0-3.73.14320388</version>
        <vendor>VMware</vendor>
        <summary>ESXi base system</summary>
        <release-date>2019-08-02T12:00:00</release-date>
        <urls/>
        <relationships><depends/><conflicts/><replaces/><provides/><compatibleWith/></relationships>
        <software-tags/>
        <system-requires><maintenance-mode>true</maintenance-mode></system-requires>
        <file-list><file>bin/hostd</file></file-list>
        <acceptance-level>certified</acceptance-level>
        <payloads>
      \(Self.payloadXML("k", type: "boot", shipped: s, decompressed: kernelData))
      \(Self.payloadXML("sb", type: "vgz", shipped: sb, decompressed: baseData))
        </payloads>
      </vib>
      """
  }

  var userOptsXML: String {
    """
    <?xml version="1.0" encoding="utf-8"?>
    <vib version="5.0"><payloads>
    \(Self.payloadXML("useropts", type: "vgz", shipped: emptyGzip, decompressed: []))
    </payloads><vendor>VMware</vendor><name>esx-ui-opts</name><type>bootbank</type><version>1.0-1</version></vib>
    """
  }

  let toolsXML = """
    <vib version="5.0"><type>locker</type><name>tools-light</name><version>11.0.1.14773994-15160134</version>
    <vendor>VMware</vendor><payloads><payload name="tools" type="tgz" size="10">
    <checksum checksum-type="sha-256" verify-process="gunzip">00</checksum></payload></payloads></vib>
    """

  func profileXML(extraVIB: String = "") -> String {
    """
    <imageprofile>
      <name>ESXi-6.7.0-20190802001-standard</name>
      <creator>VMware, Inc.</creator>
      <profileID>e5b6d2bd1ea5c7b6b35a0fcb4b1d07b1</profileID>
      <readonly>false</readonly>
      <viblist>
        <vib><vib-id>VMware_bootbank_esx-base_6.7.0-3.73.14320388</vib-id>
          <payloads><payload payload-name="k">k.b00</payload><payload payload-name="sb">
            sb.v00
          </payload></payloads></vib>
        <vib><vib-id>VMware_bootbank_esx-ui-opts_1.0-1</vib-id><payloads><payload payload-name="useropts">useropts.gz</payload></payloads></vib>
        <vib><vib-id>VMware_locker_tools-light_11.0.1.14773994-15160134</vib-id><payloads><payload payload-name="tools">tools.t00</payload></payloads></vib>
        \(extraVIB)
      </viblist>
      <acceptancelevel>partner</acceptancelevel>
    </imageprofile>
    """
  }

  /// Writes the files under a scratch root and returns `tar -czf` of `var/` (GNU tar, gzip).
  static func imgdb(_ files: [String: String]) throws -> [UInt8] {
    let root = try TestPaths.scratchDirectory("imgdb")
    for (path, text) in files {
      let url = root.appendingPathComponent(path)
      try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
      try Data(text.utf8).write(to: url)
    }
    let result = try run("tar", ["-C", root.path, "--sort=name", "-czf", "-", "var"])
    #expect(result.status == 0, "\(result.stderr)")
    return [UInt8](result.stdout)
  }

  func standardDatabase(namespaced: Bool = false, extra: [String: String] = [:], extraVIB: String = "") throws
    -> [UInt8]
  {
    var files = [
      "var/db/esximg/profiles/ESXi-6.7.0-20190802001-standard": profileXML(extraVIB: extraVIB),
      "var/db/esximg/vibs/esx-base-1234567890.xml": esxBaseXML(namespaced: namespaced),
      "var/db/esximg/vibs/esx-ui-opts-2222.xml": userOptsXML,
      "var/db/esximg/vibs/tools-light-3333.xml": toolsXML,
      "var/db/esximg/bulletins/ESXi670-201908001.xml": "<bulletin/>",
    ]
    files.merge(extra) { $1 }
    return try Self.imgdb(files)
  }

  @Test("reads the profile and descriptors of an imgdb.tgz", arguments: InflateBackend.allCases)
  func parses(backend: InflateBackend) throws {
    let database = try ImageDatabase(imgdb: try standardDatabase(), backend: backend)
    #expect(database.findings.isEmpty, "\(database.findings)")
    #expect(database.profiles.count == 1)
    let profile = try #require(database.profiles.first)
    #expect(profile.name == "ESXi-6.7.0-20190802001-standard")
    #expect(profile.path == "var/db/esximg/profiles/ESXi-6.7.0-20190802001-standard")
    #expect(profile.vibs.map(\.id).first == "VMware_bootbank_esx-base_6.7.0-3.73.14320388")
    #expect(profile.vibs.first?.payloads.map(\.fileName) == ["k.b00", "sb.v00"])
    #expect(database.vibs.count == 3)
    let base = try #require(database.vib(id: "VMware_bootbank_esx-base_6.7.0-3.73.14320388"))
    #expect(base.payload(named: "sb")?.size == Int64(sb.count))
    #expect(base.payload(named: "sb")?.type == "vgz")
    #expect(database.members.contains { $0.name == "var/db/esximg/bulletins/ESXi670-201908001.xml" })
    #expect(database.tar.end == .twoZeroBlocks)

    // Pushed in 512-byte clusters, as read off a FAT volume: the same database.
    let bytes = try standardDatabase()
    let reader = ImageDatabase.Reader(backend: backend)
    var start = 0
    while start < bytes.count {
      try reader.feed(Array(bytes[start..<min(start + 512, bytes.count)]))
      start += 512
    }
    let chunked = try reader.finish()
    #expect(chunked.profiles == database.profiles)
    #expect(chunked.vibs == database.vibs)
  }

  @Test("the manifest maps each bank file to its digests and VIB, with ESXi's exceptions")
  func manifest() throws {
    let manifest = PayloadManifest(database: try ImageDatabase(imgdb: try standardDatabase()))
    #expect(manifest.findings.isEmpty, "\(manifest.findings)")
    #expect(manifest.entries.map(\.fileName) == ["k.b00", "sb.v00", "tools.t00", "useropts.gz"])
    let sbEntry = try #require(manifest.entry(forFile: "SB.V00"))
    #expect(sbEntry.payloadName == "sb")
    #expect(sbEntry.vibID == "VMware_bootbank_esx-base_6.7.0-3.73.14320388")
    #expect(sbEntry.vibName == "esx-base")
    #expect(sbEntry.sha256Gunzip == Self.sha256(baseData))
    #expect(sbEntry.sha1Gunzip == Self.sha1(baseData))
    #expect(sbEntry.sha256 == Self.sha256(sb))
    #expect(sbEntry.skip == nil)
    #expect(sbEntry.verifiesByGunzip)
    #expect(manifest.entry(forFile: "useropts.gz")?.skip == .perHost)
    #expect(manifest.entry(forFile: "tools.t00")?.skip == .notInBootbank(vibType: "locker"))

    let coverage = manifest.coverage(of: [
      "boot.cfg", "k.b00", "sb.v00", "useropts.gz", "state.tgz", "imgdb.tgz", "jumpstrt.gz", "stray.bin",
    ])
    #expect(coverage.covered == ["k.b00", "sb.v00", "useropts.gz"])
    #expect(coverage.uncovered == ["boot.cfg", "imgdb.tgz", "jumpstrt.gz", "state.tgz"])
    #expect(coverage.unknown == ["stray.bin"])
    #expect(coverage.missing.isEmpty)
    #expect(manifest.coverage(of: ["k.b00"]).missing.map(\.fileName) == ["sb.v00", "useropts.gz"])
  }

  @Test("namespaced descriptors with another element order read the same")
  func namespaced() throws {
    let plain = PayloadManifest(database: try ImageDatabase(imgdb: try standardDatabase()))
    let spaced = PayloadManifest(database: try ImageDatabase(imgdb: try standardDatabase(namespaced: true)))
    #expect(plain.entries == spaced.entries)
  }

  @Test("bank files are checked against the manifest: sound, changed, truncated, per-host")
  func checks() throws {
    let manifest = PayloadManifest(database: try ImageDatabase(imgdb: try standardDatabase()))
    func check(_ name: String, _ bytes: [UInt8], chunk: Int = 1000) throws -> PayloadManifest.CheckResult {
      let entry = try #require(manifest.entry(forFile: name))
      var results: [PayloadManifest.CheckResult] = []
      for overlap in [true, false] {
        let check = PayloadManifest.FileCheck(entry: entry, overlapHashing: overlap)
        var start = 0
        while start < bytes.count {
          check.feed(Array(bytes[start..<min(start + chunk, bytes.count)]))
          start += chunk
        }
        results.append(check.finish())
      }
      #expect(results[0] == results[1], "overlapped and inline hashing agree")
      return results[0]
    }
    let sound = try check("sb.v00", sb)
    #expect(sound.findings.isEmpty, "\(sound.findings)")
    #expect(sound.sha256Gunzip == Self.sha256(baseData))

    // Recompressed by an installer: different file, same content: still sound.
    let recompressed = try check("sb.v00", [UInt8](try run("gzip", ["-1", "-c"], stdin: Data(baseData)).stdout))
    #expect(recompressed.findings.isEmpty, "\(recompressed.findings)")

    let changed = try check("sb.v00", try Self.gzip(baseData + [0x0a]))
    #expect(changed.findings.map(\.kind) == ["payloadDigestMismatch", "payloadSHA1Mismatch"])

    let truncated = try check("sb.v00", Array(sb.prefix(sb.count - 3)))
    #expect(truncated.findings.map(\.kind) == ["payloadGzipInvalid"])
    #expect(truncated.gzipError?.kind == .truncated)

    let perHost = try check("useropts.gz", try Self.gzip(Array("host-specific options".utf8)))
    #expect(perHost.findings.isEmpty)
    let perHostBroken = try check("useropts.gz", [0x1f, 0x8b, 8])
    #expect(perHostBroken.findings.map(\.kind) == ["payloadGzipInvalid"])
  }

  @Test("SHA-1 is computed only where no SHA-256 (gunzip) is given, or when asked for")
  func sha1Floor() throws {
    let manifest = PayloadManifest(database: try ImageDatabase(imgdb: try standardDatabase()))
    let entry = try #require(manifest.entry(forFile: "sb.v00"))
    var sha1Only = entry
    sha1Only.sha256Gunzip = nil
    let changed = try Self.gzip(baseData + [0x0a])
    func run(_ entry: PayloadManifest.Entry, all: Bool, _ bytes: [UInt8]) -> PayloadManifest.CheckResult {
      let check = PayloadManifest.FileCheck(entry: entry, checkSHA1: all)
      check.feed(bytes)
      return check.finish()
    }
    let floor = run(entry, all: false, changed)
    #expect(floor.findings.map(\.kind) == ["payloadDigestMismatch"])
    #expect(floor.sha1Gunzip == nil)
    #expect(run(entry, all: true, changed).findings.map(\.kind) == ["payloadDigestMismatch", "payloadSHA1Mismatch"])
    #expect(run(sha1Only, all: false, changed).findings.map(\.kind) == ["payloadSHA1Mismatch"])
    #expect(run(sha1Only, all: false, sb).findings.isEmpty)
    #expect(run(sha1Only, all: false, sb).sha1Gunzip == Self.sha1(baseData))
  }

  @Test("content problems are findings: a VIB without descriptor, bad XML, a missing payload")
  func contentFindings() throws {
    let extraVIB = """
      <vib><vib-id>VMW_bootbank_ghost_1.0</vib-id><payloads><payload payload-name="g">ghost.v00</payload></payloads></vib>
      <vib><vib-id>VMware_bootbank_esx-ui-opts_1.0-1</vib-id><payloads><payload payload-name="nope">nope.v00</payload></payloads></vib>
      """
    let bytes = try standardDatabase(
      extra: ["var/db/esximg/vibs/broken-4444.xml": "<vib><name>broken</name>"], extraVIB: extraVIB)
    let database = try ImageDatabase(imgdb: bytes)
    #expect(database.findings.map(\.kind) == ["imgdbXMLInvalid"])
    #expect(database.vibs.count == 3)
    let manifest = PayloadManifest(database: database)
    #expect(manifest.findings.map(\.kind) == ["imgdbVIBDescriptorMissing", "imgdbPayloadMissing"])
    #expect(manifest.entry(forFile: "ghost.v00")?.sha256Gunzip == nil)
  }

  @Test("a profile VIB ID spelled differently still finds its descriptor")
  func looseVIBID() throws {
    let extraVIB = """
      <vib><vib-id>vmware_BOOTBANK_tools-light_11.0.1.14773994-15160134</vib-id>
      <payloads><payload payload-name="tools">tools2.t00</payload></payloads></vib>
      <vib><vib-id>Acme_bootbank_esx-ui-opts_1.0-1</vib-id>
      <payloads><payload payload-name="useropts">opts2.gz</payload></payloads></vib>
      """
    let manifest = PayloadManifest(database: try ImageDatabase(imgdb: try standardDatabase(extraVIB: extraVIB)))
    #expect(manifest.findings.isEmpty, "\(manifest.findings)")
    #expect(manifest.entry(forFile: "tools2.t00")?.vibName == "tools-light")
    #expect(manifest.entry(forFile: "opts2.gz")?.vibName == "esx-ui-opts")
  }

  @Test("an imgdb.tgz without a profile says so")
  func noProfile() throws {
    let bytes = try Self.imgdb(["var/db/esximg/vibs/tools-light-3333.xml": toolsXML])
    let database = try ImageDatabase(imgdb: bytes)
    #expect(database.findings.map(\.kind) == ["imgdbProfileMissing"])
    #expect(PayloadManifest(database: database).entries.isEmpty)
  }

  @Test("damage to the gzip or tar layers throws")
  func damagedArchive() throws {
    let bytes = try standardDatabase()
    #expect(throws: GzipError.self) { _ = try ImageDatabase(imgdb: Array(bytes.prefix(bytes.count / 2))) }
    var flipped = bytes
    flipped[flipped.count - 6] ^= 0xff  // ISIZE
    #expect(throws: GzipError.self) { _ = try ImageDatabase(imgdb: flipped) }
    var limits = ImageDatabase.Limits()
    limits.maxXMLSize = 100
    #expect(throws: TarError.self) { _ = try ImageDatabase(imgdb: bytes, limits: limits) }
  }
}
