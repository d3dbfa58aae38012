import DiskFormat
import FAT
import PartitionTable

extension WritePlanner {
  /// The steps that replace partition `partition`'s boot.cfg `old` with `new` (any size)
  /// through its FAT, power-cut safe (`FATVolume.planRewrite`): the new contents into free
  /// clusters, the new chain in every FAT copy, the directory entry (the commit), the old
  /// chain freed, a barrier after each.
  static func rewriteSteps(
    _ source: any ByteSource, layout: DiskLayout, partition: Int, old: [UInt8], new: [UInt8], reason: String
  ) throws -> [WritePlan.Step] {
    guard let part = layout.partition(partition) else { throw PlanError("partition \(partition) is not in the table") }
    let start = Int64(clamping: part.offsetBytes)
    let volume = try FATVolume(source: source.slice(start..<(start &+ Int64(clamping: part.sizeBytes))))
    guard let entry = try volume.lookup("/boot.cfg"), !entry.isDirectory,
      try volume.contents(of: entry) == old
    else {
      throw PlanError("partition \(partition): /boot.cfg is not the file that was read")
    }
    let rewrite: FATFileRewrite
    do {
      rewrite = try volume.planRewrite(of: "BOOT.CFG", with: new, sectorSize: source.sectorSize)
    } catch {
      throw PlanError("partition \(partition): \(error)")
    }
    let sectorSize = source.sectorSize
    let end = start &+ Int64(clamping: part.sizeBytes)
    let commit = rewrite.entryOffset
    return try rewrite.steps.map { step in
      switch step {
      case .write(let w):
        guard w.offset >= start, w.offset + Int64(w.new.count) <= end else {
          throw PlanError("partition \(partition): a write of the boot.cfg rewrite falls outside the partition")
        }
        // The directory entry's write is the one that changes what the loader reads.
        let isCommit = w.offset <= commit && commit < w.offset + Int64(w.new.count)
        return .write(
          offset: w.offset, old: w.old, new: w.new, sectorSize: sectorSize,
          reason: isCommit ? "\(reason); \(w.reason)" : "partition \(partition): \(w.reason)")
      case .barrier(let why):
        return .barrier("partition \(partition): \(why)")
      }
    }
  }

  /// Whether turning `old` into `new` can be one atomic write in place: the same length, and
  /// every changed byte of the file in one device sector.
  static func fitsOneSector(
    _ source: any ByteSource, layout: DiskLayout, partition: Int, old: [UInt8], new: [UInt8]
  ) throws -> Bool {
    guard old.count == new.count else { return false }
    let writes = try inPlaceWrites(
      source, layout: layout, partition: partition, old: old, new: new, reason: "")
    return writes.count <= 1
  }
}
