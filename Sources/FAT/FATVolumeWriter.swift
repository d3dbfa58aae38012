import DiskFormat

/// Lays a tree of files and directories out on an existing FAT volume, as sector writes. Pure:
/// the tree and the target's geometry in, writes out; nothing is read or written here.
///
/// The target keeps its boot sector (serial, label, OEM name, boot code, geometry), every
/// reserved sector but FSInfo (sector 1 with the VMware magic among them) and its root
/// directory's volume-label entry. Written anew: every FAT copy, the root directory, every
/// subdirectory, the file data and (FAT32) the FSInfo hints. Clusters are handed out from
/// cluster 2 upwards: the FAT32 root at BPB_RootClus, then every directory, then every file
/// contiguously, in the tree's order (parents before children, directory order). Clusters the
/// target's FAT marks bad stay bad and are skipped.
public struct FATVolumeWriter: Sendable {
  public let bootSector: BootSector
  /// The target's root volume-label entry, written first in the new root directory.
  public let labelEntry: DirectoryEntry?
  /// Clusters the target marks bad.
  public let badClusters: Set<UInt32>
  /// The target's FSInfo sector as it is (FAT32): its reserved bytes are kept.
  public let fsInfoSector: [UInt8]?

  public init(
    bootSector: BootSector, labelEntry: DirectoryEntry?, badClusters: Set<UInt32> = [], fsInfoSector: [UInt8]? = nil
  ) {
    self.bootSector = bootSector
    self.labelEntry = labelEntry
    self.badClusters = badClusters
    self.fsInfoSector = fsInfoSector
  }

  /// The writer for the volume `volume` holds, keeping its label entry and bad clusters.
  public init(target volume: FATVolume) throws {
    var bad = Set<UInt32>()
    var c: UInt32 = 2
    while c <= volume.clusterCount + 1 {
      if volume.table[c] == .bad { bad.insert(c) }
      c += 1
    }
    var fsInfo: [UInt8]? = nil
    let boot = volume.bootSector
    if boot.type == .fat32, boot.fsInfoSector != 0, Int(boot.fsInfoSector) < boot.reservedSectors {
      fsInfo = try volume.source.read(
        at: Int64(boot.fsInfoSector) * Int64(boot.bytesPerSector), count: boot.bytesPerSector)
    }
    self.init(
      bootSector: boot, labelEntry: (try? volume.rootLabelEntry()) ?? nil, badClusters: bad, fsInfoSector: fsInfo)
  }

  // MARK: Layout

  /// A directory or file with the clusters it was given.
  struct Placed {
    var node: FATWriteNode
    var path: String
    var clusters: [UInt32]
    /// Indices into the placed list of the children (directories only).
    var children: [Int]
    /// The parent directory's first cluster (0 for the root and its children).
    var parentCluster: UInt32
  }

  /// Lays out `root` (the root directory's children) and returns the writes.
  ///
  /// - Throws: `FATWriteError` when the tree does not fit, or a name or a file is unusable.
  public func layout(_ root: [FATWriteNode]) throws(FATWriteError) -> FATVolumeLayout {
    let boot = bootSector
    let clusterSize = Int64(boot.bytesPerCluster)
    let isFAT32 = boot.type == .fat32
    // Pass 1: the tree flattened, parents before children, with every directory's slot count.
    var placed: [Placed] = []
    var rootChildren: [Int] = []
    try flatten(root, path: "", depth: 0, into: &placed, indices: &rootChildren)
    let rootSlots = (labelEntry == nil ? 0 : 1) + root.reduce(0) { $0 + $1.slotCount }
    if !isFAT32, rootSlots > boot.rootEntryCount {
      throw .rootDirectoryFull(neededEntries: rootSlots, capacity: boot.rootEntryCount)
    }
    if rootSlots > 65_536 { throw .directoryTooLarge(path: "/", entries: rootSlots) }

    // Pass 2: clusters, counted first so a tree that does not fit is refused with both sizes.
    func clustersFor(bytes: Int64, minimum: Int64) -> Int64 { max(minimum, (bytes + clusterSize - 1) / clusterSize) }
    var needed: Int64 = isFAT32 ? clustersFor(bytes: Int64(rootSlots) * 32, minimum: 1) : 0
    for item in placed {
      if case .directory(let children) = item.node.content {
        let slots = 2 + children.reduce(0) { $0 + $1.slotCount }
        if slots > 65_536 { throw .directoryTooLarge(path: item.path, entries: slots) }
        needed += clustersFor(bytes: Int64(slots) * 32, minimum: 1)
      } else {
        needed += clustersFor(bytes: item.node.size, minimum: 0)
      }
    }
    let usable = Int64(boot.clusterCount) - Int64(badClusters.count)
    guard needed <= usable else {
      throw .doesNotFit(neededBytes: needed * clusterSize, availableBytes: max(0, usable) * clusterSize)
    }

    var allocator = ClusterAllocator(clusterCount: boot.clusterCount, reserved: badClusters)
    var rootClusters: [UInt32] = []
    if isFAT32 {
      allocator.reserve(boot.rootCluster)
      rootClusters = [boot.rootCluster]
      let more = clustersFor(bytes: Int64(rootSlots) * 32, minimum: 1) - 1
      rootClusters += allocator.allocate(Int(more))
    }
    for index in placed.indices where placed[index].node.isDirectory {
      let slots = 2 + (placed[index].node.directoryChildren.reduce(0) { $0 + $1.slotCount })
      placed[index].clusters = allocator.allocate(Int(clustersFor(bytes: Int64(slots) * 32, minimum: 1)))
    }
    for index in placed.indices where !placed[index].node.isDirectory {
      placed[index].clusters = allocator.allocate(Int(clustersFor(bytes: placed[index].node.size, minimum: 0)))
    }
    let rootFirst: UInt32 = isFAT32 ? boot.rootCluster : 0
    for index in placed.indices {
      for child in placed[index].children { placed[child].parentCluster = placed[index].clusters.first ?? 0 }
    }
    for child in rootChildren { placed[child].parentCluster = 0 }

    // Pass 3: the writes. File data first, then directories, then the FATs and FSInfo.
    var writes: [FATVolumeWrite] = []
    for item in placed where !item.node.isDirectory {
      writes += dataWrites(item)
    }
    writes = FATVolumeWrite.merged(writes)
    let rootEntries =
      (labelEntry.map { [$0.encoded(fat32: isFAT32)] } ?? [])
      + rootChildren.flatMap {
        encodedSlots(placed[$0])
      }
    if isFAT32 {
      writes += directoryWrites(rootEntries.flatMap { $0 }, clusters: rootClusters, path: "/")
    } else {
      let rootBytes = Int(boot.dataOffset - boot.rootDirectoryOffset)
      var bytes = rootEntries.flatMap { $0 }
      bytes += [UInt8](repeating: 0, count: rootBytes - bytes.count)
      writes.append(FATVolumeWrite(offset: boot.rootDirectoryOffset, content: .bytes(bytes), what: .rootDirectory))
    }
    for item in placed where item.node.isDirectory {
      let me = item.clusters.first ?? 0
      var dot = item.node.entry
      dot.rawName = DirectoryEntry.dot
      dot.attributes = .directory
      dot.caseFlags = 0
      dot.firstCluster = me
      dot.size = 0
      var dotDot = dot
      dotDot.rawName = DirectoryEntry.dotDot
      // `..` of a child of the root is cluster 0, on FAT32 too.
      dotDot.firstCluster = item.parentCluster == rootFirst ? 0 : item.parentCluster
      var bytes = dot.encoded(fat32: isFAT32) + dotDot.encoded(fat32: isFAT32)
      for child in item.children { bytes += encodedSlots(placed[child]).flatMap { $0 } }
      writes += directoryWrites(bytes, clusters: item.clusters, path: item.path)
    }

    // The FAT: entries 0 and 1, every chain, bad clusters kept.
    let type = boot.type
    var fat = [UInt8](repeating: 0, count: Int(boot.fatByteCount))
    AllocationTable.store(type.entryMask & ~0xFF | UInt32(boot.media), at: 0, type: type, in: &fat)
    AllocationTable.store(type.entryMask, at: 1, type: type, in: &fat)
    for bad in badClusters { AllocationTable.store(type.badClusterMark, at: bad, type: type, in: &fat) }
    var used = 0
    func link(_ clusters: [UInt32]) {
      for (i, c) in clusters.enumerated() {
        let value = i + 1 < clusters.count ? clusters[i + 1] : type.entryMask
        AllocationTable.store(value, at: c, type: type, in: &fat)
      }
      used += clusters.count
    }
    link(rootClusters)
    for item in placed { link(item.clusters) }
    for copy in 0..<boot.fatCount {
      writes.append(FATVolumeWrite(offset: boot.fatOffset(copy: copy), content: .bytes(fat), what: .fat(copy: copy)))
    }
    if isFAT32, boot.fsInfoSector != 0, Int(boot.fsInfoSector) < boot.reservedSectors {
      let free = UInt32(Int64(boot.clusterCount) - Int64(badClusters.count) - Int64(used))
      let next = allocator.nextFree ?? 0xFFFF_FFFF
      var sector = fsInfoSector ?? []
      if sector.count != boot.bytesPerSector || (try? FSInfo(parsing: sector.span, at: 0)) == nil {
        sector = FSInfo(freeCount: free, nextFree: next).encoded()
        sector += [UInt8](repeating: 0, count: boot.bytesPerSector - sector.count)
      }
      sector.storeLittleEndian(free, at: FSInfo.Offset.freeCount)
      sector.storeLittleEndian(next, at: FSInfo.Offset.nextFree)
      writes.append(
        FATVolumeWrite(
          offset: Int64(boot.fsInfoSector) * Int64(boot.bytesPerSector), content: .bytes(sector), what: .fsInfo))
    }
    let fileBytes = placed.reduce(Int64(0)) { $0 + $1.node.size }
    return FATVolumeLayout(
      writes: writes, clustersUsed: used, fileCount: placed.count { !$0.node.isDirectory },
      directoryCount: placed.count { $0.node.isDirectory }, fileBytes: fileBytes,
      placements: Dictionary(uniqueKeysWithValues: placed.map { ($0.path, $0.clusters.first ?? 0) }))
  }

  /// Appends `nodes` and their descendants, parents before children; `indices` gets the
  /// positions of `nodes` themselves.
  private func flatten(
    _ nodes: [FATWriteNode], path: String, depth: Int, into placed: inout [Placed], indices: inout [Int]
  ) throws(FATWriteError) {
    var seen = Set<[UInt8]>()
    var pending: [(Int, [FATWriteNode], String)] = []
    for node in nodes {
      let childPath = path + "/" + node.name
      guard node.entry.rawName.count == 11, !node.entry.isDotEntry,
        node.entry.rawName[0] != DirectoryEntry.endMark, node.entry.rawName[0] != DirectoryEntry.deletedMark
      else { throw .badName(path: childPath, reason: "not a usable 8.3 name") }
      guard seen.insert(node.entry.rawName).inserted else {
        throw .badName(path: childPath, reason: "a second entry with the 8.3 name '\(node.entry.shortName)'")
      }
      if let long = node.longName, long.isEmpty || long.utf16.count > 255 {
        throw .badName(path: childPath, reason: "a long name of \(long.utf16.count) UTF-16 units (1-255 allowed)")
      }
      if node.size > Int64(UInt32.max) {
        throw .badFile(path: childPath, reason: "\(node.size) bytes, more than a FAT file can hold")
      }
      if case .extents(let ranges) = node.content, ranges.contains(where: { $0.lowerBound < 0 }) {
        throw .badFile(path: childPath, reason: "an extent before the start of the source")
      }
      indices.append(placed.count)
      placed.append(Placed(node: node, path: childPath, clusters: [], children: [], parentCluster: 0))
      if case .directory(let children) = node.content { pending.append((placed.count - 1, children, childPath)) }
    }
    for (index, children, childPath) in pending {
      guard depth + 1 < FATVolume.maximumDepth else { throw .tooDeep(path: childPath) }
      var mine: [Int] = []
      try flatten(children, path: childPath, depth: depth + 1, into: &placed, indices: &mine)
      placed[index].children = mine
    }
  }

  /// A node's long-name slots and 8.3 entry, pointing at its first cluster.
  private func encodedSlots(_ item: Placed) -> [[UInt8]] {
    var entry = item.node.entry
    entry.firstCluster = item.clusters.first ?? 0
    entry.size = item.node.isDirectory ? 0 : UInt32(item.node.size)
    entry.highWordOnFAT16 = 0
    var out: [[UInt8]] = []
    if let long = item.node.longName, let slots = LongNameSlot.slots(for: long, shortName: entry.rawName) {
      out = slots.map { $0.encoded() }
    }
    out.append(entry.encoded(fat32: bootSector.type == .fat32))
    return out
  }

  /// A directory's slots in its clusters, zero-filled to the end of the last one: one write
  /// per run of consecutive clusters.
  private func directoryWrites(_ slots: [UInt8], clusters: [UInt32], path: String) -> [FATVolumeWrite] {
    let size = bootSector.bytesPerCluster
    var bytes = slots
    bytes += [UInt8](repeating: 0, count: clusters.count * size - bytes.count)
    var writes: [FATVolumeWrite] = []
    var at = 0
    for run in ClusterChain(clusters: clusters, end: .endOfChain).runs {
      let count = run.count * size
      writes.append(
        FATVolumeWrite(
          offset: bootSector.offset(ofCluster: run.first), content: .bytes(Array(bytes[at..<(at + count)])),
          what: .directory(path)))
      at += count
    }
    return writes
  }

  /// A file's data in its clusters: whole sectors copied from the source where one extent
  /// covers them; a sector that straddles extents, or the last one, gathered and zero-padded.
  private func dataWrites(_ item: Placed) -> [FATVolumeWrite] {
    let sector = Int64(bootSector.bytesPerSector)
    let size = item.node.size
    let clusterSize = Int64(bootSector.bytesPerCluster)
    guard size > 0 else { return [] }
    // Where file byte `position` lands on the volume.
    func volumeOffset(_ position: Int64) -> Int64 {
      bootSector.offset(ofCluster: item.clusters[Int(position / clusterSize)]) + position % clusterSize
    }
    // The largest run from `position` that stays in one cluster run of the target.
    func contiguous(from position: Int64) -> Int64 {
      var index = Int(position / clusterSize)
      var end = Int64(index + 1) * clusterSize
      while index + 1 < item.clusters.count, item.clusters[index + 1] == item.clusters[index] + 1 {
        index += 1
        end += clusterSize
      }
      return end - position
    }
    switch item.node.content {
    case .directory: return []
    case .bytes(let bytes):
      var writes: [FATVolumeWrite] = []
      var position: Int64 = 0
      while position < size {
        let n = min(contiguous(from: position), (size - position + sector - 1) / sector * sector)
        var piece = Array(bytes[Int(position)..<Int(min(size, position + n))])
        piece += [UInt8](repeating: 0, count: Int(n) - piece.count)
        writes.append(FATVolumeWrite(offset: volumeOffset(position), content: .bytes(piece), what: .file(item.path)))
        position += n
      }
      return writes
    case .extents(let ranges):
      var writes: [FATVolumeWrite] = []
      var position: Int64 = 0
      var extent = 0
      var extentStart: Int64 = 0  // file position of ranges[extent]
      while position < size {
        while extent < ranges.count, extentStart + Int64(ranges[extent].count) <= position {
          extentStart += Int64(ranges[extent].count)
          extent += 1
        }
        let range = ranges[extent]
        let left = extentStart + Int64(range.count) - position
        let room = contiguous(from: position)
        let whole = min(left, room) / sector * sector
        if whole > 0 {
          let from = range.lowerBound + (position - extentStart)
          writes.append(
            FATVolumeWrite(
              offset: volumeOffset(position), content: .source([from..<(from + whole)]), what: .file(item.path)))
          position += whole
          continue
        }
        // One sector gathered from the extents that cover it, zero-padded past the end.
        var pieces: [Range<Int64>] = []
        let end = min(size, position + sector)
        var p = position
        var e = extent
        var eStart = extentStart
        while p < end, e < ranges.count {
          let r = ranges[e]
          let take = min(end, eStart + Int64(r.count)) - p
          if take > 0 {
            let from = r.lowerBound + (p - eStart)
            pieces.append(from..<(from + take))
            p += take
          }
          if p >= eStart + Int64(r.count) {
            eStart += Int64(r.count)
            e += 1
          }
        }
        writes.append(
          FATVolumeWrite(
            offset: volumeOffset(position), count: Int(sector), content: .source(pieces), what: .file(item.path)))
        position += sector
      }
      return FATVolumeWrite.merged(writes)
    }
  }
}

extension FATWriteNode {
  var directoryChildren: [FATWriteNode] {
    if case .directory(let children) = content { return children }
    return []
  }
}

/// Hands out free clusters in ascending order, skipping reserved ones.
struct ClusterAllocator {
  let clusterCount: UInt32
  var reserved: Set<UInt32>
  var cursor: UInt32 = 2

  init(clusterCount: UInt32, reserved: Set<UInt32>) {
    self.clusterCount = clusterCount
    self.reserved = reserved
  }

  mutating func reserve(_ cluster: UInt32) { reserved.insert(cluster) }

  /// `count` clusters (the caller has checked that they exist).
  mutating func allocate(_ count: Int) -> [UInt32] {
    var out: [UInt32] = []
    out.reserveCapacity(count)
    while out.count < count, cursor <= clusterCount + 1 {
      if !reserved.contains(cursor) { out.append(cursor) }
      cursor += 1
    }
    return out
  }

  /// The first cluster not handed out, or nil when none is left.
  var nextFree: UInt32? {
    var c = cursor
    while c <= clusterCount + 1 {
      if !reserved.contains(c) { return c }
      c += 1
    }
    return nil
  }
}
