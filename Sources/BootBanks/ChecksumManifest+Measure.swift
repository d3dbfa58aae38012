import Checksum
import DiskFormat
import FAT
import Foundation
import PartitionTable

extension ChecksumManifest {
  /// Digests of every file of a FAT volume, hashed in parallel up to the core count.
  ///
  /// A file that cannot be read (a bad sector, a broken chain) is left out of `files` and
  /// is a finding naming it, with its LBA where one is known.
  public static func digestFiles(_ volume: FATVolume, partition: Int, algorithms: Set<Algorithm>) -> (
    files: [File], problems: [Finding]
  ) {
    var problems: [Finding] = []
    var entries: [FATEntry] = []
    do {
      try volume.walk { entry in
        if !entry.isDirectory && !entry.attributes.contains(.volumeLabel) { entries.append(entry) }
      }
    } catch {
      problems.append(.error("directoryUnreadable", "partition \(partition): \(error)", partition: partition))
    }
    let list = entries.sorted { $0.size > $1.size }
    let results = Digester.digestConcurrently(count: list.count) { index in
      var digester = Digester(algorithms)
      try volume.forEachRun(of: list[index]) { digester.update($0) }
      return digester.finalize()
    }
    var files: [File] = []
    for (entry, result) in zip(list, results) {
      switch result {
      case .success(let d):
        files.append(
          File(
            partition: partition, path: entry.path, size: Int64(entry.size), crc32: d.crc32Hex, sha256: d.sha256Hex,
            sha1: d.sha1Hex))
      case .failure(let error as ReadError):
        problems.append(
          .error(
            "unreadableSector", "partition \(partition): \(entry.path): unreadable at LBA \(error.firstLBA): \(error)",
            offset: error.offset, lba: error.firstLBA, partition: partition, path: entry.path))
      case .failure(let error):
        problems.append(
          .error(
            "fileUnreadable", "partition \(partition): \(entry.path) cannot be read: \(error)", partition: partition,
            path: entry.path))
      }
    }
    problems.sort { ($0.path ?? "") < ($1.path ?? "") }
    return (files.sorted { $0.path < $1.path }, problems)
  }

  /// Digests of every file of partition `number`, for comparing with saved ones: a partition
  /// that is gone, or holds no readable FAT volume, is one finding (`regionMissing`,
  /// `volumeUnreadable`), not a missing file per saved file.
  public static func digestFiles(
    ofPartition number: Int, in source: any ByteSource, layout: DiskLayout, algorithms: Set<Algorithm>
  ) -> (files: [File], problems: [Finding]) {
    guard let range = byteRange(of: number, in: source, layout: layout) else {
      return ([], [regionMissing(number)])
    }
    do {
      let volume = try FATVolume(source: source.slice(range))
      return digestFiles(volume, partition: number, algorithms: algorithms)
    } catch {
      return ([], [volumeUnreadable(number, error)])
    }
  }

  /// The bytes of partition `number` (nil: the whole device), or nil when the partition is
  /// not in the table or does not fit in the source.
  public static func byteRange(of number: Int?, in source: any ByteSource, layout: DiskLayout) -> Range<Int64>? {
    guard let number else { return 0..<source.byteCount }
    guard let partition = layout.partition(number), !partition.isExtendedContainer,
      let start = Int64(exactly: partition.offsetBytes), let size = Int64(exactly: partition.sizeBytes),
      case (let end, false) = start.addingReportingOverflow(size), end <= source.byteCount
    else { return nil }
    return start..<end
  }

  /// Digests of a byte range read through `source` in windows (a saved region compared
  /// again).
  ///
  /// - Throws: `ReadError` for a sector that cannot be read.
  public static func digestRegion(_ source: any ByteSource, _ range: Range<Int64>, algorithms: Set<Algorithm>) throws
    -> Digests
  {
    let digester = PipelinedDigester(algorithms)
    var offset = range.lowerBound
    while offset < range.upperBound {
      let end = min(range.upperBound, offset + (4 << 20))
      try source.withBytes(in: offset..<end) { digester.consume($0) }
      offset = end
    }
    return digester.finalize()
  }

  /// The algorithms the manifest was measured with.
  public var algorithmSet: Set<Algorithm> {
    Set(algorithms.compactMap(Algorithm.init(rawValue:)))
  }

  /// The lines of the `sha256sum -c` list saved beside the JSON manifest: each file's
  /// SHA-256 and path (under `p<N>/` when files of several partitions are listed), then the
  /// whole device's.
  public var sha256sumLines: [String] {
    var lines: [String] = []
    let partitions = Set(files.map(\.partition))
    for file in files {
      guard let sha = file.sha256 else { continue }
      let relative = String(file.path.drop { $0 == "/" })
      lines.append("\(sha)  \(partitions.count > 1 ? "p\(file.partition)/" : "")\(relative)")
    }
    for region in regions where region.partition == nil {
      if let sha = region.sha256 { lines.append("\(sha)  \(device.path)") }
    }
    return lines
  }

  /// The manifest as saved: pretty-printed JSON with sorted keys.
  public func encoded() throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return try encoder.encode(self)
  }

  /// A saved manifest read back.
  ///
  /// - Throws: `ChecksumManifest.DecodingProblem` when the bytes are not a manifest of this format.
  public init(saved data: Data) throws {
    let manifest: ChecksumManifest
    do { manifest = try JSONDecoder().decode(ChecksumManifest.self, from: data) } catch {
      throw DecodingProblem(why: "is not a bootbank checksum manifest: \(error)")
    }
    guard manifest.format == Self.formatName else {
      throw DecodingProblem(why: "has format \(manifest.format), expected \(Self.formatName)")
    }
    self = manifest
  }

  /// Why saved bytes are not a manifest.
  public struct DecodingProblem: Error, Hashable, Sendable, CustomStringConvertible {
    public var why: String
    public var description: String { why }
  }
}
