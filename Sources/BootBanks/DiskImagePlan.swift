import Checksum
import DiskFormat
import FAT
import PartitionTable

/// What `image` reads of a device: the tables, the used part of every FAT volume, and every
/// other partition raw, in blocks of `blockSize` bytes.
///
/// Two kinds of range: `whole` ranges (tables, FAT metadata and allocated clusters) are mapped
/// in full, zeros included, because a zero there means something (a free FAT entry, an empty
/// directory slot); `dataOnly` ranges (partitions bootbank cannot read into: vmkDiagnostic,
/// VMFS-L) are mapped only where a block holds a non-zero byte.
public struct DiskImagePlan: Hashable, Sendable {
  public enum Kind: String, Hashable, Sendable, Codable {
    case whole
    case dataOnly
  }

  /// A run of blocks and how it is read.
  public struct Piece: Hashable, Sendable {
    public var blocks: Range<Int64>
    public var kind: Kind
    public init(blocks: Range<Int64>, kind: Kind) {
      self.blocks = blocks
      self.kind = kind
    }
  }

  /// A partition and how it is read (`fat`, `raw`, or `skipped`).
  public struct PartitionRead: Hashable, Sendable, Codable {
    public var number: Int
    public var how: String
    public var bytes: Int64
  }

  public static let defaultBlockSize = 4096

  public var imageSize: Int64
  public var blockSize: Int
  /// Ascending, disjoint.
  public var pieces: [Piece]
  public var partitions: [PartitionRead]
  public var skipped: [Int] { partitions.filter { $0.how == "skipped" }.map(\.number) }

  public var blockCount: Int64 { (imageSize + Int64(blockSize) - 1) / Int64(blockSize) }
  /// Bytes the plan reads.
  public var byteCount: Int64 {
    pieces.reduce(Int64(0)) { sum, piece in
      let start = piece.blocks.lowerBound * Int64(blockSize)
      return sum + min(imageSize, piece.blocks.upperBound * Int64(blockSize)) - start
    }
  }

  /// The plan for `source` read through `layout`, leaving out partitions `skip`.
  ///
  /// A partition whose first sector is a FAT boot sector that opens contributes its metadata
  /// (reserved sectors, FATs, root directory) and its allocated clusters; any other partition
  /// is read raw. Extended containers hold only EBRs, which the table structures cover.
  public static func make(
    source: any ByteSource, layout: DiskLayout, skip: Set<Int> = [], blockSize: Int = defaultBlockSize
  ) -> DiskImagePlan {
    let size = source.byteCount
    var whole: [Range<Int64>] = []
    var dataOnly: [Range<Int64>] = []
    var partitions: [PartitionRead] = []
    for structure in SurfaceMap.tableStructures(layout, size: size, sectorSize: layout.sectorSize) {
      whole.append(structure.range)
    }
    for partition in layout.partitions where !partition.isExtendedContainer {
      let start = Int64(clamping: partition.offsetBytes)
      let (end, overflow) = start.addingReportingOverflow(Int64(clamping: partition.sizeBytes))
      guard !overflow, start < size else { continue }
      let range = start..<min(end, size)
      if skip.contains(partition.number) {
        partitions.append(PartitionRead(number: partition.number, how: "skipped", bytes: 0))
        continue
      }
      if let volume = try? FATVolume(source: source.slice(range)) {
        let used = volume.allocationMap().usedRanges.map { ($0.lowerBound + start)..<($0.upperBound + start) }
          .map { $0.clamped(to: range) }
        whole += used
        partitions.append(
          PartitionRead(number: partition.number, how: "fat", bytes: used.reduce(0) { $0 + Int64($1.count) }))
      } else {
        dataOnly.append(range)
        partitions.append(PartitionRead(number: partition.number, how: "raw", bytes: Int64(range.count)))
      }
    }
    let block = Int64(blockSize)
    func blocks(_ ranges: [Range<Int64>]) -> [Range<Int64>] {
      ByteRanges.merge(
        ranges.filter { !$0.isEmpty }.map { ($0.lowerBound / block)..<(($0.upperBound + block - 1) / block) })
    }
    let wholeBlocks = blocks(whole)
    var pieces = wholeBlocks.map { Piece(blocks: $0, kind: .whole) }
    for range in blocks(dataOnly) {
      pieces += ByteRanges.subtract(wholeBlocks, from: range).map { Piece(blocks: $0, kind: .dataOnly) }
    }
    pieces.sort { $0.blocks.lowerBound < $1.blocks.lowerBound }
    return DiskImagePlan(imageSize: size, blockSize: blockSize, pieces: pieces, partitions: partitions)
  }
}

/// Reads a plan once: hands every block that is not all zeros to `write`, and returns the
/// mapped block ranges with the SHA-256 of each, hashed from the same reads.
public enum DiskImageCapture {
  public struct Result: Hashable, Sendable {
    public var ranges: [Bmap.Range]
    public var bytesRead: Int64
    public var bytesWritten: Int64
  }

  /// - Parameters:
  ///   - pieceBytes: How much one read asks for (a multiple of the block size).
  ///   - write: Called in ascending offset order with bytes to store at that offset.
  ///   - progress: Called with the bytes read so far.
  public static func run(
    _ source: any ByteSource, plan: DiskImagePlan, pieceBytes: Int = 4 << 20,
    write: (Int64, Span<UInt8>) throws -> Void, progress: (Int64) -> Void = { _ in }
  ) throws -> Result {
    let block = Int64(plan.blockSize)
    let piece = max(block, Int64(pieceBytes) / block * block)
    var ranges: [Bmap.Range] = []
    var open: (first: Int64, hasher: SHA256Hasher)?
    var read: Int64 = 0
    var written: Int64 = 0
    // A run ends before `next` when `next` is not the block after the last one mapped.
    var lastMapped: Int64 = -2
    for item in plan.pieces {
      var offset = item.blocks.lowerBound * block
      let end = min(plan.imageSize, item.blocks.upperBound * block)
      while offset < end {
        let stop = min(end, offset + piece)
        try source.withBytes(in: offset..<stop) { bytes in
          var at = 0
          while at < bytes.count {
            let count = min(Int(block), bytes.count - at)
            let chunk = bytes.extracting(at..<(at + count))
            let index = (offset + Int64(at)) / block
            let zero = isZero(chunk)
            if item.kind == .whole || !zero {
              if lastMapped != index - 1 {
                if let run = open {
                  ranges.append(
                    Bmap.Range(first: run.first, last: lastMapped, digest: run.hasher.finalize()))
                }
                open = (index, SHA256Hasher())
              }
              open!.hasher.update(chunk)
              lastMapped = index
            }
            if !zero {
              try write(offset + Int64(at), chunk)
              written += Int64(count)
            }
            at += count
          }
        }
        read += stop - offset
        progress(read)
        offset = stop
      }
    }
    if let run = open { ranges.append(Bmap.Range(first: run.first, last: lastMapped, digest: run.hasher.finalize())) }
    return Result(ranges: ranges, bytesRead: read, bytesWritten: written)
  }

  static func isZero(_ bytes: Span<UInt8>) -> Bool {
    unsafe bytes.withUnsafeBytes { raw in
      var i = 0
      while i + 8 <= raw.count {
        if unsafe raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) != 0 { return false }
        i += 8
      }
      while i < raw.count {
        if unsafe raw[i] != 0 { return false }
        i += 1
      }
      return true
    }
  }
}
