import DiskFormat

/// One copy of the file allocation table, holding the entries of every cluster of the volume.
///
/// Only the entries 0...clusterCount + 1 are kept (`((clusterCount + 2) * bits + 7) / 8`
/// bytes, the span fsck.fat compares), so memory is bounded by the BPB, which
/// `FATVolume` has checked against the size of the source.
public struct AllocationTable: Sendable {
  public let type: FATType
  public let clusterCount: UInt32
  /// Absolute byte offset of this copy in the image (for findings).
  public let absoluteOffset: Int64
  let bytes: [UInt8]

  /// What a FAT entry says about its cluster.
  public enum Entry: Hashable, Sendable {
    case free
    /// The chain continues at this cluster (2...clusterCount + 1).
    case next(UInt32)
    case endOfChain
    case bad
    /// A value no cluster can have: 1, or past the last cluster but below the bad mark.
    case invalid(UInt32)
  }

  /// Bytes of the FAT that cover `clusterCount + 2` entries.
  public static func byteCount(type: FATType, clusterCount: UInt32) -> Int {
    (Int(clusterCount) + 2) * type.entryBits / 8 + (type == .fat12 ? 1 : 0)
  }

  /// Wraps the bytes of one FAT copy (at least `byteCount(type:clusterCount:)` of them).
  public init(bytes: [UInt8], type: FATType, clusterCount: UInt32, absoluteOffset: Int64) {
    self.bytes = bytes
    self.type = type
    self.clusterCount = clusterCount
    self.absoluteOffset = absoluteOffset
  }

  /// The raw value of entry `index` (masked to 12/16/28 bits), or nil past the table.
  public func rawValue(_ index: UInt32) -> UInt32? {
    let i = Int(index)
    switch type {
    case .fat12:
      let at = i + i / 2
      guard at + 1 < bytes.count else { return nil }
      let pair = UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8
      return i & 1 == 0 ? pair & 0xFFF : pair >> 4
    case .fat16:
      guard let value: UInt16 = bytes.littleEndian(at: i * 2) else { return nil }
      return UInt32(value)
    case .fat32:
      guard let value: UInt32 = bytes.littleEndian(at: i * 4) else { return nil }
      return value & 0x0FFF_FFFF
    }
  }

  /// Stores `value` as entry `index` of the FAT bytes `bytes`: FAT12 entries share a byte
  /// between neighbours (even entries take the low 12 bits of their pair, odd ones the high
  /// 12), FAT16 entries are 16 bits, FAT32 entries keep the top 4 bits already there (they are
  /// reserved). Bits of `value` beyond the entry width are dropped; an index past `bytes` is
  /// ignored, so a writer sizes the buffer with `byteCount(type:clusterCount:)`.
  public static func store(_ value: UInt32, at index: UInt32, type: FATType, in bytes: inout [UInt8]) {
    let i = Int(index)
    let value = value & type.entryMask
    switch type {
    case .fat12:
      let at = i + i / 2
      guard at + 1 < bytes.count else { return }
      let pair = UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8
      let updated = i & 1 == 0 ? pair & 0xF000 | UInt16(value) : pair & 0x000F | UInt16(value) << 4
      bytes.storeLittleEndian(updated, at: at)
    case .fat16:
      guard i * 2 + 2 <= bytes.count else { return }
      bytes.storeLittleEndian(UInt16(value), at: i * 2)
    case .fat32:
      guard let old: UInt32 = bytes.littleEndian(at: i * 4) else { return }
      bytes.storeLittleEndian(old & ~type.entryMask | value, at: i * 4)
    }
  }

  /// The value that stores `entry` (an end of chain as the all-ones mark mkfs.fat writes).
  public static func value(of entry: Entry, type: FATType) -> UInt32 {
    switch entry {
    case .free: 0
    case .next(let cluster): cluster & type.entryMask
    case .endOfChain: type.entryMask
    case .bad: type.badClusterMark
    case .invalid(let value): value & type.entryMask
    }
  }

  /// The entry of data cluster `cluster`.
  public subscript(cluster: UInt32) -> Entry {
    guard let value = rawValue(cluster) else { return .invalid(0) }
    return classify(value)
  }

  /// Interprets an entry value.
  public func classify(_ value: UInt32) -> Entry {
    if value == 0 { return .free }
    if value >= type.endOfChainMinimum { return .endOfChain }
    if value == type.badClusterMark { return .bad }
    if value >= 2, value <= clusterCount + 1 { return .next(value) }
    return .invalid(value)
  }

  /// True for 2...clusterCount + 1.
  public func isValidCluster(_ cluster: UInt32) -> Bool { cluster >= 2 && cluster <= clusterCount + 1 }

  /// Absolute byte offset of the entry of `cluster`, for findings.
  public func offset(ofEntry cluster: UInt32) -> Int64 {
    absoluteOffset + Int64(cluster) * Int64(type.entryBits) / 8
  }

  /// Number of clusters whose entry is 0.
  public var freeClusterCount: UInt32 {
    var free: UInt32 = 0
    var c: UInt32 = 2
    while c <= clusterCount + 1 {
      if rawValue(c) == 0 { free += 1 }
      c += 1
    }
    return free
  }

  /// The chain that starts at `start`, followed at most `clusterCount` steps.
  public func chain(from start: UInt32) -> ClusterChain {
    var clusters: [UInt32] = []
    guard start != 0 else { return ClusterChain(clusters: [], end: .endOfChain) }
    guard isValidCluster(start) else { return ClusterChain(clusters: [], end: .outOfRange(from: 0, value: start)) }
    // One bit per cluster (1/32 of the FAT's own size on FAT32) marks the clusters seen.
    var seen = [UInt64](repeating: 0, count: (Int(clusterCount) + 2 + 63) / 64)
    var current = start
    while true {
      let word = Int(current) >> 6
      let bit: UInt64 = 1 << UInt64(current & 63)
      if seen[word] & bit != 0 { return ClusterChain(clusters: clusters, end: .loop(at: current)) }
      seen[word] |= bit
      clusters.append(current)
      switch self[current] {
      case .endOfChain: return ClusterChain(clusters: clusters, end: .endOfChain)
      case .free: return ClusterChain(clusters: clusters, end: .free(at: current))
      case .bad: return ClusterChain(clusters: clusters, end: .bad(at: current))
      case .invalid(let value): return ClusterChain(clusters: clusters, end: .outOfRange(from: current, value: value))
      case .next(let next): current = next
      }
    }
  }
}

/// The clusters of a file or directory in order, and how the chain ended.
public struct ClusterChain: Hashable, Sendable {
  public enum End: Hashable, Sendable {
    /// An end-of-chain mark (or no clusters at all).
    case endOfChain
    /// The entry of `at` is 0: the chain runs into a free cluster.
    case free(at: UInt32)
    /// The entry of `at` marks it bad.
    case bad(at: UInt32)
    /// Cluster `from` points to `value`, which is not a data cluster (`from` 0: the start).
    case outOfRange(from: UInt32, value: UInt32)
    /// The chain comes back to `at`, a cluster it already holds.
    case loop(at: UInt32)
  }
  public var clusters: [UInt32]
  public var end: End

  public init(clusters: [UInt32], end: End) {
    self.clusters = clusters
    self.end = end
  }

  /// Runs of consecutive clusters: (first cluster, count).
  public var runs: [(first: UInt32, count: Int)] {
    var out: [(first: UInt32, count: Int)] = []
    for c in clusters {
      if let last = out.last, last.first &+ UInt32(last.count) == c {
        out[out.count - 1].count += 1
      } else {
        out.append((c, 1))
      }
    }
    return out
  }
}
