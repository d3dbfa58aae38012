import DiskFormat

/// One slot of a directory that is not free, deleted or a long-name part, with its long name.
struct DirectoryItem {
  var entry: DirectoryEntry
  var longName: String?
  /// Index of the 8.3 slot in the directory.
  var index: Int
  /// Absolute byte offset of the 8.3 slot.
  var offset: Int64

  var isLabel: Bool {
    entry.attributes.contains(.volumeLabel) && !entry.attributes.contains(.directory)
  }
  var name: String {
    if let longName, !longName.isEmpty { return longName }
    return entry.shortName
  }
}

/// Long-name slots collected while walking a directory, waiting for their 8.3 entry.
struct LongNameAssembly {
  var checksum: UInt8
  /// The name's code units, filled from the end as slots arrive.
  var units: [UInt16]
  /// The sequence number the next slot must carry (0: complete).
  var next: Int
  /// Absolute byte offset of the first slot (the one marked last).
  var offset: Int64
}

extension FATVolume {
  /// The clusters a directory occupies, bounded by `maximumDirectoryBytes`.
  func directoryClusters(_ directory: FATEntry) -> ClusterChain {
    var chain = table.chain(from: directory.firstCluster)
    let limit = max(1, Self.maximumDirectoryBytes / bootSector.bytesPerCluster)
    if chain.clusters.count > limit { chain.clusters.removeLast(chain.clusters.count - limit) }
    return chain
  }

  /// The absolute byte ranges (volume-relative) a directory's slots are stored in.
  func directoryExtents(_ directory: FATEntry, clusters: [UInt32]? = nil) -> [Range<Int64>] {
    if directory.isRoot && type != .fat32 {
      let start = bootSector.rootDirectoryOffset
      return [start..<(start + bootSector.rootDirectoryByteCount)]
    }
    let list = clusters ?? directoryClusters(directory).clusters
    let size = Int64(bootSector.bytesPerCluster)
    return list.map { c in
      let start = bootSector.offset(ofCluster: c)
      return start..<(start + size)
    }
  }

  /// Reads and decodes a directory's slots, resolving long names.
  ///
  /// - Parameters:
  ///   - directory: The directory (or `root`).
  ///   - clusters: The clusters to read instead of following the FAT (the checker passes the
  ///     chain it has validated).
  ///   - findings: Where long-name problems are reported; `nil` to ignore them.
  func readDirectory(
    _ directory: FATEntry, clusters: [UInt32]? = nil, findings: FindingSink?
  ) throws -> [DirectoryItem] {
    var items: [DirectoryItem] = []
    var pending: LongNameAssembly? = nil
    var index = 0
    func orphan(_ why: String, at offset: Int64) {
      findings?.append(
        .error("lfnOrphan", "\(directory.path): long-name slots \(why)", offset: offset, path: directory.path))
    }

    extents: for extent in directoryExtents(directory, clusters: clusters) {
      guard extent.upperBound <= source.byteCount else {
        findings?.append(
          .error(
            "readError",
            "\(directory.path): directory data at byte \(absolute(extent.lowerBound)) is past the end of the source",
            offset: absolute(extent.lowerBound), path: directory.path))
        break
      }
      let bytes = try source.read(at: extent.lowerBound, count: Int(extent.upperBound - extent.lowerBound))
      var slot = 0
      while slot + DirectoryEntry.size <= bytes.count {
        defer {
          slot += DirectoryEntry.size
          index += 1
        }
        let offset = absolute(extent.lowerBound + Int64(slot))
        let first = bytes[slot + DirectoryEntry.Offset.name]
        if first == DirectoryEntry.endMark { break extents }
        if first == DirectoryEntry.deletedMark {
          if let p = pending { orphan("are followed by a deleted entry", at: p.offset) }
          pending = nil
          continue
        }
        let span = bytes.span.extracting(slot..<(slot + DirectoryEntry.size))
        if bytes[slot + DirectoryEntry.Offset.attributes] & 0x3F == FATAttributes.longName.rawValue {
          if let lfn = LongNameSlot(slot: span) { collect(lfn, at: offset, into: &pending, orphan: orphan) }
          continue
        }
        guard let entry = DirectoryEntry(slot: span, fat32: type == .fat32) else { continue }
        var longName: String? = nil
        if let p = pending {
          longName = resolve(p, for: entry, in: directory, findings: findings, orphan: orphan)
          pending = nil
        }
        items.append(DirectoryItem(entry: entry, longName: longName, index: index, offset: offset))
      }
    }
    if let p = pending { orphan("end the directory without their 8.3 entry", at: p.offset) }
    return items
  }

  /// The long-name slot rule (fsck.fat's `lfn_add_slot`): the slot marked last starts a name
  /// of 1 to 20 slots; each following slot must carry the next lower sequence number and the
  /// same checksum. Anything else orphans what was collected.
  private func collect(
    _ lfn: LongNameSlot, at offset: Int64, into pending: inout LongNameAssembly?, orphan: (String, Int64) -> Void
  ) {
    let width = LongNameSlot.unitsPerSlot
    if lfn.isLast {
      if let p = pending { orphan("end without their 8.3 entry", p.offset) }
      guard lfn.sequence >= 1, lfn.sequence <= 20 else {
        orphan("have sequence number \(lfn.sequence) (1-20 allowed)", offset)
        pending = nil
        return
      }
      var units = [UInt16](repeating: 0xFFFF, count: lfn.sequence * width)
      units.replaceSubrange(((lfn.sequence - 1) * width)..<(lfn.sequence * width), with: lfn.units)
      pending = LongNameAssembly(checksum: lfn.checksum, units: units, next: lfn.sequence - 1, offset: offset)
    } else if var p = pending, lfn.sequence == p.next, p.next >= 1, lfn.checksum == p.checksum {
      p.units.replaceSubrange(((lfn.sequence - 1) * width)..<(lfn.sequence * width), with: lfn.units)
      p.next -= 1
      pending = p
    } else {
      orphan(
        pending == nil ? "with sequence \(lfn.sequence) have no start" : "are out of sequence (got \(lfn.sequence))",
        offset)
      pending = nil
    }
  }

  /// The rule for the 8.3 entry after long-name slots: they must have reached sequence 1,
  /// carry its checksum and decode as UTF-16. Returns the long name, or nil with a finding.
  private func resolve(
    _ p: LongNameAssembly, for entry: DirectoryEntry, in directory: FATEntry, findings: FindingSink?,
    orphan: (String, Int64) -> Void
  ) -> String? {
    let path = directory.isRoot ? "/" + entry.shortName : directory.path + "/" + entry.shortName
    if p.next != 0 {
      orphan("stop before sequence 1", p.offset)
    } else if p.checksum != entry.checksum {
      findings?.append(
        .error(
          "lfnBadChecksum",
          "\(path): long-name checksum 0x\(hexByte(p.checksum)) does not match the 8.3 name's 0x\(hexByte(entry.checksum))",
          offset: p.offset, path: path))
    } else if let name = LongNameSlot.name(from: p.units) {
      return name
    } else {
      findings?.append(
        .error("lfnBadName", "\(path): long name is not valid UTF-16", offset: p.offset, path: path))
    }
    return nil
  }

  /// A resolved entry for a directory item.
  func makeEntry(_ item: DirectoryItem, in directory: FATEntry) -> FATEntry {
    let name = item.name
    return FATEntry(
      name: name, shortName: item.entry.shortName, longName: item.longName,
      path: directory.isRoot ? "/" + name : directory.path + "/" + name,
      attributes: item.entry.attributes, firstCluster: item.entry.firstCluster, size: item.entry.size,
      created: item.entry.created, accessed: item.entry.accessed, modified: item.entry.modified,
      entryOffset: item.offset, raw: item.entry)
  }
}

/// A findings sink passed down the directory reader (a reference, so nested reads append to one list).
final class FindingSink {
  var list: [Finding] = []
  func append(_ finding: Finding) { list.append(finding) }
}
