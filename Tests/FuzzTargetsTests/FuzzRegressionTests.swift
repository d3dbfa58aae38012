import BootBanks
import DiskFormat
import Foundation
import Testing

@testable import FuzzTargets

/// Inputs the fuzzers (`make fuzz`) found to crash, hang or allocate without bound, kept under
/// `Regressions/<target>/` and fed again to the same target after the parser was fixed.
@Suite("Fuzz regressions")
struct FuzzRegressionTests {
  static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Regressions")

  static func input(_ target: FuzzTarget, _ name: String) throws -> [UInt8] {
    let url = folder.appendingPathComponent(target.rawValue).appendingPathComponent(name)
    return Array(try Data(contentsOf: url))
  }

  /// Every saved input, as (target, file name).
  static let saved: [(String, String)] = {
    FuzzTarget.allCases.flatMap { target in
      let names =
        (try? FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent(target.rawValue).path))
        ?? []
      return names.sorted().map { (target.rawValue, $0) }
    }
  }()

  @Test("every saved input runs through its target without a trap", arguments: saved.map { "\($0.0)/\($0.1)" })
  func replay(path: String) throws {
    let parts = path.split(separator: "/", maxSplits: 1).map(String.init)
    let target = try #require(FuzzTarget(rawValue: parts[0]))
    target.run(try Self.input(target, parts[1]))
  }

  @Test("an attribute name in invalid UTF-8 is a finding, not a trap in FoundationXML")
  func invalidUTF8AttributeName() throws {
    let xml = try Self.input(.imageDatabase, "invalid-utf8-attribute-name.xml")
    // The fuzzer put 42 bytes 0xFF inside `checksum-type`; the first is at byte 3524.
    #expect(xml.firstIndex(of: 0xFF) == 3524)
    let tar = TarBuilder.member(ImageDatabase.vibsDirectory + "esx-base.xml", xml) + [UInt8](repeating: 0, count: 1024)
    let database = try ImageDatabase(imgdb: TarBuilder.gzipStored(tar))
    #expect(database.vibs.isEmpty)
    let invalid = database.findings.filter { $0.kind == "imgdbXMLInvalid" }
    #expect(invalid.count == 1)
    #expect(invalid.first?.message.contains("not UTF-8: invalid byte 0xFF at byte offset 3524") == true)
  }

  /// FoundationXML calls `strlen` on the null data libxml2 passes for `<?target?>`.
  @Test("a processing instruction is a finding, not a null dereference in FoundationXML")
  func processingInstruction() throws {
    let xml = try Self.input(.imageDatabase, "processing-instruction-without-data.xml")
    #expect(xml.starts(with: Array("<?xmutfg?>".utf8)))
    let database = try ImageDatabase(imgdb: Self.imgdb(profile: xml))
    #expect(database.profiles.isEmpty)
    let messages = database.findings.filter { $0.kind == "imgdbXMLInvalid" }.map(\.message)
    #expect(messages.count == 1)
    #expect(messages.first?.contains("a processing instruction at byte offset 0") == true)
  }

  @Test("the XML declaration, after a byte order mark or not, is no processing instruction")
  func declarationAccepted() throws {
    let profile = "<imageprofile><viblist><vib><vib-id>VMW_bootbank_esx-base_1</vib-id></vib></viblist></imageprofile>"
    for prefix in ["<?xml version=\"1.0\"?>\n", "\u{FEFF}<?xml version=\"1.0\" encoding=\"utf-8\"?>", ""] {
      let database = try ImageDatabase(imgdb: Self.imgdb(profile: Array((prefix + profile).utf8)))
      #expect(database.profiles.count == 1, "\(prefix.debugDescription)")
    }
    // Later, or with another target, `<?` is refused where it starts.
    for (text, offset) in [("<?xml version=\"1.0\"?><?pi x?>" + profile, 21), ("<?xml-stylesheet x?>" + profile, 0)] {
      let database = try ImageDatabase(imgdb: Self.imgdb(profile: Array(text.utf8)))
      #expect(database.profiles.isEmpty)
      let message = database.findings.first { $0.kind == "imgdbXMLInvalid" }?.message ?? ""
      #expect(message.contains("a processing instruction at byte offset \(offset)"), "\(message)")
    }
  }

  static func imgdb(profile: [UInt8]) -> [UInt8] {
    let tar =
      TarBuilder.member(ImageDatabase.profilesDirectory + "profile", profile) + [UInt8](repeating: 0, count: 1024)
    return TarBuilder.gzipStored(tar)
  }

  @Test("the same descriptor without the damage still parses")
  func undamagedDescriptor() throws {
    var xml = try Self.input(.imageDatabase, "invalid-utf8-attribute-name.xml")
    xml.removeAll { $0 == 0xFF }
    let tar = TarBuilder.member(ImageDatabase.vibsDirectory + "esx-base.xml", xml) + [UInt8](repeating: 0, count: 1024)
    let database = try ImageDatabase(imgdb: TarBuilder.gzipStored(tar))
    let vib = try #require(database.vibs.first)
    #expect(vib.name == "esx-base")
    #expect(vib.payload(named: "b") != nil)
  }
}

/// The imgdb.tgz the image-database target builds around its input is one that GNU tar reads.
@Suite("Fuzz harness archive")
struct TarBuilderTests {
  @Test(
    "tar reads the members and bytes TarBuilder wrote",
    .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/tar"), "needs GNU tar"))
  func gnuTarReadsIt() throws {
    let body = (0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
    let tar = TarBuilder.member("a/b.xml", body) + TarBuilder.member("c", []) + [UInt8](repeating: 0, count: 1024)
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("tarbuilder-\(UUID().uuidString).tgz")
    defer { try? FileManager.default.removeItem(at: file) }
    try Data(TarBuilder.gzipStored(tar)).write(to: file)
    #expect(String(decoding: try run("/usr/bin/tar", ["-tzvf", file.path]), as: UTF8.self).contains(" 70000 "))
    #expect(try run("/usr/bin/tar", ["-xzOf", file.path, "a/b.xml"]) == Data(body))
    #expect(try run("/usr/bin/tar", ["-tzf", file.path]) == Data("a/b.xml\nc\n".utf8))
  }

  func run(_ tool: String, _ arguments: [String]) throws -> Data {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: tool)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
    return data
  }
}
