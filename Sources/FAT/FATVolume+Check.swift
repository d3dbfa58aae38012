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
    let copies = try differingFATCopies()
    // Their findings go here, in this order, once the tree walk has said who owns what.
    let copiesPosition = sink.list.count
    checkFATEntries(sink)

    // Walk the tree, marking each cluster with the file that owns it.
    var claims = ClusterOwners(clusterCount: clusterCount)
    try checkTree(sink, claims: &claims)
    let later = FindingSink()
    reportFATCopies(copies, later, claims: claims)
    sink.list.insert(contentsOf: later.list, at: copiesPosition)

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
        if claims.owners[Int(c)] == 0 {
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
      if flags & type.cleanShutdownBit == 0 {
        sink.append(
          .warning(
            "dirtyBit", "FAT entry 1 has its clean-shutdown bit clear: the volume was not unmounted cleanly",
            offset: table.offset(ofEntry: 1)))
      }
    }
  }

  /// A FAT copy that differs from the first.
  struct DifferingCopy {
    var copy: Int
    var offset: Int64
    /// First differing byte of the FAT.
    var at: Int
    var state: String
    var firstIntact: Bool
    /// The data clusters whose entries differ; nil when other bytes differ too (entries 0
    /// and 1, or bytes past the last entry).
    var clusters: [UInt32]?
  }

  private func differingFATCopies() throws -> [DifferingCopy] {
    let boot = bootSector
    let mediaMask = type.entryMask & ~0xF
    func mediaOK(_ value: UInt32?) -> Bool { (value ?? 0) & mediaMask == mediaMask }
    let firstOK = mediaOK(table.rawValue(0))
    var out: [DifferingCopy] = []
    if !firstOK {
      out.append(DifferingCopy(copy: 0, offset: 0, at: 0, state: "", firstIntact: false, clusters: nil))
    }
    guard boot.fatCount > 1 else { return out }
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
      // Which entries differ: when only data clusters' entries do, the difference may be
      // harmless (see `reportFATCopies`).
      var clusters: [UInt32]? = []
      if otherTable.rawValue(0) != table.rawValue(0) || otherTable.rawValue(1) != table.rawValue(1) {
        clusters = nil
      } else {
        var c: UInt32 = 2
        while c <= clusterCount + 1 {
          if otherTable.rawValue(c) != table.rawValue(c) { clusters?.append(c) }
          c += 1
        }
        // Bytes past the last entry (or a FAT12 half byte) that differ alone.
        if clusters?.isEmpty == true { clusters = nil }
      }
      out.append(
        DifferingCopy(copy: copy, offset: offset, at: at, state: state, firstIntact: firstOK, clusters: clusters))
    }
    return out
  }

  /// The findings for FAT copies that differ. A difference only in the entries of clusters
  /// that no file owns (by the first FAT, which is the one read) changes nothing that is read:
  /// a write interrupted between two copies, as a power cut during an allocation leaves, which
  /// fsck.fat repairs by copying the first FAT over. That is a warning, like the lost clusters
  /// it comes with; any other difference is an error.
  private func reportFATCopies(_ copies: [DifferingCopy], _ sink: FindingSink, claims: ClusterOwners) {
    for difference in copies {
      if difference.copy == 0 {
        sink.append(
          .error(
            "badMediaEntry",
            "FAT 1 entry 0 is 0x\(String(table.rawValue(0) ?? 0, radix: 16)), which is not a media descriptor entry",
            offset: table.absoluteOffset))
        continue
      }
      let message =
        "FAT \(difference.copy + 1) differs from FAT 1, first at byte \(difference.at) of the FAT (\(difference.state))"
      let offset = absolute(difference.offset) + Int64(difference.at)
      if difference.firstIntact, let clusters = difference.clusters,
        clusters.allSatisfy({ claims.owners[Int($0)] == 0 })
      {
        sink.append(
          .warning(
            "fatCopiesDiffer",
            message + "; only in the entries of \(clusters.count) cluster(s) no file owns, so nothing read changes",
            offset: offset))
      } else {
        sink.append(.error("fatCopiesDiffer", message, offset: offset))
      }
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

  // MARK: Names

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
    let primary = try source.read(at: 0, count: BootSector.size)
    let backup = try source.read(at: offset, count: BootSector.size)
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
