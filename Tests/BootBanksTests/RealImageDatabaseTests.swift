import Archive
import BootBanks
import DiskFormat
import Foundation
import TestSupport
import Testing

/// The image database of a real ESXi 6.7 host (Tests/Fixtures/esximg-6.7, trimmed; see its
/// README): descriptors beside their `.xml.orig` and `.xml.sig`, a profile that also maps
/// payloads no bank holds. What the manifest must say is read from the same files by Python's
/// ElementTree, an independent reader.
@Suite("a real host's image database")
struct RealImageDatabaseTests {
  static let fixture = TestPaths.packageRoot.appendingPathComponent("Tests/Fixtures/esximg-6.7")
  static let vibs = fixture.appendingPathComponent("var/db/esximg/vibs")

  /// `tar -czf` of the fixture's `var/`, with `extra` members added and `without` left out.
  static func imgdb(extra: [String: [UInt8]] = [:], without: [String] = []) throws -> [UInt8] {
    let root = try TestPaths.scratchDirectory("real-imgdb")
    try #require(try run("cp", ["-r", fixture.appendingPathComponent("var").path, root.path]).status == 0)
    for path in without { try FileManager.default.removeItem(at: root.appendingPathComponent(path)) }
    for (path, bytes) in extra {
      let url = root.appendingPathComponent(path)
      try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
      try Data(bytes).write(to: url)
    }
    let result = try run("tar", ["-C", root.path, "--sort=name", "-czf", "-", "var"])
    try #require(result.status == 0, "\(result.stderr)")
    return [UInt8](result.stdout)
  }

  /// Per profile payload, from ElementTree: file, payload type, VIB type and the digests.
  static func oracle() throws -> [[String]] {
    let script = """
      import glob, sys, xml.etree.ElementTree as ET
      root = sys.argv[1] + "/var/db/esximg/"
      vibs = {}
      for f in glob.glob(root + "vibs/*.xml"):
          v = ET.parse(f).getroot()
          vibs["_".join(v.findtext(k) for k in ("vendor", "type", "name", "version"))] = v
      for vib in ET.parse(glob.glob(root + "profiles/*")[0]).getroot().iter("vib"):
          v = vibs[vib.findtext("vib-id")]
          for p in vib.iter("payload"):
              d = next(x for x in v.iter("payload") if x.get("name") == p.get("payload-name"))
              sums = {(c.get("checksum-type"), c.get("verify-process")): c.text for c in d.iter("checksum")}
              print(p.text, d.get("type"), v.findtext("type"), sums.get(("sha-256", "gunzip"), "-"),
                    sums.get(("sha-1", "gunzip"), "-"), sums.get(("sha-256", None), "-"))
      """
    let result = try run("python3", ["-c", script, fixture.path])
    try #require(result.status == 0, "\(result.stderr)")
    return result.text.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
  }

  @Test("reads clean: descriptors from .xml only, .xml.orig and .xml.sig listed and left alone")
  func readsClean() throws {
    let database = try ImageDatabase(imgdb: try Self.imgdb())
    #expect(database.findings.isEmpty, "\(database.findings)")
    let names = try FileManager.default.contentsOfDirectory(atPath: Self.vibs.path)
    #expect(database.vibs.count == names.filter { $0.hasSuffix(".xml") }.count)
    #expect(database.vibs.count == 5)
    for suffix in [".xml.sig", ".xml.orig"] {
      #expect(database.members.filter { $0.name.hasSuffix(suffix) }.count == 5, "\(suffix)")
    }
    let profile = try #require(database.profiles.first)
    #expect(profile.name == "ESXi-6.7.0-8169922-standard")
    #expect(profile.profileID == "57ffe944378b11e8ae0c0200e5cbd056")
    #expect(profile.path == "var/db/esximg/profiles/ESXi-6.7.0-8169922-standard452839153")

    let manifest = PayloadManifest(database: database)
    #expect(manifest.findings.isEmpty, "\(manifest.findings)")
    let oracle = try Self.oracle()
    #expect(manifest.entries.count == oracle.count)
    for row in oracle {
      let entry = try #require(manifest.entry(forFile: row[0]), "\(row[0])")
      #expect(entry.payloadType == row[1], "\(row[0])")
      #expect(entry.vibType == row[2], "\(row[0])")
      #expect(entry.sha256Gunzip == (row[3] == "-" ? nil : row[3]), "\(row[0])")
      #expect(entry.sha1Gunzip == (row[4] == "-" ? nil : row[4]), "\(row[0])")
      #expect(entry.sha256 == (row[5] == "-" ? nil : row[5]), "\(row[0])")
    }
  }

  @Test("a bank holds the boot, vgz and tgz payloads of bootbank VIBs; the rest of the profile is not missing")
  func payloadsNoBankHolds() throws {
    let manifest = PayloadManifest(database: try ImageDatabase(imgdb: try Self.imgdb()))
    let oracle = try Self.oracle()
    let onBank = oracle.filter { ["boot", "vgz", "tgz"].contains($0[1]) && $0[2] == "bootbank" }.map { $0[0] }
    let elsewhere = oracle.map { $0[0] }.filter { !onBank.contains($0) }
    #expect(onBank.contains("s.v00") && elsewhere.contains("bootx64..b00") && elsewhere.contains("tools.t00"))
    // What a real bank of this host holds (its payloads, the per-host files, boot.cfg, …)
    let bank = onBank + ["boot.cfg", "imgdb.tgz", "state.tgz"]
    let coverage = manifest.coverage(of: bank)
    #expect(coverage.missing.isEmpty, "\(coverage.missing.map(\.fileName))")
    #expect(coverage.unknown.isEmpty)
    #expect(coverage.covered.sorted() == onBank.sorted())
    // Nothing on the bank: exactly the payloads a bank holds are missing.
    #expect(manifest.coverage(of: []).missing.map(\.fileName).sorted() == onBank.sorted())
    #expect(manifest.entry(forFile: "bootx64..b00")?.skip == .notOnBank(payloadType: "boot_loader_efi"))
    #expect(manifest.entry(forFile: "isoinfo.u00")?.skip == .notOnBank(payloadType: "upgrade"))
    #expect(manifest.entry(forFile: "tools.t00")?.skip == .notInBootbank(vibType: "locker"))
    #expect(manifest.entry(forFile: "features.gz")?.skip == .perHost)
  }

  @Test(
    "members the reader does not need are no finding",
    arguments: [
      // a VIB without its .xml.orig (a host need not keep one for every VIB)
      ("no .orig", [:], ["var/db/esximg/vibs/iser-1317686201.xml.orig"]),
      // folders later versions add beside vibs/, with content never seen before
      (
        "new folders",
        [
          "var/db/esximg/baseimages/ESXi-7.0.3-20328353.json": Array("{\"releaseID\": \"x\"}".utf8),
          "var/db/esximg/reservedVibs/vmware-esx-foo-123.xml.sig": [0x30, 0x82, 0x05, 0xFB, 0x06, 0x09, 0x00],
          "var/db/esximg/solutions/blob.bin": (0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 7919) },
        ], []
      ),
      // a binary signature, as other releases write it
      ("binary .sig", ["var/db/esximg/vibs/iser-1317686201.xml.sig": [0x30, 0x82, 0x05, 0xFB, 0xFF, 0x00, 0x3C]], []),
    ] as [(String, [String: [UInt8]], [String])])
  func unneededMembers(label: String, extra: [String: [UInt8]], without: [String]) throws {
    let base = try ImageDatabase(imgdb: try Self.imgdb())
    let database = try ImageDatabase(imgdb: try Self.imgdb(extra: extra, without: without))
    #expect(database.findings.isEmpty, "\(label): \(database.findings)")
    #expect(database.vibs == base.vibs)
    #expect(database.profiles == base.profiles)
    #expect(PayloadManifest(database: database).findings.isEmpty)
  }

  @Test("a .xml that is not XML is still a finding")
  func brokenDescriptor() throws {
    let bytes = try Self.imgdb(extra: ["var/db/esximg/vibs/iser-1317686201.xml": Array("<vib><name>".utf8)])
    let database = try ImageDatabase(imgdb: bytes)
    #expect(database.findings.map(\.kind) == ["imgdbXMLInvalid"])
    #expect(database.findings.first?.path == "var/db/esximg/vibs/iser-1317686201.xml")
  }
}
