import DiskFormat

/// The sector writes that replace the contents of one file in a volume's root directory with
/// new bytes of any size, so that a power cut at any point leaves either the old file or the
/// new one, complete. Pure: it reads the volume, and only plans.
///
/// The order (each group followed by a barrier):
/// 1. the new contents into clusters free in every FAT copy, never over the live chain;
/// 2. the FAT entries of the new chain, in every FAT copy (the clusters are then allocated but
///    not yet the file's: a power cut here leaves lost clusters, which fsck.fat reclaims);
/// 3. the directory entry's first cluster and size: one sector, the commit;
/// 4. the old chain freed in every FAT copy (and, on FAT32, FSInfo's free count adjusted).
///
/// Every FAT and directory write is one logical sector, so a write that the medium tears keeps
/// each sector old or new; content writes may span sectors (a torn one is in clusters no entry
/// points at yet).
public struct FATFileRewrite: Hashable, Sendable {
  /// One sector-aligned write: absolute offset in the image, the bytes there now and the new ones.
  public struct Write: Hashable, Sendable {
    public var offset: Int64
    public var old: [UInt8]
    public var new: [UInt8]
    public var reason: String
  }

  /// A write, or a barrier: everything before it is on the medium before anything after.
  public enum Step: Hashable, Sendable {
    case write(Write)
    case barrier(String)
  }

  /// The file's 8.3 name as mtools shows it (`BOOT.CFG`).
  public var name: String
  /// Absolute offset of the file's directory slot.
  public var entryOffset: Int64
  public var oldSize: UInt32
  public var newSize: UInt32
  public var oldChain: [UInt32]
  public var newChain: [UInt32]
  public var steps: [Step]

  public var writes: [Write] {
    steps.compactMap {
      if case .write(let w) = $0 { return w }
      return nil
    }
  }
}

/// Why a file cannot be rewritten safely.
public enum FATFileRewriteError: Error, Hashable, Sendable, CustomStringConvertible {
  /// No 8.3 entry of that name in the root directory (or it is a directory or label).
  case notFound(name: String)
  /// The file's chain does not cover its size (or loops, or runs into a free cluster).
  case brokenChain(name: String, clusters: Int, size: UInt32)
  /// Fewer free clusters than the new contents need while the old ones stay allocated.
  case noSpace(name: String, oldBytes: Int, newBytes: Int, neededClusters: Int, freeClusters: Int, clusterBytes: Int)
  /// The new contents do not fit a FAT file size.
  case tooLarge(bytes: Int)
  /// The volume is not laid out in whole device sectors (the writes could not be atomic).
  case unaligned(String)
  /// A FAT copy cannot be read.
  case unreadable(String)

  public var description: String {
    switch self {
    case .notFound(let name): "/\(name): no such file in the root directory"
    case .brokenChain(let name, let clusters, let size):
      "/\(name): its cluster chain (\(clusters) clusters) does not hold its \(size) bytes; run fsck.fat first"
    case .noSpace(let name, let old, let new, let needed, let free, let clusterBytes):
      "/\(name): rewriting it safely needs room for the old (\(old) bytes) and the new contents (\(new) bytes) at once: \(needed) free clusters of \(clusterBytes) bytes, and the volume has \(free)"
    case .tooLarge(let bytes): "\(bytes) bytes do not fit a FAT file"
    case .unaligned(let why): "the volume is not laid out in whole sectors: \(why)"
    case .unreadable(let why): why
    }
  }
}

extension FATVolume {
  /// Plans the rewrite of the root-directory file whose 8.3 name is `name` (`BOOT.CFG`, matched
  /// as the ESXi loader matches it: the first slot with those 11 name bytes) with `contents`.
  ///
  /// - Parameter sectorSize: The device's logical sector size: the unit of every write (the
  ///   source's sector size by default).
  /// - Throws: `FATFileRewriteError`.
  public func planRewrite(
    of name: String, with contents: [UInt8], sectorSize: Int? = nil
  ) throws(FATFileRewriteError) -> FATFileRewrite {
    let unit = sectorSize ?? source.sectorSize
    let boot = bootSector
    let clusterBytes = boot.bytesPerCluster
    guard unit > 0, baseOffset % Int64(unit) == 0, boot.bytesPerSector % unit == 0, clusterBytes % unit == 0 else {
      throw .unaligned(
        "volume at byte \(baseOffset), \(boot.bytesPerSector)-byte FAT sectors, \(clusterBytes)-byte clusters, \(unit)-byte device sectors"
      )
    }
    guard let newSize = UInt32(exactly: contents.count) else { throw .tooLarge(bytes: contents.count) }
    let wanted = Self.rawName(name)

    // The slot the loader finds: the first in the root directory with these 11 name bytes.
    let items: [DirectoryItem]
    do { items = try readDirectory(root, findings: nil) } catch { throw .unreadable("the root directory: \(error)") }
    guard let item = items.first(where: { $0.entry.rawName == wanted }),
      !item.entry.attributes.contains(.directory), !item.isLabel
    else { throw .notFound(name: name.uppercased()) }
    let entry = item.entry
    let display = entry.shortName

    let oldChain = table.chain(from: entry.firstCluster)
    let oldNeeded = (Int(entry.size) + clusterBytes - 1) / clusterBytes
    guard oldChain.end == .endOfChain, oldChain.clusters.count >= oldNeeded else {
      throw .brokenChain(name: display, clusters: oldChain.clusters.count, size: entry.size)
    }

    // Every FAT copy, as far as its entries reach (whole sectors).
    let fatBytes = min(
      Int(boot.fatByteCount),
      (AllocationTable.byteCount(type: type, clusterCount: clusterCount) + unit - 1) / unit * unit)
    var fats: [[UInt8]] = []
    for copy in 0..<boot.fatCount {
      do {
        fats.append(try source.read(at: boot.fatOffset(copy: copy), count: fatBytes))
      } catch {
        throw .unreadable("FAT copy \(copy + 1): \(error)")
      }
    }
    let tables = fats.map {
      AllocationTable(bytes: $0, type: type, clusterCount: clusterCount, absoluteOffset: 0)
    }

    // New clusters: free in every copy, wholly inside the source, lowest first; preferably
    // those whose FAT entries share no sector with the old chain's. Then the FAT sectors that
    // link the new chain and those that free the old one are distinct, and restoring the old
    // sectors in the reverse order (an undo) passes only through states where the entry points
    // at a whole chain.
    let needed = (contents.count + clusterBytes - 1) / clusterBytes
    func entrySectors(_ c: UInt32) -> ClosedRange<Int> {
      let first = Int(c) * type.entryBits / 8
      let last = (Int(c) * type.entryBits + type.entryBits - 1) / 8
      return (first / unit)...(last / unit)
    }
    var oldSectors = Set<Int>()
    for c in oldChain.clusters { oldSectors.formUnion(entrySectors(c)) }
    var apart: [UInt32] = []
    var sharing: [UInt32] = []
    var free = 0
    var cluster: UInt32 = 2
    while cluster <= clusterCount + 1 {
      if tables.allSatisfy({ $0.rawValue(cluster) == 0 }),
        boot.offset(ofCluster: cluster) + Int64(clusterBytes) <= source.byteCount
      {
        free += 1
        if entrySectors(cluster).allSatisfy({ !oldSectors.contains($0) }) {
          if apart.count < needed { apart.append(cluster) }
        } else if sharing.count < needed {
          sharing.append(cluster)
        }
      }
      cluster += 1
    }
    let newChain = apart.count == needed ? apart : Array((apart + sharing).sorted().prefix(needed))
    guard newChain.count == needed else {
      throw .noSpace(
        name: display, oldBytes: Int(entry.size), newBytes: contents.count, neededClusters: needed,
        freeClusters: free, clusterBytes: clusterBytes)
    }

    var steps: [FATFileRewrite.Step] = []
    func read(_ offset: Int64, _ count: Int) throws(FATFileRewriteError) -> [UInt8] {
      do { return try source.read(at: offset, count: count) } catch {
        throw .unreadable("bytes \(offset)..<\(offset + Int64(count)) of the volume: \(error)")
      }
    }

    // 1. The contents, one write per run of consecutive clusters, the last cluster zero-padded.
    var at = 0
    for run in ClusterChain(clusters: newChain, end: .endOfChain).runs {
      let length = run.count * clusterBytes
      var bytes = Array(contents[at..<min(contents.count, at + length)])
      bytes += [UInt8](repeating: 0, count: length - bytes.count)
      let offset = boot.offset(ofCluster: run.first)
      let last = run.first + UInt32(run.count) - 1
      steps.append(
        .write(
          .init(
            offset: absolute(offset), old: try read(offset, length), new: bytes,
            reason:
              "/\(display): new contents, bytes \(at)..<\(min(contents.count, at + length)) into free cluster\(run.count == 1 ? " \(run.first)" : "s \(run.first)-\(last)")"
          )))
      at += length
    }
    if !newChain.isEmpty {
      steps.append(.barrier("/\(display): the new contents on the medium before the FAT links them"))
    }

    // FAT sectors that differ between two versions of every copy, as single-sector writes.
    func fatWrites(from before: [[UInt8]], to after: [[UInt8]], reason: String) -> [FATFileRewrite.Step] {
      var out: [FATFileRewrite.Step] = []
      for copy in before.indices {
        var sector = 0
        while sector < before[copy].count {
          let end = sector + unit
          if before[copy][sector..<end] != after[copy][sector..<end] {
            out.append(
              .write(
                .init(
                  offset: absolute(boot.fatOffset(copy: copy) + Int64(sector)), old: Array(before[copy][sector..<end]),
                  new: Array(after[copy][sector..<end]), reason: "FAT copy \(copy + 1): \(reason)")))
          }
          sector = end
        }
      }
      return out
    }

    // 2. The new chain in every FAT copy.
    var linked = fats
    for (i, c) in newChain.enumerated() {
      let value =
        i + 1 < newChain.count
        ? AllocationTable.value(of: .next(newChain[i + 1]), type: type)
        : AllocationTable.value(of: .endOfChain, type: type)
      for copy in linked.indices { AllocationTable.store(value, at: c, type: type, in: &linked[copy]) }
    }
    let link = fatWrites(
      from: fats, to: linked,
      reason: "/\(display)'s new chain (\(newChain.count) cluster\(newChain.count == 1 ? "" : "s"))")
    steps += link
    if !link.isEmpty {
      steps.append(.barrier("/\(display): the new chain on the medium before the entry points at it"))
    }

    // 3. The directory entry: the commit.
    let slotOffset = item.offset - baseOffset
    let sectorOffset = slotOffset - slotOffset % Int64(unit)
    let oldSector = try read(sectorOffset, unit)
    var newEntry = entry
    newEntry.firstCluster = newChain.first ?? 0
    newEntry.size = newSize
    var newSector = oldSector
    let within = Int(slotOffset - sectorOffset)
    newSector.replaceSubrange(within..<(within + DirectoryEntry.size), with: newEntry.encoded(fat32: type == .fat32))
    steps.append(
      .write(
        .init(
          offset: absolute(sectorOffset), old: oldSector, new: newSector,
          reason:
            "/\(display): directory entry to first cluster \(newEntry.firstCluster), \(newSize) bytes (was \(entry.firstCluster), \(entry.size)): the commit"
        )))
    steps.append(.barrier("/\(display): the directory entry on the medium before the old chain is freed"))

    // 4. The old chain freed in every copy.
    var freed = linked
    for c in oldChain.clusters {
      for copy in freed.indices { AllocationTable.store(0, at: c, type: type, in: &freed[copy]) }
    }
    var release = fatWrites(
      from: linked, to: freed,
      reason:
        "/\(display)'s old chain freed (\(oldChain.clusters.count) cluster\(oldChain.clusters.count == 1 ? "" : "s"))")
    if let info = fsInfo, info.freeCount != 0xFFFF_FFFF, type == .fat32 {
      let delta = Int64(oldChain.clusters.count) - Int64(newChain.count)
      let count = Int64(info.freeCount) + delta
      if delta != 0, count >= 0, count <= Int64(clusterCount) {
        let offset = Int64(boot.fsInfoSector) * Int64(boot.bytesPerSector)
        let sector = try read(offset - offset % Int64(unit), unit)
        var updated = sector
        updated.storeLittleEndian(UInt32(count), at: Int(offset % Int64(unit)) + FSInfo.Offset.freeCount)
        release.append(
          .write(
            .init(
              offset: absolute(offset - offset % Int64(unit)), old: sector, new: updated,
              reason: "FSInfo: free cluster count \(info.freeCount) → \(count)")))
      }
    }
    steps += release
    if !release.isEmpty { steps.append(.barrier("/\(display): the old chain freed")) }

    return FATFileRewrite(
      name: display, entryOffset: item.offset, oldSize: entry.size, newSize: newSize, oldChain: oldChain.clusters,
      newChain: newChain, steps: steps)
  }

  /// The 11 name bytes of an 8.3 name (`boot.cfg` → `BOOT    CFG`), upper-cased.
  static func rawName(_ name: String) -> [UInt8] {
    let upper = Array(name.uppercased().utf8)
    let dot = upper.lastIndex(of: UInt8(ascii: "."))
    let base = dot.map { Array(upper[..<$0]) } ?? upper
    let ext = dot.map { Array(upper[($0 + 1)...]) } ?? []
    func padded(_ part: [UInt8], _ width: Int) -> [UInt8] {
      Array((part + [UInt8](repeating: 0x20, count: width)).prefix(width))
    }
    return padded(base, 8) + padded(ext, 3)
  }
}
