import Checksum
import DiskFormat
import PartitionTable

/// What `restore` writes first and last: the sectors that decide whether the loader sees any
/// partition at all, LBA 0 (the MBR, or the protective MBR of a GPT disk) and LBA 1 (the
/// primary GPT header). The loader reads only the primary GPT header and, without a protective
/// MBR entry, only the MBR's entries (ESXI.md §1), so while these two sectors hold `bytes`
/// no partition exists for it: a restore cut short is never booted from a half-written bank.
public enum RestoreMarker {
  /// The text at byte 0 of LBA 0 while a restore runs (no 0x55AA, no partition entry).
  public static let text = "BOOTBANK RESTORE IN PROGRESS: run the restore again to finish it"

  /// The two sectors, in `sectorSize`-byte sectors: the text at the start of each, so a
  /// final write torn after LBA 0 still leaves it in LBA 1 (where no GPT header is then).
  public static func bytes(sectorSize: Int) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: 2 * sectorSize)
    bytes.replaceSubrange(0..<text.utf8.count, with: Array(text.utf8))
    bytes.replaceSubrange(sectorSize..<(sectorSize + text.utf8.count), with: Array(text.utf8))
    return bytes
  }

  /// True when LBA 0 or LBA 1 (of 512 or 4096 bytes) of `source` starts with the marker.
  public static func isPresent(on source: any ByteSource) -> Bool {
    let marker = Array(text.utf8)
    for offset: Int64 in [0, 512, 4096] where source.byteCount >= offset + Int64(marker.count) {
      if let bytes = try? source.read(at: offset, count: marker.count), bytes == marker { return true }
    }
    return false
  }

  /// What `status` says of a device that carries the marker.
  public static let reason =
    "an interrupted bootbank restore: LBA 0 and the primary GPT header were made invalid before the image was written (and are written last), so the loader sees no partition and boots nothing; run the same restore again to finish it"
}

/// An image's mapped ranges laid over a target: the bytes the target holds after a restore
/// (the ranges from the image, everything else as it is now). Read lazily, so the loader can
/// be replayed on the planned result without holding the image in memory.
public final class BmapOverlay: ByteSource {
  public let target: any ByteSource
  public let image: any ByteSource
  /// Ascending, disjoint byte ranges taken from the image.
  public let mapped: [Range<Int64>]

  public init(target: any ByteSource, image: any ByteSource, mapped: [Range<Int64>]) {
    self.target = target
    self.image = image
    self.mapped = mapped
  }

  public var name: String { target.name }
  public var byteCount: Int64 { target.byteCount }
  public var sectorSize: Int { target.sectorSize }

  public func withBytes<R>(in range: Range<Int64>, _ body: (Span<UInt8>) throws -> R) throws -> R {
    // The mapped ranges that meet `range` (binary search for the first).
    var low = 0
    var high = mapped.count
    while low < high {
      let mid = (low + high) / 2
      if mapped[mid].upperBound <= range.lowerBound { low = mid + 1 } else { high = mid }
    }
    var pieces: [(Range<Int64>, Bool)] = []
    var at = range.lowerBound
    var index = low
    while at < range.upperBound {
      if index < mapped.count, mapped[index].lowerBound <= at {
        let end = min(range.upperBound, mapped[index].upperBound)
        pieces.append((at..<end, true))
        at = end
        index += 1
      } else {
        let end = min(range.upperBound, index < mapped.count ? mapped[index].lowerBound : range.upperBound)
        pieces.append((at..<end, false))
        at = end
      }
    }
    if pieces.count == 1 {
      return try (pieces[0].1 ? image : target).withBytes(in: range, body)
    }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(Int(range.count))
    for (piece, fromImage) in pieces {
      bytes += try (fromImage ? image : target).read(piece)
    }
    return try body(bytes.span)
  }
}

extension WritePlanner {
  /// `bootbank restore`: the mapped ranges of `image` (already checked against `bmap`) written
  /// to `target`, with LBA 0 and the primary GPT header made invalid first and written last:
  ///
  /// 1. LBA 0–1 ← `RestoreMarker` (the loader sees no partition from here on); barrier.
  /// 2. Every mapped range but LBA 0–1, in device order; barrier.
  /// 3. LBA 0–1 ← the image's; barrier.
  ///
  /// Refused when the target is smaller than the image, when its sector size is not the one
  /// the image's partition table is in, or when a range is not whole sectors.
  ///
  /// The ranges are streamed from `image` when written (memory does not grow with the image);
  /// planning reads the target's bytes there once, for the digest each write expects to find,
  /// and takes the digest of what it writes from the bmap where a write is a whole range.
  public static func restore(
    image: any ByteSource, bmap: Bmap, target: any ByteSource, force: Bool = false
  ) throws -> WritePlan {
    let sectorSize = target.sectorSize
    let identityLayout = try? PartitionTable.read(from: target, sectorSize: sectorSize)
    let identity = WritePlan.TargetIdentity(
      path: target.name, sizeBytes: target.byteCount, sectorSize: sectorSize,
      diskGUID: identityLayout?.diskGUID?.description)
    let before: WritePlan.Choice
    do { before = try choice(of: target, sectorSize: sectorSize) } catch {
      before = WritePlan.Choice(
        BankChoice(
          banks: [], nextPartition: nil, rollback: false, fallbackPartition: nil,
          messages: [BankChoice.noHypervisor, "no partition table the loader reads: \(error)"], writtenBootConfigs: [:])
      )
    }
    func refused(_ why: String) -> WritePlan {
      WritePlan(
        command: "restore", target: identity, steps: [], before: before, after: before, refusal: why, notes: [])
    }
    guard target.byteCount >= bmap.imageSize else {
      return refused(
        "\(target.name) is \(target.byteCount) bytes, smaller than the image (\(bmap.imageSize) bytes): it cannot hold it"
      )
    }
    let sector = Int64(sectorSize)
    guard bmap.imageSize % sector == 0,
      Int64(bmap.blockSize) % sector == 0
        || bmap.ranges.allSatisfy({
          let bytes = bmap.byteRange(of: $0)
          return bytes.lowerBound % sector == 0 && bytes.upperBound % sector == 0
        })
    else {
      return refused(
        "the bmap's ranges (blocks of \(bmap.blockSize) bytes in an image of \(bmap.imageSize)) are not whole \(sectorSize)-byte sectors of the target"
      )
    }
    let detected = try PartitionTable.detectSectorSize(of: image)
    guard detected.sectorSize == sectorSize else {
      return refused(
        "the image's GPT is in \(detected.sectorSize)-byte sectors, the target's sectors are \(sectorSize) bytes: its tables would point to the wrong places"
      )
    }
    do { _ = try PartitionTable.read(from: image, sectorSize: sectorSize) } catch {
      return refused("the image holds no partition table the loader reads: \(error)")
    }

    let head = Int64(2 * sectorSize)
    var ranges = bmap.ranges.map { bmap.byteRange(of: $0) }
    var steps: [WritePlan.Step] = []
    let marker = RestoreMarker.bytes(sectorSize: sectorSize)
    let oldHead = try target.read(at: 0, count: Int(head))
    steps.append(
      .write(
        offset: 0, old: oldHead, new: marker, sectorSize: sectorSize,
        reason: "LBA 0-1 (MBR, primary GPT header) made invalid first: from here the loader sees no partition"))
    steps.append(.barrier("no partition is visible before any range is written"))
    let body = ranges.compactMap { range -> Range<Int64>? in
      let clipped = max(range.lowerBound, head)..<range.upperBound
      return clipped.isEmpty ? nil : clipped
    }
    // The bmap's SHA-256 of each whole range (the first range loses LBA 0-1 to the head).
    var known: [Int64: (end: Int64, hex: String)] = [:]
    if bmap.checksumType == .sha256 {
      for range in bmap.ranges {
        let bytes = bmap.byteRange(of: range)
        known[bytes.lowerBound] = (bytes.upperBound, Digests.hex(range.digest))
      }
    }
    for range in body {
      let content = StreamedBytes(image, offset: range.lowerBound, count: Int(range.count))
      let reason =
        "image bytes \(range.lowerBound)..<\(range.upperBound) (LBA \(range.lowerBound / sector)-\(range.upperBound / sector - 1))"
      if let digest = known[range.lowerBound], digest.end == range.upperBound {
        let old = try streamedSHA256(StreamedBytes(target, offset: range.lowerBound, count: Int(range.count)))
        steps.append(
          .copy(
            content, to: range.lowerBound, expectedSHA256: old, newSHA256: digest.hex, sectorSize: sectorSize,
            reason: reason))
      } else {
        steps.append(try .copy(content, to: range.lowerBound, on: target, reason: reason))
      }
    }
    steps.append(.barrier("every range on the medium before the tables are written"))
    steps.append(
      .write(
        offset: 0, old: marker, new: try image.read(at: 0, count: Int(head)), sectorSize: sectorSize,
        reason: "LBA 0-1 of the image written last: the partition table becomes visible"))
    steps.append(.barrier("the restore is complete"))
    ranges.append(0..<head)
    let mapped = ByteRanges.merge(ranges)
    let after = try choice(of: BmapOverlay(target: target, image: image, mapped: mapped), sectorSize: sectorSize)
    var notes: [String] = []
    if target.byteCount > bmap.imageSize {
      notes.append(
        "the target is \(target.byteCount - bmap.imageSize) bytes larger than the image: its last bytes are not written, and a backup GPT is where the image's end was (sgdisk -e moves it to the end)"
      )
    }
    notes.append("blocks the bmap does not map are not written: the target keeps what it holds there")
    var plan = WritePlan(
      command: "restore", target: identity, steps: steps, before: before, after: after, refusal: nil, notes: notes)
    if after.next == nil, !force {
      plan.refusal =
        "after this restore no bank would boot: the loader would stop with \"\(BankChoice.noHypervisor)\" (--force writes it anyway)"
    }
    return plan
  }
}
