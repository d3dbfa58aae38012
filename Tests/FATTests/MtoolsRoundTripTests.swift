import DiskFormat
import FAT
import Foundation
import TestSupport
import Testing

/// Volumes made here with mkfs.fat and filled with mtools read back equal to what mtools
/// wrote: every path, size and byte; and they check clean (as fsck.fat agrees).
@Suite("Volumes made by mkfs.fat and mtools")
struct MtoolsRoundTripTests {
  struct Layout: Sendable, CustomTestStringConvertible {
    var fatBits: Int
    var sectorSize: Int
    var megabytes: Int
    var testDescription: String { "FAT\(fatBits), \(sectorSize)-byte sectors, \(megabytes) MiB" }
  }

  static let layouts: [Layout] = [
    Layout(fatBits: 12, sectorSize: 512, megabytes: 4),
    Layout(fatBits: 16, sectorSize: 512, megabytes: 32),
    Layout(fatBits: 32, sectorSize: 512, megabytes: 64),
    Layout(fatBits: 12, sectorSize: 4096, megabytes: 8),
    Layout(fatBits: 16, sectorSize: 4096, megabytes: 64),
    Layout(fatBits: 32, sectorSize: 4096, megabytes: 300),
  ]

  static let toolsPresent = hasTool("mkfs.fat") && hasTool("mcopy") && hasTool("mdel")

  /// Names that need long-name slots: mixed case, spaces, Latin-1, CJK. (mtools 4.0 cuts
  /// characters outside the BMP to 16 bits, writing U+F600 for U+1F600, so surrogate pairs are
  /// tested with hand-built slots in `DirectoryTests`.)
  static let names = [
    "MixedCase File.TXT", "lower.txt", "Résumé Ünïcode.txt", "日本語のファイル名.txt", "Ελληνικά αρχεία.bin",
    "a.very.long.name.with.many.dots.and.more.than.thirteen.characters.data", "UPPER.TXT", "x",
  ]

  /// Deterministic bytes for a file.
  static func content(_ seed: Int, size: Int) -> [UInt8] {
    var state = UInt32(truncatingIfNeeded: seed &* 2_654_435_761 &+ 1)
    return (0..<size).map { _ in
      state = state &* 1_664_525 &+ 1_013_904_223
      return UInt8(truncatingIfNeeded: state >> 24)
    }
  }

  /// Builds the source tree in `dir`; returns path → bytes (nil for directories).
  static func makeTree(in dir: URL) throws -> [String: [UInt8]?] {
    let fm = FileManager.default
    var tree: [String: [UInt8]?] = [:]
    func addFile(_ relative: String, _ bytes: [UInt8]) throws {
      let url = dir.appendingPathComponent(relative)
      try Data(bytes).write(to: url)
      tree["/" + relative] = .some(bytes)
    }
    func addDir(_ relative: String) throws {
      try fm.createDirectory(at: dir.appendingPathComponent(relative), withIntermediateDirectories: true)
      tree["/" + relative] = .some(nil)
    }
    for (i, name) in names.enumerated() {
      try addFile(name, content(i, size: [0, 1, 511, 512, 513, 4096, 70_000, 3][i]))
    }
    // A deep tree: 24 levels.
    var deep = ""
    for level in 0..<24 {
      deep += (deep.isEmpty ? "" : "/") + "Level \(level)"
      try addDir(deep)
    }
    try addFile(deep + "/bottom.txt", Array("the bottom\n".utf8))
    // A large directory: 300 entries, half with long names.
    try addDir("Large Dir")
    for i in 0..<300 {
      try addFile(
        i % 2 == 0 ? "Large Dir/F\(i).DAT" : "Large Dir/file number \(i).data", content(1000 + i, size: i * 7))
    }
    return tree
  }

  @Test("reads back every path, size and byte mtools wrote", .enabled(if: toolsPresent), arguments: layouts)
  func roundTrip(_ layout: Layout) throws {
    let fm = FileManager.default
    let work = fm.temporaryDirectory.appendingPathComponent("fat-roundtrip-\(UUID().uuidString)")
    try fm.createDirectory(at: work, withIntermediateDirectories: true)
    defer { try? fm.removeItem(at: work) }
    let image = work.appendingPathComponent("volume.img").path
    let tree = work.appendingPathComponent("tree")
    try fm.createDirectory(at: tree, withIntermediateDirectories: true)
    var expected = try Self.makeTree(in: tree)

    // mkfs.fat -C creates the image; -S sets the logical sector size.
    let mkfs = try run(
      "mkfs.fat",
      [
        "-C", "-F", "\(layout.fatBits)", "-S", "\(layout.sectorSize)", "-n", "ROUNDTRIP", "-i", "1234ABCD",
        image, "\(layout.megabytes * 1024)",
      ])
    try #require(mkfs.status == 0, "mkfs.fat: \(mkfs.stderr)")
    // Fragment: write fillers, then delete every other one and write a big file into the holes.
    let fillers = work.appendingPathComponent("fillers")
    try fm.createDirectory(at: fillers, withIntermediateDirectories: true)
    var fillerNames: [String] = []
    for i in 0..<12 {
      let name = "FILL\(i).BIN"
      try Data(Self.content(500 + i, size: 3 * 4096)).write(to: fillers.appendingPathComponent(name))
      fillerNames.append(name)
    }
    var status = try run(
      "mcopy", ["-i", image, "-s"] + fillerNames.map { fillers.appendingPathComponent($0).path } + ["::/"])
    try #require(status.status == 0, "mcopy fillers: \(status.stderr)")
    status = try run("mdel", ["-i", image] + stride(from: 0, to: 12, by: 2).map { "::/" + fillerNames[$0] })
    try #require(status.status == 0, "mdel: \(status.stderr)")
    for i in stride(from: 1, to: 12, by: 2) {
      expected["/" + fillerNames[i]] = .some(Self.content(500 + i, size: 3 * 4096))
    }
    if layout.fatBits == 32 {
      // mtools allocates from the FSInfo next-free hint on FAT32; point it at cluster 2 so the
      // new file fills the holes left by the deleted fillers.
      let boot = try TestFileSource(path: image).read(at: 0, count: 512)
      let fsInfoSector = Int(boot[0x30]) | Int(boot[0x31]) << 8
      let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: image))
      try handle.seek(toOffset: UInt64(fsInfoSector * layout.sectorSize + 492))
      try handle.write(contentsOf: Data([2, 0, 0, 0]))
      try handle.close()
    }
    let fragmented = Self.content(77, size: 200_000)
    try Data(fragmented).write(to: work.appendingPathComponent("Fragmented File.bin"))
    status = try run("mcopy", ["-i", image, work.appendingPathComponent("Fragmented File.bin").path, "::/"])
    try #require(status.status == 0, "mcopy fragmented: \(status.stderr)")
    expected["/Fragmented File.bin"] = .some(fragmented)
    // The tree, names in UTF-8.
    let items = try fm.contentsOfDirectory(atPath: tree.path).map { tree.appendingPathComponent($0).path }
    status = try run("mcopy", ["-i", image, "-s", "-Q"] + items + ["::/"])
    try #require(status.status == 0, "mcopy tree: \(status.stderr)")

    let fat = try FATVolume(source: try TestFileSource(path: image, sectorSize: layout.sectorSize))
    #expect(fat.type.rawValue == "FAT\(layout.fatBits)")
    #expect(fat.serial == "1234-ABCD")
    #expect(try fat.label() == "ROUNDTRIP")
    var seen: [String: FATEntry] = [:]
    let walkFindings = try fat.walk { seen[$0.path] = $0 }
    #expect(walkFindings.isEmpty)
    let missing = Set(expected.keys).subtracting(seen.keys).sorted()
    let extra = Set(seen.keys).subtracting(expected.keys).sorted()
    #expect(missing.isEmpty && extra.isEmpty, "missing \(missing), extra \(extra)")
    for (path, bytes) in expected {
      guard let entry = seen[path] else { continue }
      if let bytes {
        #expect(!entry.isDirectory, "\(path)")
        #expect(try fat.contents(of: entry) == bytes, "\(path)")
      } else {
        #expect(entry.isDirectory, "\(path)")
      }
    }
    // The fragmented file is really in more than one run, and streams equal to its bytes.
    let chain = fat.clusterChain(of: try #require(try fat.lookup("/fragmented FILE.BIN")))
    #expect(chain.runs.count > 1)
    var streamed: [UInt8] = []
    try fat.readFile("/FRAGME~1.BIN") { span in for i in 0..<span.count { streamed.append(span[i]) } }
    #expect(streamed == fragmented)
    // Lookup is case-insensitive on the long and the 8.3 name, as in mtools.
    #expect(try fat.lookup("/résumé ünïcode.TXT")?.name == "Résumé Ünïcode.txt")
    #expect(try fat.lookup("/large dir/f10.dat")?.shortName == "F10.DAT")

    let report = try fat.check()
    #expect(report.findings.isEmpty, "\(report.findings)")
    #expect(report.freeClusters == fat.freeClusterCount)
    // fsck.fat agrees that the volume is clean.
    if hasTool("fsck.fat") {
      let result = try run("fsck.fat", ["-n", image])
      #expect(result.status == 0, "fsck.fat: \(result.text)")
    }
    // The allocation map covers exactly the clusters the FAT marks used.
    let map = fat.allocationMap()
    #expect(UInt32(map.allocatedClusterCount) == fat.clusterCount - fat.freeClusterCount)
  }
}
