import DiskFormat
import PartitionTable

/// Reads every sector of a device (or of the ranges that matter) and records which read.
///
/// Reads go in large pieces; a piece that fails is resumed after the sector the error names
/// (the source already retried sector by sector to name it), so a worn card costs one slow
/// read per bad sector, not per piece. Each bad sector is tried `retries` more times. The
/// result is a ddrescue mapfile; given the map of an earlier run, only what it did not
/// finish is read again.
public enum SurfaceScan {
  /// What to read.
  public enum Scope: String, Sendable, Codable {
    /// Every sector of the device.
    case everything
    /// The partition tables (both GPT copies, the MBR and EBRs) and every FAT partition.
    case banks
  }

  /// The byte ranges `scope` covers on a device of `layout`, in order and merged.
  /// With no table read, every sector is in scope.
  public static func ranges(_ scope: Scope, layout: DiskLayout?, size: Int64) -> [Range<Int64>] {
    guard scope == .banks, let layout else { return size > 0 ? [0..<size] : [] }
    var ranges: [Range<Int64>] = []
    for structure in SurfaceMap.tableStructures(layout, size: size, sectorSize: layout.sectorSize) {
      ranges.append(structure.range)
    }
    for partition in layout.partitions where SurfaceMap.mayHoldFAT(partition) {
      ranges.append(partition.byteRange)
    }
    return ByteRanges.merge(ranges.map { $0.clamped(to: 0..<size) }.filter { !$0.isEmpty })
  }

  /// Reads `ranges` of `source` that `map` has not finished, marking each byte read `+` and
  /// each unreadable sector `-`.
  ///
  /// - Parameters:
  ///   - pieceBytes: How much one read asks for.
  ///   - retries: How many more times an unreadable sector is tried.
  ///   - progress: Called after each piece with the bytes done so far and the total.
  public static func run(
    _ source: any ByteSource, ranges: [Range<Int64>], map: inout RescueMap, pieceBytes: Int = 1 << 20,
    retries: Int = 1, progress: (Int64, Int64) -> Void = { _, _ in }
  ) {
    let sector = Int64(max(1, source.sectorSize))
    let piece = max(sector, Int64(pieceBytes) / sector * sector)
    // What is left: the wanted ranges minus what an earlier run finished.
    let finished = map.ranges(.finished)
    let todo = ranges.flatMap { ByteRanges.subtract(finished, from: $0) }
    let total = todo.reduce(Int64(0)) { $0 + Int64($1.count) }
    var done: Int64 = 0
    map.currentStatus = "?"
    for range in todo {
      var offset = range.lowerBound
      while offset < range.upperBound {
        let end = min(range.upperBound, offset + piece)
        map.currentPosition = offset
        do {
          try source.withBytes(in: offset..<end) { _ in }
          map.mark(offset..<end, .finished)
          done += end - offset
          offset = end
        } catch let error as ReadError {
          // The sectors before the one named were read; the named one is retried alone.
          let bad = min(max(offset, error.offset / sector * sector), end - 1) / sector * sector
          if bad > offset { map.mark(offset..<bad, .finished) }
          let badEnd = min(bad + sector, range.upperBound)
          var recovered = false
          for _ in 0..<max(0, retries) where !recovered {
            recovered = (try? source.withBytes(in: bad..<badEnd) { _ in }) != nil
          }
          map.mark(bad..<badEnd, recovered ? .finished : .bad)
          done += badEnd - offset
          offset = badEnd
        } catch {
          map.mark(offset..<end, .bad)
          done += end - offset
          offset = end
        }
        progress(done, total)
      }
    }
    map.currentPosition = ranges.last?.upperBound ?? 0
    map.currentStatus = "+"
  }
}
