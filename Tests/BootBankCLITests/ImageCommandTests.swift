import Foundation
import TestSupport
import Testing

/// `bootbank image`: the image and bmap are checked by bmaptool (which verifies the bmap's own
/// checksum and every range's SHA-256 as it copies), and the copy is compared with the
/// original by independent tools: sfdisk and sgdisk for the tables, mtools for the FAT trees
/// and file bytes, and the raw bytes of the partition bootbank does not read into.
@Suite("bootbank image", .serialized)
struct ImageCommandTests {
  static let tools =
    hasTool("bmaptool") && hasTool("mcopy") && hasTool("mdir") && hasTool("sfdisk")
    && hasTool("sgdisk")
  static let reason = "needs bmaptool (Debian bmap-tools), mtools, sfdisk and sgdisk"

  /// esxi7.img's partitions (first LBA, sectors): the ESP and the two banks are FAT; 7 is OSDATA.
  static let fatPartitions = [(1, 64), (5, 69632), (6, 202752)]
  static let osdata = (first: 335872, count: 16384)

  /// A scratch copy of esxi7.img whose OSDATA partition holds three non-zero 4 KiB blocks
  /// (the fixture's is all zeros), so the raw path stores and maps something.
  static func sourceImage(in dir: URL) throws -> URL {
    let image = dir.appendingPathComponent("source.img")
    try FileManager.default.copyItem(at: URL(fileURLWithPath: Scenarios.path("esxi7.img")), to: image)
    let handle = try FileHandle(forWritingTo: image)
    var random = SplitMix64(state: 14)
    for block in [0, 1, 700] {
      try handle.seek(toOffset: UInt64(osdata.first * 512 + block * 4096))
      handle.write(Data((0..<4096).map { _ in random.byte() }))
    }
    try handle.close()
    return image
  }

  static func sha256(_ path: String) throws -> String {
    let result = try run("sha256sum", [path])
    return String(result.text.prefix(64))
  }

  /// Every file of the FAT partition at `lba` of `image`, by path, as sha256, extracted with mcopy.
  static func fatFiles(_ image: URL, lba: Int, into dir: URL) throws -> [String: String] {
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let copy = try run("mcopy", ["-s", "-n", "-m", "-i", "\(image.path)@@\(lba * 512)", "::/*", dir.path])
    #expect(copy.status == 0, "\(copy.stderr)")
    var files: [String: String] = [:]
    let walker = FileManager.default.enumerator(atPath: dir.path)
    while let relative = walker?.nextObject() as? String {
      let path = dir.appendingPathComponent(relative).path
      var isDirectory: ObjCBool = false
      if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
        files[relative] = try sha256(path)
      }
    }
    return files
  }

  /// Blocks a bmap maps, as closed ranges.
  static func mappedBlocks(_ bmap: String) throws -> [ClosedRange<Int>] {
    let text = try String(contentsOfFile: bmap, encoding: .utf8)
    return text.split(separator: "\n").compactMap { line -> ClosedRange<Int>? in
      guard line.contains("<Range"), let open = line.firstIndex(of: ">"), let close = line.lastIndex(of: "<") else {
        return nil
      }
      let field = line[line.index(after: open)..<close].trimmingCharacters(in: .whitespaces)
      let bounds = field.split(separator: "-").compactMap { Int($0) }
      return bounds.count == 2 ? bounds[0]...bounds[1] : bounds[0]...bounds[0]
    }
  }

  /// Images the source, copies it with bmaptool, and compares the copy with the original.
  @Test(
    .enabled(if: tools, Comment(rawValue: reason)),
    .enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)),
    arguments: ["copy.img", "copy.img.gz", "copy.img.zst"])
  func bmaptoolCopiesTheImageAndTheCopyEqualsTheOriginal(_ name: String) throws {
    let dir = try TestPaths.scratchDirectory("image")
    let source = try Self.sourceImage(in: dir)
    let out = dir.appendingPathComponent(name).path
    let result = try BootbankBinary.run(["image", source.path, "-o", out, "--json"])
    #expect(result.status == 0, "\(result.stderr)")
    let json = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
    let bmap = dir.appendingPathComponent("copy.img.bmap").path
    #expect(json["bmap"] as? String == bmap)
    #expect(json["output"] as? String == out)
    #expect(json["format"] as? String == (name.hasSuffix(".gz") ? "gzip" : name.hasSuffix(".zst") ? "zstd" : "raw"))
    let size = try #require(try FileManager.default.attributesOfItem(atPath: source.path)[.size] as? Int)
    #expect(json["imageSize"] as? Int == size)
    let bytesRead = try #require(json["bytesRead"] as? Int)
    // The used part: far less than the device (the banks are mostly free space).
    #expect(bytesRead < size / 2)
    let mapped = try Self.mappedBlocks(bmap)
    #expect(mapped.reduce(0) { $0 + $1.count } == json["mappedBlocks"] as? Int)
    #expect(mapped.count == json["ranges"] as? Int)
    // The three non-zero OSDATA blocks are mapped; the zero ones around them are not.
    let osdataBlock = Self.osdata.first * 512 / 4096
    for block in [0, 1, 700] { #expect(mapped.contains { $0.contains(osdataBlock + block) }) }
    #expect(!mapped.contains { $0.contains(osdataBlock + 2) })

    let dest = dir.appendingPathComponent("dest.img").path
    let copy = try run("bmaptool", ["copy", "--bmap", bmap, out, dest])
    #expect(copy.status == 0, "bmaptool copy: \(copy.stderr)")
    #expect(!copy.stderr.contains("no checksum"))

    // The tables.
    let originalTable = try run("sfdisk", ["-d", source.path]).text
    let copiedTable = try run("sfdisk", ["-d", dest]).text
    #expect(
      copiedTable.replacingOccurrences(of: dest, with: "X")
        == originalTable.replacingOccurrences(
          of: source.path, with: "X"))
    let verified = try run("sgdisk", ["-v", dest])
    #expect(verified.text.contains("No problems found"), "\(verified.text)")
    // The FAT trees (names, sizes, dates) and every file's bytes.
    let destURL = URL(fileURLWithPath: dest)
    for (number, lba) in Self.fatPartitions {
      let tree = { (image: String) in
        try run("mdir", ["-/", "-a", "-i", "\(image)@@\(lba * 512)", "::"]).text
      }
      #expect(try tree(dest) == tree(source.path), "partition \(number)")
      let originalFiles = try Self.fatFiles(source, lba: lba, into: dir.appendingPathComponent("a\(number)"))
      let copiedFiles = try Self.fatFiles(destURL, lba: lba, into: dir.appendingPathComponent("b\(number)"))
      #expect(!originalFiles.isEmpty)
      #expect(copiedFiles == originalFiles, "partition \(number)")
    }
    // The raw partition, byte for byte.
    let original = try Data(contentsOf: source)
    let copied = try Data(contentsOf: destURL)
    let osdataBytes = (Self.osdata.first * 512)..<((Self.osdata.first + Self.osdata.count) * 512)
    try #require(copied.count == original.count)
    #expect(copied[osdataBytes] == original[osdataBytes])
    let verify = try BootbankBinary.run(["verify", dest])
    #expect(verify.status == 0, "\(verify.text)\(verify.stderr)")

    if name.hasSuffix(".zst") {
      // An independent decoder reads the stream whole (its frame checksum included).
      #expect(try run("zstd", ["-t", "-q", out]).status == 0)
    }
    if name == "copy.img" {
      // Only what was read is allocated: the file is sparse, about the bytes in use.
      let blocks = try run("stat", ["-c", "%b %B", out]).text.split(separator: " ").compactMap {
        Int($0.trimmingCharacters(in: .whitespacesAndNewlines))
      }
      let allocated = blocks[0] * blocks[1]
      #expect(allocated <= bytesRead + 1 << 20, "allocated \(allocated), read \(bytesRead)")
      #expect(allocated < size / 4)
      #expect(try Self.sha256(out) == Self.sha256(dest))
    }
  }

  @Test(
    .enabled(if: tools, Comment(rawValue: reason)),
    .enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)))
  func skipPartitionLeavesItOutOfTheImageAndTheBmap() throws {
    let dir = try TestPaths.scratchDirectory("image-skip")
    let source = try Self.sourceImage(in: dir)
    let out = dir.appendingPathComponent("skip.img").path
    let bmap = dir.appendingPathComponent("other.bmap").path
    let result = try BootbankBinary.run([
      "image", source.path, "-o", out, "--bmap", bmap, "--skip-partition", "7", "--json",
    ])
    #expect(result.status == 0, "\(result.stderr)")
    let json = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
    #expect(json["skippedPartitions"] as? [Int] == [7])
    #expect(try String(contentsOfFile: bmap, encoding: .utf8).contains("left out (not read, not mapped): 7"))
    let first = Self.osdata.first * 512 / 4096
    let last = (Self.osdata.first + Self.osdata.count) * 512 / 4096 - 1
    #expect(!(try Self.mappedBlocks(bmap)).contains { $0.overlaps(first...last) })
    let dest = dir.appendingPathComponent("dest.img").path
    let copy = try run("bmaptool", ["copy", "--bmap", bmap, out, dest])
    #expect(copy.status == 0, "bmaptool copy: \(copy.stderr)")
    let copied = try Data(contentsOf: URL(fileURLWithPath: dest))
    try #require(copied.count >= (last + 1) * 4096)
    #expect(copied[(first * 4096)..<((last + 1) * 4096)].allSatisfy { $0 == 0 })
    let verify = try BootbankBinary.run(["verify", dest])
    #expect(verify.status == 0, "\(verify.text)\(verify.stderr)")
    let text = try BootbankBinary.run(["image", source.path, "-o", out, "--skip-partition", "7", "--force"])
    #expect(text.status == 0, "\(text.stderr)")
    #expect(text.text.contains("partition 7: skipped"))
  }

  /// Other layouts: an MBR disk with EBRs, a 4Kn disk, and the real 7.x LBAs. The copy's
  /// table (sfdisk) and verify's verdict equal the original's.
  @Test(
    .enabled(if: tools, Comment(rawValue: reason)),
    .enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)),
    arguments: ["esxi-mbr.img", "esxi7-4kn.img", "esxi7-real-layout.img"])
  func otherLayoutsCopyWithTheirTables(_ name: String) throws {
    let dir = try TestPaths.scratchDirectory("image-layouts")
    let source = Scenarios.path(name)
    let out = dir.appendingPathComponent("out.img.gz").path
    let result = try BootbankBinary.run(["image", source, "-o", out])
    #expect(result.status == 0, "\(result.stderr)")
    let dest = dir.appendingPathComponent("dest.img").path
    let copy = try run("bmaptool", ["copy", out, dest])
    #expect(copy.status == 0, "bmaptool copy: \(copy.stderr)")
    if name.contains("4kn") {
      // sfdisk reads an image file at 512-byte sectors: compare the table sectors themselves
      // (LBA 0-5 and the last 5 LBAs of 4096 bytes: MBR, both GPT headers and entry arrays).
      let original = try Data(contentsOf: URL(fileURLWithPath: source))
      let copied = try Data(contentsOf: URL(fileURLWithPath: dest))
      try #require(copied.count == original.count)
      #expect(copied.prefix(6 * 4096) == original.prefix(6 * 4096))
      #expect(copied.suffix(5 * 4096) == original.suffix(5 * 4096))
    } else {
      let table = { (path: String) in
        try run("sfdisk", ["-d", path]).text.replacingOccurrences(of: path, with: "X")
      }
      let original = try table(source)
      #expect(original.contains("start="))
      #expect(try table(dest) == original)
    }
    let before = try BootbankBinary.json(["verify", source])
    let after = try BootbankBinary.json(["verify", dest])
    #expect(after.status == before.status)
    #expect(after.object["verdict"] as? String == before.object["verdict"] as? String)
    #expect(after.object["summary"] as? String == before.object["summary"] as? String)
  }

  @Test(.enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)))
  func refusesAnOutputThatExistsOrIsTheTarget() throws {
    let dir = try TestPaths.scratchDirectory("image-refuse")
    let source = try Self.sourceImage(in: dir)
    let before = try Self.sha256(source.path)
    let out = dir.appendingPathComponent("exists.img").path
    try Data("keep".utf8).write(to: URL(fileURLWithPath: out))
    let exists = try BootbankBinary.run(["image", source.path, "-o", out])
    #expect(exists.status == 2)
    #expect(exists.stderr.contains("exists"), "\(exists.stderr)")
    #expect(try String(contentsOfFile: out, encoding: .utf8) == "keep")
    #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("exists.img.bmap").path))
    // The target itself, even with --force, and through another name.
    let link = dir.appendingPathComponent("link.img").path
    try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: source.path)
    for target in [source.path, link] {
      let same = try BootbankBinary.run(["image", source.path, "-o", target, "--force"])
      #expect(same.status == 2)
      #expect(same.stderr.contains("is the target itself"), "\(same.stderr)")
    }
    #expect(try Self.sha256(source.path) == before)
    let bad = try BootbankBinary.run([
      "image", source.path, "-o", dir.appendingPathComponent("x.img").path, "--skip-partition", "9",
    ])
    #expect(bad.status == 2)
    #expect(bad.stderr.contains("no partition 9"))
    let forced = try BootbankBinary.run(["image", source.path, "-o", out, "--force", "--quiet"])
    #expect(forced.status == 0, "\(forced.stderr)")
    #expect(forced.text.isEmpty)
    #expect(try run("sgdisk", ["-v", out]).text.contains("No problems found"))
  }

  /// --manifest: the per-file digests `checksum --files --manifest` saves, equal to its own
  /// (but for the time); `verify --manifest` is clean on the device imaged and names the file
  /// changed after it (mtools writes the change).
  @Test(
    .enabled(if: tools, Comment(rawValue: reason)),
    .enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)))
  func theManifestOfAnImageTellsVerifyWhatChangedSince() throws {
    let dir = try TestPaths.scratchDirectory("image-manifest")
    let source = try Self.sourceImage(in: dir)
    let manifest = dir.appendingPathComponent("image.json").path
    let result = try BootbankBinary.run([
      "image", source.path, "-o", dir.appendingPathComponent("copy.img.zst").path, "--manifest", manifest, "--json",
    ])
    #expect(result.status == 0, "\(result.stderr)")
    let json = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
    #expect(json["manifest"] as? String == manifest)
    let checksumManifest = dir.appendingPathComponent("checksum.json").path
    #expect(try BootbankBinary.run(["checksum", source.path, "--files", "--manifest", checksumManifest]).status == 0)
    func files(_ path: String) throws -> [[String: String]] {
      let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
      return ((object as? [String: Any])?["files"] as? [[String: Any]] ?? []).map { file in
        file.compactMapValues { value in (value as? String) ?? (value as? Int).map(String.init) }
      }
    }
    let imaged = try files(manifest)
    #expect(!imaged.isEmpty)
    #expect(json["manifestFiles"] as? Int == imaged.count)
    #expect(try imaged == files(checksumManifest))
    let clean = try BootbankBinary.run(["verify", source.path, "--manifest", manifest])
    #expect(clean.status == 0, "\(clean.text)")

    let lba = Self.fatPartitions[1].1
    let spec = "\(source.path)@@\(lba * 512)"
    let config = try run("mtype", ["-i", spec, "::/boot.cfg"]).stdout
    let local = dir.appendingPathComponent("boot.cfg")
    try (config + Data("# changed\n".utf8)).write(to: local)
    try #require(try run("mcopy", ["-o", "-i", spec, local.path, "::/boot.cfg"]).status == 0)
    let changed = try BootbankBinary.run(["verify", source.path, "--manifest", manifest, "--json"])
    #expect(changed.status == 1)
    #expect(changed.text.contains("fileChanged") && changed.text.lowercased().contains("boot.cfg"), "\(changed.text)")
  }

  /// --progress=json: one JSON object a line on standard error, the last one finished, with
  /// the bytes the summary says were read.
  @Test(.enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)))
  func progressAsJSONLines() throws {
    let dir = try TestPaths.scratchDirectory("image-progress")
    let source = try Self.sourceImage(in: dir)
    let result = try BootbankBinary.run([
      "image", source.path, "-o", dir.appendingPathComponent("p.img").path, "--progress=json", "--json",
    ])
    #expect(result.status == 0, "\(result.stderr)")
    let summary = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
    let lines = result.stderr.split(separator: "\n")
    #expect(!lines.isEmpty)
    let updates = try lines.map {
      try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
    }
    let last = try #require(updates.last)
    #expect(last["finished"] as? Bool == true)
    #expect(last["phase"] as? String == "image")
    #expect(last["done"] as? Int == summary["bytesRead"] as? Int)
    #expect(last["total"] as? Int == summary["bytesRead"] as? Int)
    let quiet = try BootbankBinary.run([
      "image", source.path, "-o", dir.appendingPathComponent("q.img").path, "--progress=json", "--quiet",
    ])
    #expect(quiet.status == 0 && quiet.stderr.isEmpty)
  }
}
