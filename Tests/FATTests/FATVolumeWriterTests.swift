import DiskFormat
import FAT
import Foundation
import PartitionTable
import TestSupport
import Testing

/// The FAT writer lays a tree read from one volume onto another volume made by mkfs.fat (and
/// filled with other files first); fsck.fat finds the result clean, mtools reads every file
/// back byte for byte under the source's names, and our own reader agrees.
@Suite("FAT volume writer")
struct FATVolumeWriterTests {
  static let toolsPresent = hasTool("mkfs.fat") && hasTool("mcopy") && hasTool("fsck.fat") && hasTool("mdir")

  struct Pair: Sendable, CustomTestStringConvertible {
    var source: MtoolsRoundTripTests.Layout
    var target: MtoolsRoundTripTests.Layout
    var testDescription: String { "\(source.testDescription) → \(target.testDescription)" }
  }

  static let pairs: [Pair] = [
    Pair(
      source: .init(fatBits: 16, sectorSize: 512, megabytes: 32),
      target: .init(fatBits: 16, sectorSize: 512, megabytes: 48)),
    Pair(
      source: .init(fatBits: 32, sectorSize: 512, megabytes: 64),
      target: .init(fatBits: 32, sectorSize: 512, megabytes: 80)),
    Pair(
      source: .init(fatBits: 16, sectorSize: 512, megabytes: 32),
      target: .init(fatBits: 32, sectorSize: 4096, megabytes: 300)),
    Pair(
      source: .init(fatBits: 32, sectorSize: 4096, megabytes: 300),
      target: .init(fatBits: 16, sectorSize: 512, megabytes: 40)),
    Pair(
      source: .init(fatBits: 12, sectorSize: 512, megabytes: 4),
      target: .init(fatBits: 12, sectorSize: 4096, megabytes: 8)),
  ]

  /// Writes `layout` into the file at `path`, the volume starting at byte `base`; source
  /// ranges are read from `source`.
  static func apply(_ layout: FATVolumeLayout, to path: String, base: Int64, source: any ByteSource) throws {
    let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    for write in layout.writes {
      var bytes: [UInt8]
      switch write.content {
      case .bytes(let b): bytes = b
      case .source(let ranges): bytes = try ranges.flatMap { try source.read($0) }
      }
      #expect(bytes.count <= write.count)
      bytes += [UInt8](repeating: 0, count: write.count - bytes.count)
      try handle.seek(toOffset: UInt64(base + write.offset))
      try handle.write(contentsOf: Data(bytes))
    }
  }

  /// A fresh volume with `layout`, label and serial given, holding a fragmented copy of the
  /// round-trip tree; returns path → bytes (nil for directories).
  static func makeVolume(
    _ layout: MtoolsRoundTripTests.Layout, at image: String, label: String, serial: String, work: URL,
    tree: Bool = true
  ) throws -> [String: [UInt8]?] {
    let fm = FileManager.default
    let mkfs = try run(
      "mkfs.fat",
      [
        "-C", "-F", "\(layout.fatBits)", "-S", "\(layout.sectorSize)", "-n", label, "-i", serial, image,
        "\(layout.megabytes * 1024)",
      ])
    try #require(mkfs.status == 0, "mkfs.fat: \(mkfs.stderr)")
    let dir = work.appendingPathComponent("tree-\(label)")
    try fm.createDirectory(at: dir, withIntermediateDirectories: true)
    // Fillers, every other one deleted, then a large file into the holes: a fragmented file.
    var expected: [String: [UInt8]?] = [:]
    var fillers: [String] = []
    for i in 0..<8 {
      let name = dir.appendingPathComponent("FILL\(i).BIN").path
      try Data(MtoolsRoundTripTests.content(900 + i, size: 3 * 4096)).write(to: URL(fileURLWithPath: name))
      fillers.append(name)
    }
    #expect(try run("mcopy", ["-i", image] + fillers + ["::/"]).status == 0)
    #expect(try run("mdel", ["-i", image] + stride(from: 0, to: 8, by: 2).map { "::/FILL\($0).BIN" }).status == 0)
    for i in stride(from: 1, to: 8, by: 2) {
      expected["/FILL\(i).BIN"] = .some(MtoolsRoundTripTests.content(900 + i, size: 3 * 4096))
    }
    guard tree else { return expected }
    let big = MtoolsRoundTripTests.content(78, size: 150_000)
    let bigPath = dir.appendingPathComponent("Fragmented File.bin").path
    try Data(big).write(to: URL(fileURLWithPath: bigPath))
    #expect(try run("mcopy", ["-i", image, bigPath, "::/"]).status == 0)
    expected["/Fragmented File.bin"] = .some(big)
    let src = dir.appendingPathComponent("src")
    try fm.createDirectory(at: src, withIntermediateDirectories: true)
    expected.merge(try MtoolsRoundTripTests.makeTree(in: src)) { $1 }
    let items = try fm.contentsOfDirectory(atPath: src.path).map { src.appendingPathComponent($0).path }
    let copy = try run("mcopy", ["-i", image, "-s", "-Q", "-m"] + items + ["::/"])
    try #require(copy.status == 0, "mcopy: \(copy.stderr)")
    return expected
  }

  /// Every entry of a volume by path.
  static func entries(_ volume: FATVolume) throws -> [String: FATEntry] {
    var out: [String: FATEntry] = [:]
    try volume.walk { out[$0.path] = $0 }
    return out
  }

  @Test(
    "a tree written over a used volume checks clean and reads back equal", .enabled(if: toolsPresent), arguments: pairs)
  func writesATree(_ pair: Pair) throws {
    let scratch = try ScratchDirectory("fat-writer")
    let sourcePath = scratch.path("source.img")
    let targetPath = scratch.path("target.img")
    let expected = try Self.makeVolume(
      pair.source, at: sourcePath, label: "SOURCE", serial: "1111AAAA", work: scratch.url)
    // The target holds other files, which must be gone afterwards.
    _ = try Self.makeVolume(
      pair.target, at: targetPath, label: "TARGETLBL", serial: "2222BBBB", work: scratch.url, tree: false)
    let targetHead = try TestFileSource(path: targetPath).read(at: 0, count: 2 * pair.target.sectorSize)

    let source = try FATVolume(source: try TestFileSource(path: sourcePath, sectorSize: pair.source.sectorSize))
    let tree = try source.writeTree()
    let target = try FATVolume(source: try TestFileSource(path: targetPath, sectorSize: pair.target.sectorSize))
    let layout = try FATVolumeWriter(target: target).layout(tree)
    #expect(layout.fileBytes == expected.values.compactMap { $0 }.reduce(0) { $0 + Int64($1.count) })
    // Each write is whole sectors; data comes first, then directories, then FATs.
    for write in layout.writes {
      #expect(write.offset % Int64(pair.target.sectorSize) == 0 && write.count % pair.target.sectorSize == 0)
    }
    #expect(layout.writes.firstIndex { !$0.isData } ?? 0 >= layout.writes.lastIndex { $0.isData } ?? 0)
    try Self.apply(layout, to: targetPath, base: 0, source: source.source)

    // fsck.fat: clean.
    let fsck = try run("fsck.fat", ["-n", targetPath])
    #expect(fsck.status == 0, "fsck.fat: \(fsck.text) \(fsck.stderr)")
    // The boot sector and sector 1 untouched; label and serial are the target's.
    // (Sector 1 only where it is a reserved sector other than FSInfo, as on a bank.)
    let boot = target.bootSector
    let kept = boot.reservedSectors >= 2 && boot.fsInfoSector != 1 ? 2 : 1
    let head = try TestFileSource(path: targetPath).read(at: 0, count: kept * pair.target.sectorSize)
    #expect(head == Array(targetHead.prefix(kept * pair.target.sectorSize)))
    let written = try FATVolume(source: try TestFileSource(path: targetPath, sectorSize: pair.target.sectorSize))
    #expect(try written.label() == "TARGETLBL")
    #expect(written.serial == "2222-BBBB")
    let findings = try written.check().findings
    #expect(findings.isEmpty, "\(findings)")

    // Our reader: the same paths, bytes, attributes, timestamps and 8.3 names; files contiguous.
    let before = try Self.entries(source)
    let after = try Self.entries(written)
    #expect(Set(before.keys) == Set(after.keys))
    #expect(Set(after.keys) == Set(expected.keys))
    for (path, old) in before {
      guard let new = after[path] else { continue }
      #expect(new.shortName == old.shortName && new.longName == old.longName, "\(path)")
      #expect(new.attributes == old.attributes && new.size == old.size, "\(path)")
      #expect(new.raw?.writeDate == old.raw?.writeDate && new.raw?.writeTime == old.raw?.writeTime, "\(path)")
      #expect(new.raw?.createDate == old.raw?.createDate && new.raw?.caseFlags == old.raw?.caseFlags, "\(path)")
      if !new.isDirectory {
        #expect(try written.contents(of: new) == source.contents(of: old), "\(path)")
        #expect(written.clusterChain(of: new).runs.count <= 1, "\(path) is not contiguous")
      }
    }

    // mtools: every file copied out equals what was put into the source.
    let out = scratch.url.appendingPathComponent("out")
    try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
    let copy = try run("mcopy", ["-i", targetPath, "-s", "-n", "::/*", out.path])
    #expect(copy.status == 0, "mcopy: \(copy.stderr)")
    for (path, bytes) in expected {
      let url = out.appendingPathComponent(String(path.dropFirst()))
      if let bytes {
        #expect((try? Data(contentsOf: url)).map { [UInt8]($0) } == bytes, "mcopy of \(path)")
      } else {
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue)
      }
    }
    // mdir lists the old files no more.
    let listing = try run("mdir", ["-i", targetPath, "-a", "::/"]).text
    #expect(!listing.contains("FILL0"))
  }

  @Test("a tree larger than the data region is refused with both sizes", .enabled(if: toolsPresent))
  func refusesWhatDoesNotFit() throws {
    let scratch = try ScratchDirectory("fat-writer-fit")
    let sourcePath = scratch.path("source.img")
    let targetPath = scratch.path("target.img")
    _ = try Self.makeVolume(
      .init(fatBits: 16, sectorSize: 512, megabytes: 32), at: sourcePath, label: "SOURCE", serial: "1111AAAA",
      work: scratch.url)
    #expect(try run("mkfs.fat", ["-C", "-F", "12", "-n", "SMALL", targetPath, "400"]).status == 0)
    let tree = try FATVolume(source: try TestFileSource(path: sourcePath)).writeTree()
    let target = try FATVolume(source: try TestFileSource(path: targetPath))
    let error = #expect(throws: FATWriteError.self) { try FATVolumeWriter(target: target).layout(tree) }
    guard case .doesNotFit(let needed, let available) = error else {
      Issue.record("expected doesNotFit, got \(String(describing: error))")
      return
    }
    #expect(needed > available)
    #expect(available == Int64(target.clusterCount) * Int64(target.bootSector.bytesPerCluster))
    #expect(error?.description.contains("\(needed)") == true && error?.description.contains("\(available)") == true)
  }

  static let bankImages = ["esxi7.img", "esxi7-4kn.img", "esxi6.img", "esxi-mbr.img"].filter {
    TestPaths.fixture($0) != nil
  }

  @Test(
    "a fixture's bank laid onto its other bank reads back equal and checks clean",
    .enabled(if: toolsPresent && !bankImages.isEmpty), arguments: bankImages)
  func roundTripsABank(_ image: String) throws {
    let url = try #require(TestPaths.fixture(image))
    var file = try TestFileSource(path: url.path)
    var table = try PartitionTable.read(from: file)
    if table.sectorSize != file.sectorSize {
      file = try TestFileSource(path: url.path, sectorSize: table.sectorSize)
      table = try PartitionTable.read(from: file, sectorSize: table.sectorSize)
    }
    let p5 = try #require(table.partition(5))
    let p6 = try #require(table.partition(6))
    let scratch = try ScratchDirectory("fat-writer-bank")
    // The target bank alone, as a file fsck.fat and mtools can open.
    let targetPath = scratch.path("p6.img")
    let bytes = try file.read(at: Int64(p6.offsetBytes), count: Int(p6.sizeBytes))
    try Data(bytes).write(to: URL(fileURLWithPath: targetPath))
    let source = try FATVolume(source: file.slice(Int64(p5.offsetBytes)..<Int64(p5.offsetBytes + p5.sizeBytes)))
    let target = try FATVolume(source: try TestFileSource(path: targetPath, sectorSize: table.sectorSize))
    let layout = try FATVolumeWriter(target: target).layout(try source.writeTree())
    try Self.apply(layout, to: targetPath, base: 0, source: file)
    let fsck = try run("fsck.fat", ["-n", targetPath])
    #expect(fsck.status == 0, "fsck.fat: \(fsck.text)")
    let written = try FATVolume(source: try TestFileSource(path: targetPath, sectorSize: table.sectorSize))
    let before = try Self.entries(source)
    let after = try Self.entries(written)
    #expect(Set(before.keys) == Set(after.keys))
    for (path, old) in before where !old.isDirectory {
      let copied = try after[path].map { try written.contents(of: $0) }
      #expect(try copied == source.contents(of: old), "\(path)")
    }
    // mtools reads the same bytes as our reader from the written volume.
    let sourceSpec = "\(url.path)@@\(p5.offsetBytes)"
    for (path, old) in before where !old.isDirectory {
      let ours = try run("mtype", ["-i", targetPath, "::" + path]).stdout
      let theirs = try run("mtype", ["-i", sourceSpec, "::" + path]).stdout
      #expect(ours == theirs, "\(path)")
    }
    // Bytes written ≈ data plus metadata, far below the partition size.
    #expect(layout.bytesWritten < Int64(p6.sizeBytes) / 2)
  }
}
