import DiskFormat

extension FATVolume {
  /// A read-only check to the depth of `fsck.fat -n`, collecting every finding in one pass.
  ///
  /// Checks: the dirty bits; that the FAT copies are equal and their media entries intact;
  /// FAT entries out of range; for every file and directory its name, its first cluster and
  /// its chain (free or bad clusters in it, loops, links shared with another file, chain
  /// length against the size); `.`/`..` entries; duplicate names; long-name slots (orphans,
  /// checksums, sequence); lost clusters; the FSInfo hints; the FAT32 backup boot sector;
  /// the volume label in the boot sector against the root directory; truncation.
  ///
  /// Findings carry the path and the absolute byte offset of the structure concerned. Errors
  /// are problems that make a file read wrong or not at all (chains, entries, FATs); warnings
  /// are metadata that disagrees without changing what is read (labels, FSInfo hints, the
  /// backup boot sector, dirty bits, lost clusters). Only an unreadable source throws.
  public func check() throws -> FATCheckReport {
    let sink = FindingSink()
    let boot = bootSector
    let base = baseOffset

    if boot.volumeByteCount > source.byteCount {
      sink.append(
        .error(
          "volumeTruncated",
          "the boot sector declares \(boot.volumeByteCount) bytes but the source holds \(source.byteCount); clusters past the end cannot be read",
          offset: base))
    }
    checkDirtyBits(sink)
    try checkFATCopies(sink)
    checkFATEntries(sink)

    // Walk the tree, marking each cluster with the file that owns it.
    var owners = [UInt32](repeating: 0, count: Int(clusterCount) + 2)
    var ownerPaths: [String] = []
    try checkTree(sink, owners: &owners, ownerPaths: &ownerPaths)

    // Lost clusters: allocated in the FAT, reachable from no file.
    var lost: UInt32 = 0
    var firstLost: UInt32 = 0
    var zero: UInt32 = 0
    var c: UInt32 = 2
    while c <= clusterCount + 1 {
      switch table[c] {
      case .free: zero += 1
      case .bad: break
      default:
        if owners[Int(c)] == 0 {
          if lost == 0 { firstLost = c }
          lost += 1
        }
      }
      c += 1
    }
    if lost > 0 {
      sink.append(
        .warning(
          "lostClusters",
          "\(lost) cluster(s) are allocated in the FAT but belong to no file (first: cluster \(firstLost))",
          offset: table.offset(ofEntry: firstLost)))
    }
    try checkBackupBootSector(sink)
    let rootLabel = try checkLabels(sink)
    checkFSInfo(sink, free: zero, lost: lost)

    return FATCheckReport(
      fatType: type, label: rootLabel ?? boot.label, serial: serial, clusterCount: clusterCount,
      freeClusters: zero, findings: sink.list)
  }

  // MARK: Boot sector and FAT

  private func checkDirtyBits(_ sink: FindingSink) {
    let boot = bootSector
    let flagOffset = baseOffset + Int64(boot.stateFlagsOffset)
    if boot.isDirty {
      sink.append(
        .warning(
          "dirtyBit", "the dirty bit is set in the boot sector: the volume was not unmounted cleanly",
          offset: flagOffset))
    } else if type != .fat12, let flags = table.rawValue(1) {
      let clean: UInt32 = type == .fat32 ? 0x0800_0000 : 0x8000
      if flags & clean == 0 {
        sink.append(
          .warning(
            "dirtyBit", "FAT entry 1 has its clean-shutdown bit clear: the volume was not unmounted cleanly",
            offset: table.offset(ofEntry: 1)))
      }
    }
  }

  private func checkFATCopies(_ sink: FindingSink) throws {
    let boot = bootSector
    let mediaMask = type.entryMask & ~0xF
    func mediaOK(_ value: UInt32?) -> Bool { (value ?? 0) & mediaMask == mediaMask }
    let firstOK = mediaOK(table.rawValue(0))
    if !firstOK {
      sink.append(
        .error(
          "badMediaEntry",
          "FAT 1 entry 0 is 0x\(String(table.rawValue(0) ?? 0, radix: 16)), which is not a media descriptor entry",
          offset: table.absoluteOffset))
    }
    guard boot.fatCount > 1 else { return }
    let count = table.bytes.count
    for copy in 1..<boot.fatCount {
      let offset = boot.fatOffset(copy: copy)
      guard offset + Int64(count) <= source.byteCount else { continue }
      let other = try source.read(at: offset, count: count)
      guard other != table.bytes else { continue }
      let at = other.indices.first { other[$0] != table.bytes[$0] } ?? 0
      let otherTable = AllocationTable(
        bytes: other, type: type, clusterCount: clusterCount, absoluteOffset: absolute(offset))
      let state =
        switch (firstOK, mediaOK(otherTable.rawValue(0))) {
        case (true, true): "both appear intact; the first is used"
        case (true, false): "the copy's media entry is bad; the first is used"
        case (false, true): "the first FAT's media entry is bad"
        case (false, false): "both media entries are bad"
        }
      sink.append(
        .error(
          "fatCopiesDiffer",
          "FAT \(copy + 1) differs from FAT 1, first at byte \(at) of the FAT (\(state))",
          offset: absolute(offset) + Int64(at)))
    }
  }

  private func checkFATEntries(_ sink: FindingSink) {
    var c: UInt32 = 2
    while c <= clusterCount + 1 {
      if case .invalid(let value) = table[c] {
        sink.append(
          .error(
            "fatEntryOutOfRange",
            "FAT entry of cluster \(c) is \(value), not a cluster (2...\(clusterCount + 1)) nor an end or bad mark",
            offset: table.offset(ofEntry: c)))
      }
      c += 1
    }
  }

  // MARK: Tree

  private func checkTree(_ sink: FindingSink, owners: inout [UInt32], ownerPaths: inout [String]) throws {
    let clusterSize = UInt64(bootSector.bytesPerCluster)

    /// Follows and claims the chain of `entry` the way fsck.fat's check_file does; returns
    /// the clusters it owns.
    func claim(_ entry: FATEntry) -> [UInt32] {
      ownerPaths.append(entry.path)
      let me = UInt32(ownerPaths.count)
      var mine: [UInt32] = []
      var current = entry.firstCluster
      if entry.isRoot && type != .fat32 { return [] }
      if current == 0 {
        if !entry.isDirectory && entry.size > 0 {
          sink.append(
            .error(
              "chainShorterThanSize", "\(entry.path): the size is \(entry.size) bytes but no cluster is allocated",
              offset: entry.entryOffset, path: entry.path))
        }
        return []
      }
      guard table.isValidCluster(current) else {
        sink.append(
          .error(
            "badFirstCluster",
            "\(entry.path): first cluster \(current) is outside the data clusters (2...\(clusterCount + 1))",
            offset: entry.entryOffset, path: entry.path))
        return []
      }
      while true {
        let value = table[current]
        if value == .free || value == .bad {
          sink.append(
            .error(
              "chainHitsFreeCluster",
              "\(entry.path): the chain contains a \(value == .free ? "free" : "bad") cluster (\(current))",
              offset: table.offset(ofEntry: current), path: entry.path))
          break
        }
        let owner = owners[Int(current)]
        if owner == me {
          sink.append(
            .error(
              "circularChain",
              "\(entry.path): the cluster chain loops back to cluster \(current) after \(mine.count) clusters",
              offset: table.offset(ofEntry: mine.last ?? current), path: entry.path))
          break
        }
        if !entry.isDirectory && UInt64(entry.size) <= UInt64(mine.count) * clusterSize {
          sink.append(
            .error(
              "chainLongerThanSize",
              "\(entry.path): the size is \(entry.size) bytes, the cluster chain is longer than \(UInt64(mine.count) * clusterSize) bytes",
              offset: table.offset(ofEntry: mine.last ?? current), path: entry.path))
          break
        }
        if owner != 0 {
          let other = ownerPaths[Int(owner) - 1]
          sink.append(
            .error(
              "sharedClusters",
              "\(entry.path): shares cluster \(current) with \(other == "/" ? "the root directory" : other)",
              offset: table.offset(ofEntry: mine.last ?? current), path: entry.path))
          break
        }
        owners[Int(current)] = me
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
      if !entry.isDirectory && UInt64(entry.size) > UInt64(mine.count) * clusterSize {
        sink.append(
          .error(
            "chainShorterThanSize",
            "\(entry.path): the size is \(entry.size) bytes, the cluster chain is \(UInt64(mine.count) * clusterSize) bytes",
            offset: entry.entryOffset, path: entry.path))
      }
      return mine
    }

    let rootEntry = root
    let rootClusters = claim(rootEntry)
    // (directory, its clusters, parent's first cluster, depth, ancestors' first clusters)
    var stack: [(FATEntry, [UInt32], UInt32, Int, Set<UInt32>)] = [
      (rootEntry, rootClusters, 0, 0, [rootEntry.firstCluster])
    ]
    while let (dir, clusters, parentCluster, depth, ancestors) = stack.popLast() {
      let items: [DirectoryItem]
      if dir.isRoot && type != .fat32 {
        items = try readDirectory(dir, findings: sink)
      } else {
        items = try readDirectory(dir, clusters: clusters, findings: sink)
      }
      if dir.isDirectory && dir.size != 0 && !dir.isRoot {
        sink.append(
          .warning(
            "directorySizeNonZero", "\(dir.path): a directory with size \(dir.size) (must be 0)",
            offset: dir.entryOffset, path: dir.path))
      }
      var names: [[UInt8]: String] = [:]
      var longNames: [String: String] = [:]
      var subdirs: [(FATEntry, [UInt32])] = []
      for (position, item) in items.enumerated() {
        let entry = makeEntry(item, in: dir)
        if item.isLabel {
          if !dir.isRoot {
            sink.append(
              .warning(
                "labelOutsideRoot", "\(entry.path): a volume-label entry outside the root directory",
                offset: item.offset, path: entry.path))
          }
          continue
        }
        // `.` and `..` belong in the first two slots of every directory but the root.
        let expectDot = !dir.isRoot && position < 2 && item.index == position
        if expectDot {
          let wanted = position == 0 ? DirectoryEntry.dot : DirectoryEntry.dotDot
          if item.entry.rawName != wanted || !item.entry.attributes.contains(.directory) {
            sink.append(
              .error(
                "missingDotEntry",
                "\(entry.path): expected a valid '\(position == 0 ? "." : "..")' entry in this slot",
                offset: item.offset, path: entry.path))
          } else {
            let expected = position == 0 ? dir.firstCluster : parentCluster
            let found = item.entry.firstCluster
            let rootOK = position == 1 && expected == bootSector.rootCluster && found == 0 && type == .fat32
            if found != expected && !rootOK && !(position == 1 && parentCluster == 0 && found == bootSector.rootCluster)
            {
              sink.append(
                .warning(
                  "badDotEntry",
                  "\(entry.path): points to cluster \(found), expected \(expected)", offset: item.offset,
                  path: entry.path))
            }
            continue
          }
        }
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
        // Reported against the first of the pair, as fsck.fat does.
        if let first = names[item.entry.rawName] {
          sink.append(
            .error(
              "duplicateName",
              "\(first): duplicate directory entry: \(entry.path) at byte \(item.offset) has the same 8.3 name",
              offset: item.offset, path: first))
        } else {
          names[item.entry.rawName] = entry.path
          if let long = item.longName?.lowercased() {
            if let first = longNames[long] {
              sink.append(
                .error(
                  "duplicateName",
                  "\(first): duplicate long name: \(entry.path) at byte \(item.offset) has the same name",
                  offset: item.offset, path: first))
            } else {
              longNames[long] = entry.path
            }
          }
        }
        if entry.isDirectory {
          if entry.firstCluster == dir.firstCluster || ancestors.contains(entry.firstCluster) {
            sink.append(
              .error(
                "directoryLoop",
                "\(entry.path): starts at cluster \(entry.firstCluster), which is \(entry.firstCluster == dir.firstCluster ? "its containing directory" : "an enclosing directory")",
                offset: item.offset, path: entry.path))
            continue
          }
          if entry.firstCluster == 0 {
            sink.append(
              .error(
                "badFirstCluster", "\(entry.path): a directory with first cluster 0", offset: item.offset,
                path: entry.path))
            continue
          }
        }
        let owned = claim(entry)
        if entry.isDirectory, !owned.isEmpty {
          if depth + 1 >= Self.maximumDepth {
            sink.append(
              .error(
                "directoryTooDeep", "\(entry.path): deeper than \(Self.maximumDepth) levels; not checked",
                offset: item.offset, path: entry.path))
          } else {
            subdirs.append((entry, owned))
          }
        }
      }
      for (sub, owned) in subdirs.reversed() {
        var next = ancestors
        next.insert(dir.firstCluster)
        stack.append((sub, owned, dir.isRoot ? 0 : dir.firstCluster, depth + 1, next))
      }
    }
  }

  /// Why fsck.fat would call an 8.3 name bad (its `bad_name`), or `nil`.
  static func badShortName(_ entry: DirectoryEntry, hasLongName: Bool) -> String? {
    let name = entry.rawName
    guard name.count == 11 else { return "not 11 bytes" }
    if name == Array("EA DATA  SF".utf8) || name == Array("WP ROOT  SF".utf8) { return nil }
    let bad: Set<UInt8> = Set("*?<>|\"\\/:".utf8)
    for (i, byte) in name.enumerated() {
      if (byte < 0x20 && !(i == 0 && byte == 0x05)) || byte == 0x7F { return "control character" }
      if bad.contains(byte) { return "character '\(Character(Unicode.Scalar(byte)))' is not allowed" }
    }
    if name[0] == 0x20 { return "starts with a space" }
    for part in [name[0..<8], name[8..<11]] {
      var space = false
      for byte in part {
        if byte == 0x20 {
          space = true
        } else if space {
          return "a space inside the name"
        }
      }
    }
    return nil
  }

  // MARK: FSInfo, backup, labels

  private func checkFSInfo(_ sink: FindingSink, free: UInt32, lost: UInt32) {
    guard type == .fat32 else { return }
    let boot = bootSector
    let offset = absolute(Int64(boot.fsInfoSector) * Int64(boot.bytesPerSector))
    if let error = fsInfoError {
      sink.append(.error("fsInfoInvalid", "FSInfo sector: \(error)", offset: error.offset))
      return
    }
    guard let info = fsInfo else { return }
    let expected = free &+ lost
    // "Unknown" is a valid value; like fsck.fat, mention it only on a volume that has
    // something else to fix.
    if info.freeCount == 0xFFFF_FFFF {
      if !sink.list.isEmpty {
        sink.append(
          .warning(
            "fsInfoFreeCountUnset", "FSInfo free cluster count is unset (should be \(expected))",
            offset: offset + Int64(FSInfo.Offset.freeCount)))
      }
    } else if info.freeCount != expected {
      sink.append(
        .warning(
          "fsInfoFreeCountWrong",
          "FSInfo free cluster count is \(info.freeCount), the FAT has \(free) free"
            + (lost > 0 ? " and \(lost) lost clusters" : " clusters"),
          offset: offset + Int64(FSInfo.Offset.freeCount)))
    }
    if info.nextFree != 0xFFFF_FFFF, info.nextFree != 0, !table.isValidCluster(info.nextFree) {
      sink.append(
        .warning(
          "fsInfoNextFreeInvalid",
          "FSInfo next-free hint is \(info.nextFree), outside the data clusters (2...\(clusterCount + 1))",
          offset: offset + Int64(FSInfo.Offset.nextFree)))
    }
  }

  private func checkBackupBootSector(_ sink: FindingSink) throws {
    let boot = bootSector
    guard type == .fat32, boot.backupBootSector != 0, boot.backupBootSector != 0xFFFF else { return }
    guard Int(boot.backupBootSector) < boot.reservedSectors else {
      sink.append(
        .error(
          "backupBootSectorInvalid",
          "BPB_BkBootSec is \(boot.backupBootSector), outside the \(boot.reservedSectors) reserved sectors",
          offset: baseOffset + Int64(BootSector.backupBootSectorOffset)))
      return
    }
    let offset = Int64(boot.backupBootSector) * Int64(boot.bytesPerSector)
    let primary = try source.read(at: 0, count: 512)
    let backup = try source.read(at: offset, count: 512)
    if primary != backup {
      let at = primary.indices.first { primary[$0] != backup[$0] } ?? 0
      sink.append(
        .warning(
          "backupBootSectorDiffers",
          "the backup boot sector (sector \(boot.backupBootSector)) differs from the primary, first at byte \(at)",
          offset: absolute(offset) + Int64(at)))
    }
  }

  /// fsck.fat's `validate_volume_label`: the label bytes are not a valid label.
  static func invalidLabel(_ bytes: [UInt8]) -> Bool {
    guard bytes.count == 11 else { return true }
    let disallowed: Set<UInt8> = Set("\"*+,./:;<=>?[\\]|".utf8)
    if bytes.allSatisfy({ $0 == 0x20 }) { return true }
    if bytes[0] == 0x20 { return true }
    // fsck.fat tests `char < 0x20` on a signed char, so bytes 0x80-0xFF count as control.
    return bytes.contains { $0 < 0x20 || $0 >= 0x80 || disallowed.contains($0) }
  }

  /// The label checks of fsck.fat's `check_label`; returns the root-directory label.
  private func checkLabels(_ sink: FindingSink) throws -> String? {
    let boot = bootSector
    let noName = Array("NO NAME    ".utf8)
    var bootLabel = boot.hasExtendedFields && boot.volumeLabel.count == 11 ? boot.volumeLabel : noName
    let labelOffset = baseOffset + Int64(boot.volumeLabelOffset)
    let rootItem = try readDirectory(root, findings: nil).first { $0.isLabel }
    var rootBytes = rootItem?.entry.rawName
    if rootBytes?.first == 0x05 { rootBytes?[0] = 0xE5 }
    func text(_ bytes: [UInt8]) -> String {
      CodePage850.decode(bytes.reversed().drop { $0 == 0x20 }.reversed())
    }

    if rootBytes == nil && bootLabel != noName {
      if Self.invalidLabel(bootLabel) {
        sink.append(
          .warning(
            "badBootSectorLabel", "label '\(text(bootLabel))' stored in the boot sector is not valid",
            offset: labelOffset))
        bootLabel = noName
      } else {
        sink.append(
          .warning(
            "labelMismatch",
            "label in the boot sector is '\(text(bootLabel))', but the root directory has no volume label",
            offset: labelOffset))
      }
    }
    guard let rootLabel = rootBytes, let item = rootItem else { return nil }
    if Self.invalidLabel(rootLabel) {
      sink.append(
        .warning(
          "badVolumeLabel", "volume label '\(text(rootLabel))' stored in the root directory is not valid",
          offset: item.offset, path: "/"))
      return nil
    }
    if bootLabel == noName && rootLabel != noName {
      sink.append(
        .warning(
          "labelMismatch",
          "the boot sector has no label, but the root directory has volume label '\(text(rootLabel))'",
          offset: labelOffset))
    } else if bootLabel != noName && bootLabel != rootLabel {
      sink.append(
        .warning(
          "labelMismatch",
          "volume label '\(text(rootLabel))' in the root directory and label '\(text(bootLabel))' in the boot sector differ",
          offset: labelOffset))
    }
    let t = text(rootLabel)
    return t.isEmpty || t == "NO NAME" ? nil : t
  }
}
