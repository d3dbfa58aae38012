import DiskFormat

extension ChecksumManifest {
  /// How the device now differs from a saved manifest: the one set of finding kinds that
  /// `checksum --check` and `verify --manifest` both report.
  public enum Difference: String, Hashable, Sendable, CaseIterable {
    /// A saved region (the whole device or a partition), or the partition of saved files,
    /// is not there any more.
    case regionMissing
    /// A saved region's digest differs.
    case regionChanged
    /// A partition whose files were saved holds no FAT volume that can be read now.
    case volumeUnreadable
    /// A saved file is gone.
    case fileMissing
    /// A saved file's size or digest differs.
    case fileChanged
    /// A file the saved manifest does not list (a warning: an update may add files).
    case fileAdded
  }

  /// The differences of one region.
  public static func compare(savedRegion old: Region, now new: Region) -> [Finding] {
    var out: [Finding] = []
    for (name, a, b) in [
      ("CRC-32", old.crc32, new.crc32), ("SHA-256", old.sha256, new.sha256), ("SHA-1", old.sha1, new.sha1),
    ]
    where a != nil && a != b {
      out.append(
        Finding(
          .error, Difference.regionChanged.rawValue,
          "\(regionName(old.partition)): \(name) is \(b ?? "none"), saved \(a ?? "none")", partition: old.partition))
    }
    return out
  }

  /// The files of one partition: each saved file gone or changed, and each new one.
  ///
  /// - Parameters:
  ///   - saved: The saved files of the partition.
  ///   - now: The files measured now (those that could be read).
  ///   - unreadable: Problems met while measuring; a file or volume they name is not also
  ///     reported as missing.
  public static func compareFiles(saved: [File], now: [File], unreadable: [Finding] = []) -> [Finding] {
    var out: [Finding] = []
    let current = Dictionary(now.map { (key($0.partition, $0.path), $0) }, uniquingKeysWith: { a, _ in a })
    let unreadableFiles = Set(unreadable.compactMap { p in p.path.map { key(p.partition ?? 0, $0) } })
    let unreadableVolumes = Set(unreadable.filter { $0.path == nil }.compactMap(\.partition))
    var seen = Set<String>()
    for old in saved {
      let name = key(old.partition, old.path)
      seen.insert(name)
      if let new = current[name] {
        if let finding = compare(savedFile: old, now: new) { out.append(finding) }
      } else if !unreadableFiles.contains(name) && !unreadableVolumes.contains(old.partition) {
        out.append(missing(old))
      }
    }
    for (name, file) in current.sorted(by: { $0.key < $1.key }) where !seen.contains(name) {
      out.append(added(file))
    }
    return out
  }

  /// The difference of one file measured again, or nil when it is the same (every digest
  /// the saved file has, and its size).
  public static func compare(savedFile old: File, now new: File) -> Finding? {
    if old.size != new.size {
      return Finding(
        .error, Difference.fileChanged.rawValue,
        "partition \(old.partition): \(old.path) is \(new.size) bytes, saved \(old.size)", partition: old.partition,
        path: old.path)
    }
    let differs =
      (old.sha256 != nil && old.sha256 != new.sha256) || (old.crc32 != nil && old.crc32 != new.crc32)
      || (old.sha1 != nil && old.sha1 != new.sha1)
    guard differs else { return nil }
    let (name, now, then) =
      old.sha256 != nil
      ? ("SHA-256", new.sha256, old.sha256)
      : old.sha1 != nil ? ("SHA-1", new.sha1, old.sha1) : ("CRC-32", new.crc32, old.crc32)
    return Finding(
      .error, Difference.fileChanged.rawValue,
      "partition \(old.partition): \(old.path) changed: \(name) \(now ?? "-"), saved \(then ?? "-")",
      partition: old.partition, path: old.path)
  }

  /// A saved file that is gone.
  public static func missing(_ old: File) -> Finding {
    Finding(
      .error, Difference.fileMissing.rawValue, "partition \(old.partition): \(old.path) is gone",
      partition: old.partition, path: old.path)
  }

  /// A file the saved manifest does not list.
  public static func added(_ new: File) -> Finding {
    Finding(
      .warning, Difference.fileAdded.rawValue, "partition \(new.partition): \(new.path) is new since the manifest",
      partition: new.partition, path: new.path)
  }

  /// A saved region, or the partition of saved files, that is not there any more.
  public static func regionMissing(_ partition: Int?) -> Finding {
    Finding(.error, Difference.regionMissing.rawValue, "\(regionName(partition)) is gone", partition: partition)
  }

  /// A partition whose files were saved and that holds no FAT volume that can be read now.
  public static func volumeUnreadable(_ partition: Int, _ error: any Error) -> Finding {
    Finding(
      .error, Difference.volumeUnreadable.rawValue,
      "partition \(partition): its files were saved, but it holds no FAT volume that can be read now: \(error)",
      partition: partition)
  }

  static func regionName(_ partition: Int?) -> String {
    partition.map { "partition \($0)" } ?? "the whole device"
  }

  /// Files compare by partition and path, case-insensitively (FAT names are).
  static func key(_ partition: Int, _ path: String) -> String {
    "\(partition):\(path.lowercased())"
  }
}
