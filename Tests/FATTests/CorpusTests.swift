import Checksum
import DiskFormat
import FAT
import Foundation
import TestSupport
import Testing

/// Every FAT volume of the shared corpus read back against what blkid, fsck.fat, mtools and
/// 7-Zip reported about it (MANIFEST.json).
@Suite("Corpus volumes", .serialized)
struct CorpusTests {
  static let volumes = CorpusManifest.volumes

  /// The volume's bytes as a source: the image, or a slice of it for a partition.
  static func open(_ volume: CorpusVolume) throws -> FATVolume {
    let path = try cachedImage(volume.image)
    let image = try TestFileSource(path: path, sectorSize: volume.sectorSize)
    if volume.offset == 0 && (volume.size == 0 || volume.size >= image.byteCount) {
      return try FATVolume(source: image)
    }
    let end = min(image.byteCount, volume.offset + (volume.size == 0 ? image.byteCount : volume.size))
    return try FATVolume(source: image.slice(volume.offset..<end))
  }

  @Test("boot sector facts equal blkid's and fsck.fat's", arguments: volumes)
  func facts(_ volume: CorpusVolume) throws {
    try #require(Paths.corpusPresent, "corpus absent at \(Paths.corpus.path)")
    if volume.image.contains("check-huge") {
      // The BPB declares 80 GiB and FATs of 8 GiB each, in a 101 MiB image. fsck.fat gives up
      // ("Failed to read sector"); we refuse to open it with an error naming the FAT size,
      // rather than invent the FAT's missing bytes. The cheap probe still gives blkid's facts.
      let error = #expect(throws: FormatError.self) { try Self.open(volume) }
      #expect(error?.field == "BPB_FATSz32")
      let head = try TestFileSource(path: try cachedImage(volume.image)).read(at: 0, count: 512)
      let probe = try #require(FATProbe.probe(bootSector: head))
      #expect(probe.type.rawValue == volume.fatType)
      #expect(probe.serial == volume.serial)
      return
    }
    let fat = try Self.open(volume)
    #expect(fat.type.rawValue == volume.fatType)
    if let total = volume.totalClusters { #expect(Int(fat.clusterCount) == total) }
    // fsck.fat's free count is taken after its in-memory repairs, so only a clean volume's
    // count is the FAT's own count.
    if volume.clean, let free = volume.freeClusters { #expect(Int(fat.freeClusterCount) == free) }
    if let serial = volume.serial { #expect(fat.serial == serial) }
    // blkid passes label bytes that are not UTF-8 through escaped (`\xe5`); fatlabel decodes
    // them as code page 850 as we do, so it is the oracle there (corpus README, "Code page").
    let expectedLabel = (volume.label?.contains("\\x") ?? false) ? volume.labelFatlabel : volume.label
    #expect(try fat.label() == expectedLabel)
  }

  @Test("tree, sizes and SHA-256 equal the manifest", arguments: volumes)
  func tree(_ volume: CorpusVolume) throws {
    try #require(Paths.corpusPresent, "corpus absent at \(Paths.corpus.path)")
    guard !volume.image.contains("check-huge") else { return }  // see `facts`: does not open
    let fat = try Self.open(volume)
    // `files` comes from mtools except on nobodd/fat32, where mtools misreads a FAT32 volume
    // of 16100 clusters as FAT16 and 7-Zip's tree (which fsck.fat's listing matches) is kept:
    // there the short names and times are 7-Zip's renderings, so only paths, sizes and
    // contents are compared.
    let fromMtools = volume.filesSource.hasPrefix("mtools")
    var seen: [(path: String, entry: FATEntry)] = []
    try fat.walk { entry in seen.append((entry.path, entry)) }
    var expected = volume.files
    if volume.image.contains("check-bad_names.damaged") {
      // mdir cannot print the 8.3 name " AME1   BIN" (a leading space) and lists it blank,
      // so the manifest has "/" twice. fsck.fat ("/ AME1.BIN") and 7-Zip agree on the name.
      if let i = expected.firstIndex(where: { $0.path == "/" }) {
        expected[i].path = "/ AME1.BIN"
        expected[i].shortName = " AME1.BIN"
      }
    }
    #expect(seen.map(\.path).sorted() == expected.map(\.path).sorted(), "paths differ")
    // Pair entries with the manifest's in order of appearance per path (names may repeat).
    var byPath: [String: [FATEntry]] = [:]
    for (path, entry) in seen { byPath[path, default: []].append(entry) }
    let repeated = Set(Dictionary(grouping: expected, by: \.path).filter { $0.value.count > 1 }.keys)
    for file in expected {
      guard var list = byPath[file.path], !list.isEmpty else { continue }
      let entry = list.removeFirst()
      byPath[file.path] = list
      #expect(entry.isDirectory == file.isDirectory, "\(file.path)")
      if fromMtools {
        if let short = file.shortName { #expect(entry.shortName == short, "\(file.path)") }
        if let mtime = file.mtime { #expect(entry.modified?.minutePrecision == mtime, "\(file.path)") }
      }
      guard !file.isDirectory else { continue }
      if let size = file.size { #expect(Int(entry.size) == size, "\(file.path)") }
      if let sha = file.sha256 {
        var hasher = SHA256Hasher()
        try fat.forEachRun(of: entry) { hasher.update($0) }
        #expect(hexString(hasher.finalize()) == sha, "\(file.path)")
      } else if repeated.contains(file.path) {
        // check-duplicate_names: `mtype ::/TEST.TXT` matched both entries and printed 14 bytes
        // for a 7-byte file. We read each entry on its own: exactly its size.
        var count = 0
        try fat.forEachRun(of: entry) { count += $0.count }
        #expect(count == Int(entry.size), "\(file.path)")
      } else {
        // mtools could not read the whole file (damaged chain): neither can we.
        #expect(throws: (any Error).self, "\(file.path)") { try fat.forEachRun(of: entry) { _ in } }
      }
    }
  }
}
