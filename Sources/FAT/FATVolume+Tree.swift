import DiskFormat

/// Which file owns each cluster, as the tree walk claims chains (fsck.fat's `check_file`).
struct ClusterOwners {
  /// Per cluster: 0 when unclaimed, else the 1-based index of its owner in `paths`.
  var owners: [UInt32]
  /// The path of each owner, in the order the walk claimed them.
  var paths: [String] = []

  init(clusterCount: UInt32) { owners = [UInt32](repeating: 0, count: Int(clusterCount) + 2) }

  /// Registers `path` as a new owner; its number.
  mutating func register(_ path: String) -> UInt32 {
    paths.append(path)
    return UInt32(paths.count)
  }
}

/// A directory waiting to be checked.
struct PendingDirectory {
  var entry: FATEntry
  /// The clusters its chain was claimed with.
  var clusters: [UInt32]
  /// The parent's first cluster (0 for the root and its children).
  var parentCluster: UInt32
  var depth: Int
  /// The first clusters of every enclosing directory.
  var ancestors: Set<UInt32>
}

/// The 8.3 and long names met in one directory, for the duplicate check.
struct NamesSeen {
  var shortNames: [[UInt8]: String] = [:]
  var longNames: [String: String] = [:]
}

extension FATVolume {
  /// Walks the tree from the root, checking each directory's slots and claiming each chain.
  func checkTree(_ sink: FindingSink, claims: inout ClusterOwners) throws {
    let rootEntry = root
    var stack = [
      PendingDirectory(
        entry: rootEntry, clusters: claim(rootEntry, into: &claims, sink: sink), parentCluster: 0, depth: 0,
        ancestors: [rootEntry.firstCluster])
    ]
    while let work = stack.popLast() {
      stack += try checkDirectory(work, claims: &claims, sink: sink).reversed()
    }
  }

  /// Checks the slots of one directory and claims its children's chains; returns its
  /// subdirectories, in directory order.
  private func checkDirectory(
    _ work: PendingDirectory, claims: inout ClusterOwners, sink: FindingSink
  ) throws -> [PendingDirectory] {
    let dir = work.entry
    let items: [DirectoryItem]
    if dir.isRoot && type != .fat32 {
      items = try readDirectory(dir, findings: sink)
    } else {
      items = try readDirectory(dir, clusters: work.clusters, findings: sink)
    }
    if dir.isDirectory && dir.size != 0 && !dir.isRoot {
      sink.append(
        .warning(
          "directorySizeNonZero", "\(dir.path): a directory with size \(dir.size) (must be 0)",
          offset: dir.entryOffset, path: dir.path))
    }
    var seen = NamesSeen()
    var subdirs: [PendingDirectory] = []
    for (position, item) in items.enumerated() {
      let entry = makeEntry(item, in: dir)
      if item.isLabel {
        checkLabelPlacement(item, entry, in: dir, sink)
        continue
      }
      if checkDotSlot(item, entry, position: position, in: work, sink) { continue }
      if item.entry.isDotEntry {
        sink.append(
          .error(
            "misplacedDotEntry",
            "\(entry.path): a '\(item.entry.shortName)' entry in slot \(item.index), not at the start of a subdirectory",
            offset: item.offset, path: entry.path))
        continue
      }
      if let why = Self.badShortName(item.entry, hasLongName: item.longName != nil) {
        sink.append(
          .error(
            "badShortName", "\(entry.path): bad short file name '\(item.entry.shortName)' (\(why))",
            offset: item.offset, path: entry.path))
      }
      checkDuplicate(item, entry, seen: &seen, sink)
      if entry.isDirectory, !checkSubdirectoryStart(item, entry, in: work, sink) { continue }
      let owned = claim(entry, into: &claims, sink: sink)
      guard entry.isDirectory, !owned.isEmpty else { continue }
      if work.depth + 1 >= Self.maximumDepth {
        sink.append(
          .error(
            "directoryTooDeep", "\(entry.path): deeper than \(Self.maximumDepth) levels; not checked",
            offset: item.offset, path: entry.path))
      } else {
        subdirs.append(
          PendingDirectory(
            entry: entry, clusters: owned, parentCluster: dir.isRoot ? 0 : dir.firstCluster, depth: work.depth + 1,
            ancestors: work.ancestors.union([dir.firstCluster])))
      }
    }
    return subdirs
  }

  /// A volume-label entry belongs in the root directory only.
  private func checkLabelPlacement(_ item: DirectoryItem, _ entry: FATEntry, in dir: FATEntry, _ sink: FindingSink) {
    guard !dir.isRoot else { return }
    sink.append(
      .warning(
        "labelOutsideRoot", "\(entry.path): a volume-label entry outside the root directory",
        offset: item.offset, path: entry.path))
  }

  /// `.` and `..` belong in the first two slots of every directory but the root, pointing at
  /// the directory and its parent. Returns true when the slot was such a dot entry (checked).
  private func checkDotSlot(
    _ item: DirectoryItem, _ entry: FATEntry, position: Int, in work: PendingDirectory, _ sink: FindingSink
  ) -> Bool {
    let dir = work.entry
    guard !dir.isRoot, position < 2, item.index == position else { return false }
    let wanted = position == 0 ? DirectoryEntry.dot : DirectoryEntry.dotDot
    guard item.entry.rawName == wanted, item.entry.attributes.contains(.directory) else {
      sink.append(
        .error(
          "missingDotEntry",
          "\(entry.path): expected a valid '\(position == 0 ? "." : "..")' entry in this slot",
          offset: item.offset, path: entry.path))
      return false
    }
    let expected = position == 0 ? dir.firstCluster : work.parentCluster
    let found = item.entry.firstCluster
    let rootOK = position == 1 && expected == bootSector.rootCluster && found == 0 && type == .fat32
    let rootAsCluster = position == 1 && work.parentCluster == 0 && found == bootSector.rootCluster
    if found != expected && !rootOK && !rootAsCluster {
      sink.append(
        .warning(
          "badDotEntry",
          "\(entry.path): points to cluster \(found), expected \(expected)", offset: item.offset,
          path: entry.path))
    }
    return true
  }

  /// Two entries with the same 8.3 name, or the same long name ignoring case, reported
  /// against the first of the pair as fsck.fat does.
  private func checkDuplicate(_ item: DirectoryItem, _ entry: FATEntry, seen: inout NamesSeen, _ sink: FindingSink) {
    if let first = seen.shortNames[item.entry.rawName] {
      sink.append(
        .error(
          "duplicateName",
          "\(first): duplicate directory entry: \(entry.path) at byte \(item.offset) has the same 8.3 name",
          offset: item.offset, path: first))
      return
    }
    seen.shortNames[item.entry.rawName] = entry.path
    guard let long = item.longName?.lowercased() else { return }
    if let first = seen.longNames[long] {
      sink.append(
        .error(
          "duplicateName",
          "\(first): duplicate long name: \(entry.path) at byte \(item.offset) has the same name",
          offset: item.offset, path: first))
    } else {
      seen.longNames[long] = entry.path
    }
  }

  /// A subdirectory must start at a cluster of its own: not 0, not its container's or an
  /// ancestor's. Returns false when it does not (its chain is then not claimed).
  private func checkSubdirectoryStart(
    _ item: DirectoryItem, _ entry: FATEntry, in work: PendingDirectory, _ sink: FindingSink
  ) -> Bool {
    let dir = work.entry
    if entry.firstCluster == dir.firstCluster || work.ancestors.contains(entry.firstCluster) {
      sink.append(
        .error(
          "directoryLoop",
          "\(entry.path): starts at cluster \(entry.firstCluster), which is \(entry.firstCluster == dir.firstCluster ? "its containing directory" : "an enclosing directory")",
          offset: item.offset, path: entry.path))
      return false
    }
    if entry.firstCluster == 0 {
      sink.append(
        .error(
          "badFirstCluster", "\(entry.path): a directory with first cluster 0", offset: item.offset,
          path: entry.path))
      return false
    }
    return true
  }

  // MARK: Chains

  /// Follows and claims the chain of `entry` the way fsck.fat's `check_file` does; returns the
  /// clusters it owns.
  func claim(_ entry: FATEntry, into claims: inout ClusterOwners, sink: FindingSink) -> [UInt32] {
    let me = claims.register(entry.path)
    if entry.isRoot && type != .fat32 { return [] }
    guard let start = checkFirstCluster(entry, sink) else { return [] }
    var mine: [UInt32] = []
    var current = start
    while true {
      let value = table[current]
      if let stop = chainStop(entry, at: current, value: value, me: me, claimed: mine, claims: claims) {
        sink.append(stop)
        break
      }
      claims.owners[Int(current)] = me
      mine.append(current)
      guard case .next(let next) = value else {
        if case .invalid(let bad) = value {
          sink.append(
            .error(
              "chainOutOfRange", "\(entry.path): cluster \(current) links to \(bad), which is out of range",
              offset: table.offset(ofEntry: current), path: entry.path))
        }
        break
      }
      current = next
    }
    let bytes = UInt64(mine.count) * UInt64(bootSector.bytesPerCluster)
    if !entry.isDirectory && UInt64(entry.size) > bytes {
      sink.append(
        .error(
          "chainShorterThanSize",
          "\(entry.path): the size is \(entry.size) bytes, the cluster chain is \(bytes) bytes",
          offset: entry.entryOffset, path: entry.path))
    }
    return mine
  }

  /// The first cluster of a chain, or nil (with a finding where one is due) when there is
  /// no chain to follow: first cluster 0, or outside the data clusters.
  private func checkFirstCluster(_ entry: FATEntry, _ sink: FindingSink) -> UInt32? {
    let first = entry.firstCluster
    if first == 0 {
      if !entry.isDirectory && entry.size > 0 {
        sink.append(
          .error(
            "chainShorterThanSize", "\(entry.path): the size is \(entry.size) bytes but no cluster is allocated",
            offset: entry.entryOffset, path: entry.path))
      }
      return nil
    }
    guard table.isValidCluster(first) else {
      sink.append(
        .error(
          "badFirstCluster",
          "\(entry.path): first cluster \(first) is outside the data clusters (2...\(clusterCount + 1))",
          offset: entry.entryOffset, path: entry.path))
      return nil
    }
    return first
  }

  /// Why the chain of `entry` stops before claiming `current`, in fsck.fat's order: a free or
  /// bad cluster, a loop back into itself, more clusters than the size needs, a cluster
  /// another file owns. Nil when `current` can be claimed.
  private func chainStop(
    _ entry: FATEntry, at current: UInt32, value: AllocationTable.Entry, me: UInt32, claimed mine: [UInt32],
    claims: ClusterOwners
  ) -> Finding? {
    let clusterSize = UInt64(bootSector.bytesPerCluster)
    let lastOffset = table.offset(ofEntry: mine.last ?? current)
    if value == .free || value == .bad {
      return .error(
        "chainHitsFreeCluster",
        "\(entry.path): the chain contains a \(value == .free ? "free" : "bad") cluster (\(current))",
        offset: table.offset(ofEntry: current), path: entry.path)
    }
    let owner = claims.owners[Int(current)]
    if owner == me {
      return .error(
        "circularChain",
        "\(entry.path): the cluster chain loops back to cluster \(current) after \(mine.count) clusters",
        offset: lastOffset, path: entry.path)
    }
    if !entry.isDirectory && UInt64(entry.size) <= UInt64(mine.count) * clusterSize {
      return .error(
        "chainLongerThanSize",
        "\(entry.path): the size is \(entry.size) bytes, the cluster chain is longer than \(UInt64(mine.count) * clusterSize) bytes",
        offset: lastOffset, path: entry.path)
    }
    if owner != 0 {
      let other = claims.paths[Int(owner) - 1]
      return .error(
        "sharedClusters",
        "\(entry.path): shares cluster \(current) with \(other == "/" ? "the root directory" : other)",
        offset: lastOffset, path: entry.path)
    }
    return nil
  }
}
