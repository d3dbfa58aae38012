/// Which clusters of a volume are in use, and the byte ranges an image, compare or sync
/// must read to capture the volume (its metadata plus every allocated cluster).
public struct AllocationMap: Sendable, Hashable {
  public let clusterCount: UInt32
  public let bytesPerCluster: Int
  /// Offset of cluster 2, relative to the start of the volume.
  public let dataOffset: Int64
  /// Absolute offset of the volume in the image (add it to `usedRanges` to address the image).
  public let baseOffset: Int64
  /// Bytes the volume spans per its BPB.
  public let volumeByteCount: Int64
  var bits: [UInt64]

  init(table: AllocationTable, boot: BootSector, baseOffset: Int64) {
    clusterCount = table.clusterCount
    bytesPerCluster = boot.bytesPerCluster
    dataOffset = boot.dataOffset
    self.baseOffset = baseOffset
    volumeByteCount = boot.volumeByteCount
    var bits = [UInt64](repeating: 0, count: (Int(table.clusterCount) + 2 + 63) / 64)
    var c: UInt32 = 2
    while c <= table.clusterCount + 1 {
      switch table[c] {
      case .free, .bad: break
      default: bits[Int(c) >> 6] |= 1 << UInt64(c & 63)
      }
      c += 1
    }
    self.bits = bits
  }

  /// True when the FAT entry of `cluster` is neither free nor bad.
  public func isAllocated(_ cluster: UInt32) -> Bool {
    guard cluster >= 2, cluster <= clusterCount + 1 else { return false }
    return bits[Int(cluster) >> 6] & (1 << UInt64(cluster & 63)) != 0
  }

  /// Number of allocated clusters.
  public var allocatedClusterCount: Int { bits.reduce(0) { $0 + $1.nonzeroBitCount } }

  /// The metadata region: boot sector, reserved sectors, FATs and the fixed root directory,
  /// relative to the volume start.
  public var metadataRange: Range<Int64> { 0..<dataOffset }

  /// Runs of allocated clusters: (first cluster, count), ascending.
  public var allocatedRuns: [(first: UInt32, count: Int)] {
    var out: [(first: UInt32, count: Int)] = []
    var c: UInt32 = 2
    while c <= clusterCount + 1 {
      if isAllocated(c) {
        if let last = out.last, last.first + UInt32(last.count) == c {
          out[out.count - 1].count += 1
        } else {
          out.append((c, 1))
        }
      }
      c += 1
    }
    return out
  }

  /// The metadata range followed by the byte range of every run of allocated clusters,
  /// relative to the volume start, ascending and merged where they touch.
  public var usedRanges: [Range<Int64>] {
    var out: [Range<Int64>] = [metadataRange]
    for run in allocatedRuns {
      let start = dataOffset + Int64(run.first - 2) * Int64(bytesPerCluster)
      let end = start + Int64(run.count) * Int64(bytesPerCluster)
      if let last = out.last, last.upperBound == start {
        out[out.count - 1] = last.lowerBound..<end
      } else {
        out.append(start..<end)
      }
    }
    return out
  }
}
