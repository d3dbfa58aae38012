import Checksum
import DiskFormat
import PartitionTable

extension ChecksumManifest {
  /// Reads again what a saved manifest lists and reports every difference: the one check
  /// behind `checksum --check` and `verify --manifest`.
  ///
  /// Each saved region (the whole device, a partition) is digested again with the saved
  /// algorithms; the files of each partition are digested from its FAT volume. A region or
  /// partition that is gone, a volume that cannot be read and a file that cannot be read are
  /// each one finding, not one per saved file.
  ///
  /// - Parameters:
  ///   - saved: The manifest saved earlier.
  ///   - source: The device now, read with `layout`'s sector size.
  ///   - skippingFilesOf: Partitions whose saved files the caller compares itself (verify
  ///     compares a bank's files in its one pass over them).
  ///   - regionDigests: How a byte range is read and digested; by default in windows through
  ///     `source` (the CLI streams it with read-ahead).
  /// - Returns: The problems met while reading, then the differences.
  /// - Throws: Only what `regionDigests` throws other than `ReadError`.
  public static func recheck(
    _ saved: ChecksumManifest, source: any ByteSource, layout: DiskLayout, skippingFilesOf skipped: Set<Int> = [],
    regionDigests: ((Range<Int64>) throws -> Digests)? = nil
  ) throws -> [Finding] {
    let algorithms = saved.algorithmSet
    var findings: [Finding] = []
    for region in saved.regions {
      guard let range = byteRange(of: region.partition, in: source, layout: layout) else {
        findings.append(regionMissing(region.partition))
        continue
      }
      do {
        let now = try regionDigests?(range) ?? digestRegion(source, range, algorithms: algorithms)
        var measured = region
        (measured.crc32, measured.sha256, measured.sha1) = (now.crc32Hex, now.sha256Hex, now.sha1Hex)
        findings += compare(savedRegion: region, now: measured)
      } catch let error as ReadError {
        findings.append(
          .error(
            "unreadableSector", "\(regionName(region.partition)): unreadable at LBA \(error.firstLBA): \(error)",
            offset: error.offset, lba: error.firstLBA, partition: region.partition))
      }
    }
    for partition in Set(saved.files.map(\.partition)).subtracting(skipped).sorted() {
      let now = digestFiles(ofPartition: partition, in: source, layout: layout, algorithms: algorithms)
      findings +=
        now.problems
        + compareFiles(
          saved: saved.files.filter { $0.partition == partition }, now: now.files, unreadable: now.problems)
    }
    return findings
  }
}
