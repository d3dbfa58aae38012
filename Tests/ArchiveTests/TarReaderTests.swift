import Archive
import Foundation
import TestSupport
import Testing

@Suite("tar reader")
struct TarReaderTests {
  typealias S = ArchiveTestSupport

  static let longDirectory =
    "var/db/esximg/" + String(repeating: "d", count: 60) + "/" + String(repeating: "e", count: 50)
  static let longFile = String(repeating: "n", count: 90) + ".xml"

  /// A directory tree with files of sizes around the block size, a symlink, a hard link and long names.
  static func makeTree() throws -> URL {
    let root = try TestPaths.scratchDirectory("tar")
    let fm = FileManager.default
    let tree = root.appendingPathComponent("tree")
    try fm.createDirectory(at: tree.appendingPathComponent(longDirectory), withIntermediateDirectories: true)
    let sizes = [0, 1, 511, 512, 513, 10_000]
    for size in sizes {
      try Data(S.sample(count: size, seed: UInt64(size + 1))).write(to: tree.appendingPathComponent("f\(size).bin"))
    }
    try Data(S.sample(count: 777)).write(to: tree.appendingPathComponent(longDirectory + "/" + longFile))
    try fm.createSymbolicLink(atPath: tree.appendingPathComponent("link").path, withDestinationPath: "f1.bin")
    try fm.linkItem(at: tree.appendingPathComponent("f513.bin"), to: tree.appendingPathComponent("hard"))
    // Fixed times and modes so the listing is deterministic.
    try run(
      "sh", ["-c", "cd '\(tree.path)' && chmod 0644 f*.bin && find . -exec touch -h -d '2021-03-04 05:06:07' {} +"])
    return tree
  }

  static func tar(_ tree: URL, format: String, extra: [String] = []) throws -> [UInt8] {
    let result = try run(
      "tar",
      ["-C", tree.path, "--format=\(format)", "--sort=name", "--owner=root:0", "--group=root:0"] + extra + [
        "-cf", "-", ".",
      ])
    guard result.status == 0 else {
      throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: result.stderr])
    }
    return [UInt8](result.stdout)
  }

  /// `tar tvf` of `archive` as (type, owner/group, size, date time, name) rows.
  static func oracle(_ archive: [UInt8]) throws -> [[String]] {
    let result = try run("tar", ["-tvf", "-"], stdin: Data(archive))
    return result.text.split(separator: "\n").map { line in
      let parts = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true).map(String.init)
      var name = parts[5]
      if let arrow = name.range(of: " -> ") { name = String(name[..<arrow.lowerBound]) }
      if let link = name.range(of: " link to ") { name = String(name[..<link.lowerBound]) }
      let type = String(parts[0].prefix(1))
      let size = parts[0].hasPrefix("h") ? "0" : parts[2]
      return [type, parts[1], size, parts[3] + " " + parts[4], name]
    }
  }

  static func rows(_ members: [TarMember]) -> [[String]] {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyy-MM-dd HH:mm"
    return members.map { m in
      let type: String
      switch m.kind {
      case .directory: type = "d"
      case .symbolicLink: type = "l"
      case .hardLink: type = "h"
      default: type = "-"
      }
      let date = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(m.modificationTime)))
      return [type, "\(m.userName)/\(m.groupName)", String(m.size), date, m.name]
    }
  }

  static func list(_ archive: [UInt8], splits: [Int] = [], limits: TarReader.Limits = .init()) throws -> (
    [TarMember], TarSummary
  ) {
    var reader = TarReader(limits: limits)
    var listing = TarListing()
    var start = 0
    for split in splits + [archive.count] where split >= start {
      let chunk = Array(archive[start..<min(split, archive.count)])
      try reader.feed(chunk.span, to: &listing)
      start = min(split, archive.count)
    }
    let summary = try reader.finish()
    return (listing.members, summary)
  }

  @Test("lists what GNU tar wrote as tar tvf does", arguments: ["ustar", "gnu", "pax"])
  func listsLikeTar(format: String) throws {
    let tree = try Self.makeTree()
    let archive = try Self.tar(tree, format: format)
    let (members, summary) = try Self.list(archive)
    #expect(Self.rows(members) == (try Self.oracle(archive)))
    #expect(summary.end == .twoZeroBlocks)
    #expect(summary.byteCount == Int64(archive.count))
    #expect(members.contains { $0.name == "./" + Self.longDirectory + "/" + Self.longFile && $0.size == 777 })
    #expect(members.first { $0.name == "./link" }?.linkName == "f1.bin")
    // The same listing from random splits of the stream.
    for round in 1...6 {
      let splits = (0..<(round * 5)).map { _ in Int.random(in: 0...archive.count) }.sorted()
      #expect(try Self.list(archive, splits: splits).0 == members)
    }
  }

  @Test("a GNU long name ('L') and a pax path ('x') give the full name")
  func longNames() throws {
    let tree = try Self.makeTree()
    for format in ["gnu", "pax"] {
      let archive = try Self.tar(tree, format: format)
      let names = try Self.list(archive).0.map(\.name)
      #expect(names.contains("./" + Self.longDirectory + "/" + Self.longFile), "\(format)")
      #expect(names.allSatisfy { !$0.contains("PaxHeaders") && !$0.contains("././@LongLink") }, "\(format)")
    }
  }

  @Test("a .tgz lists through gzip and tar in one pass", arguments: InflateBackend.allCases)
  func tgz(backend: InflateBackend) throws {
    let tree = try Self.makeTree()
    let archive = try Self.tar(tree, format: "gnu")
    let compressed = try S.gzipN(archive)
    let members = try TarGzReader.list(compressed, backend: backend)
    #expect(Self.rows(members) == (try Self.oracle(archive)))
  }

  @Test("extracts selected members into memory, with caps")
  func extract() throws {
    let tree = try Self.makeTree()
    let archive = try Self.tar(tree, format: "ustar")
    var reader = TarReader()
    var extractor = TarExtractor { $0.name.hasSuffix(".xml") || $0.name == "./f511.bin" }
    try reader.feed(archive.span, to: &extractor)
    _ = try reader.finish()
    #expect(extractor.files["./f511.bin"] == S.sample(count: 511, seed: 512))
    #expect(extractor.files["./" + Self.longDirectory + "/" + Self.longFile] == S.sample(count: 777))
    #expect(extractor.files.count == 2)

    var capped = TarExtractor(maxMemberSize: 500) { $0.name == "./f511.bin" }
    var again = TarReader()
    let error = #expect(throws: TarError.self) { try again.feed(archive.span, to: &capped) }
    #expect(error?.kind == .memberTooLarge(size: 511, limit: 500))
    #expect(error?.member == "./f511.bin")
  }

  @Test("a corrupted header checksum is reported with the member's name and the chksum offset")
  func checksum() throws {
    let tree = try Self.makeTree()
    let archive = try Self.tar(tree, format: "ustar")
    let (members, _) = try Self.list(archive)
    let victim = try #require(members.first { $0.name == "./f10000.bin" })
    var damaged = archive
    damaged[Int(victim.headerOffset) + 136 + 3] ^= 0x01  // a digit of mtime
    let error = #expect(throws: TarError.self) { _ = try Self.list(damaged) }
    guard case .checksumMismatch? = error?.kind else {
      Issue.record("expected a checksum mismatch, got \(String(describing: error))")
      return
    }
    #expect(error?.member == "./f10000.bin")
    #expect(error?.field == "chksum")
    #expect(error?.offset == victim.headerOffset + 148)
  }

  @Test("a truncated body is reported with the member's name and where the data stopped")
  func truncatedBody() throws {
    let tree = try Self.makeTree()
    let archive = try Self.tar(tree, format: "gnu")
    let (members, _) = try Self.list(archive)
    let victim = try #require(members.first { $0.name == "./f10000.bin" })
    for cut in [victim.dataOffset, victim.dataOffset + 4000, victim.dataOffset + 9999] {
      let error = #expect(throws: TarError.self) { _ = try Self.list(Array(archive.prefix(Int(cut)))) }
      #expect(error?.kind == .truncated)
      #expect(error?.member == "./f10000.bin")
      #expect(error?.field == "body")
      #expect(error?.offset == cut)
    }
    let inPadding = victim.dataOffset + 10_001
    let padding = #expect(throws: TarError.self) { _ = try Self.list(Array(archive.prefix(Int(inPadding)))) }
    #expect(padding?.field == "padding")
    let inHeader = #expect(throws: TarError.self) {
      _ = try Self.list(Array(archive.prefix(Int(victim.headerOffset) + 100)))
    }
    #expect(inHeader?.field == "header")
  }

  @Test("an archive cut at a member boundary has no end marker; the summary says so")
  func missingEnd() throws {
    let tree = try Self.makeTree()
    let archive = try Self.tar(tree, format: "ustar")
    let (members, _) = try Self.list(archive)
    let last = try #require(members.last)
    let (again, summary) = try Self.list(Array(archive.prefix(Int(last.headerOffset))))
    #expect(again.count == members.count - 1)
    #expect(summary.end == .missing)
    let (_, lone) = try Self.list(Array(archive.prefix(Int(last.headerOffset))) + [UInt8](repeating: 0, count: 512))
    #expect(lone.end == .loneZeroBlock)
  }

  @Test("limits on members and name length are enforced")
  func limits() throws {
    let tree = try Self.makeTree()
    let archive = try Self.tar(tree, format: "gnu")
    let many = #expect(throws: TarError.self) { _ = try Self.list(archive, limits: .init(maxMembers: 3)) }
    #expect(many?.kind == .tooManyMembers(limit: 3))
    let long = #expect(throws: TarError.self) { _ = try Self.list(archive, limits: .init(maxNameLength: 64)) }
    guard case .nameTooLong? = long?.kind else {
      Issue.record("expected nameTooLong, got \(String(describing: long))")
      return
    }
  }

  @Test("GNU base-256 numbers (a uid above 0o7777777, written by Python's tarfile)")
  func base256() throws {
    let script = """
      import tarfile, io, sys
      buf = io.BytesIO()
      with tarfile.open(fileobj=buf, mode='w', format=tarfile.GNU_FORMAT) as t:
          info = tarfile.TarInfo('big-uid.txt'); info.uid = 3000000000; info.size = 5; info.mtime = 0
          t.addfile(info, io.BytesIO(b'hello'))
      sys.stdout.buffer.write(buf.getvalue())
      """
    let archive = try S.pipe("python3", ["-c", script], [])
    let (members, summary) = try Self.list(archive)
    #expect(members.first?.uid == 3_000_000_000)
    #expect(members.first?.size == 5)
    #expect(summary.end == .twoZeroBlocks)
  }
}
