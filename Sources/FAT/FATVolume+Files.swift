import DiskFormat

extension FATVolume {
  /// The entries of a directory as mtools lists them: no `.`/`..`, no volume label, no deleted
  /// entries.
  ///
  /// - Throws: `ReadError` when the directory's clusters cannot be read.
  public func list(_ directory: FATEntry) throws -> [FATEntry] {
    guard directory.isDirectory else { return [] }
    return try readDirectory(directory, findings: nil)
      .filter { !$0.isLabel && !$0.entry.isDotEntry }
      .map { makeEntry($0, in: directory) }
  }

  /// The entries of the directory at `path` (`/` for the root).
  ///
  /// - Throws: `FATPathError` when the path does not name a directory.
  public func list(path: String) throws -> [FATEntry] {
    guard let entry = try lookup(path) else { throw FATPathError.notFound(path) }
    guard entry.isDirectory else { throw FATPathError.notADirectory(path) }
    return try list(entry)
  }

  /// The entry at `path`, matched component by component without regard to case against the
  /// long and the 8.3 names (as mtools matches); `nil` when there is none.
  public func lookup(_ path: String) throws -> FATEntry? {
    var current = root
    let parts = path.split(separator: "/", omittingEmptySubsequences: true)
    for (i, part) in parts.enumerated() {
      guard current.isDirectory else { return nil }
      if part == "." { continue }
      let wanted = part.lowercased()
      let children = try list(current)
      guard
        let match = children.first(where: { $0.name.lowercased() == wanted })
          ?? children.first(where: { $0.shortName.lowercased() == wanted })
      else { return nil }
      current = match
      _ = i
    }
    return current
  }

  /// Visits every entry under `directory` (the root by default), parents before children,
  /// in directory order.
  ///
  /// The walk stops descending at `maxDepth` and never enters a directory whose first
  /// cluster is one it has already entered (a directory loop); both are returned as findings.
  ///
  /// - Returns: The findings met on the way (loops, depth).
  @discardableResult
  public func walk(
    from directory: FATEntry? = nil, maxDepth: Int = FATVolume.maximumDepth, _ body: (FATEntry) throws -> Void
  ) throws -> [Finding] {
    var findings: [Finding] = []
    var entered = Set<UInt32>()
    let start = directory ?? root
    entered.insert(start.firstCluster)
    var stack: [(FATEntry, Int)] = [(start, 0)]
    while let (dir, depth) = stack.popLast() {
      var subdirs: [FATEntry] = []
      for child in try list(dir) {
        try body(child)
        guard child.isDirectory else { continue }
        if depth + 1 >= maxDepth {
          findings.append(
            .error(
              "directoryTooDeep", "\(child.path): deeper than \(maxDepth) levels; not descended",
              offset: child.entryOffset, path: child.path))
        } else if child.firstCluster == 0 {
          findings.append(
            .error(
              "badFirstCluster", "\(child.path): a directory with first cluster 0; not descended",
              offset: child.entryOffset, path: child.path))
        } else if !entered.insert(child.firstCluster).inserted {
          findings.append(
            .error(
              "directoryLoop",
              "\(child.path): starts at cluster \(child.firstCluster), a directory already visited; not descended",
              offset: child.entryOffset, path: child.path))
        } else {
          subdirs.append(child)
        }
      }
      for sub in subdirs.reversed() { stack.append((sub, depth + 1)) }
    }
    return findings
  }

  /// The cluster chain of an entry, as the FAT links it (bounded by the cluster count).
  public func clusterChain(of entry: FATEntry) -> ClusterChain {
    if entry.isRoot && type != .fat32 { return ClusterChain(clusters: [], end: .endOfChain) }
    return table.chain(from: entry.firstCluster)
  }

  /// Calls `body` with the bytes of a file, one piece at a time (at most one cluster run, and
  /// at most 1 MiB), without holding the file in memory.
  ///
  /// For a directory the bytes are those of its clusters. The chain is validated before the
  /// first byte is passed: a chain that ends (free or bad cluster, out-of-range link, loop)
  /// before covering the file size throws, so a checksum is never computed over a partial file.
  ///
  /// - Throws: `FormatError` (structure "cluster chain") for a broken chain, `ReadError`,
  ///   or what `body` throws.
  public func forEachRun(of entry: FATEntry, _ body: (Span<UInt8>) throws -> Void) throws {
    let chain = clusterChain(of: entry)
    let clusterSize = Int64(bootSector.bytesPerCluster)
    var remaining: Int64 =
      entry.isDirectory ? Int64(chain.clusters.count) * clusterSize : Int64(entry.size)
    if entry.isRoot && type != .fat32 {
      try readPieces(bootSector.rootDirectoryOffset, bootSector.rootDirectoryByteCount, body)
      return
    }
    let covered = Int64(chain.clusters.count) * clusterSize
    if covered < remaining {
      let at = chain.clusters.last ?? 0
      let why: String
      switch chain.end {
      case .endOfChain: why = "ends"
      case .free(let c): why = "runs into free cluster \(c)"
      case .bad(let c): why = "runs into bad cluster \(c)"
      case .outOfRange(let from, let value): why = "links cluster \(from) to \(value), which is out of range"
      case .loop(let c): why = "loops back to cluster \(c)"
      }
      throw FormatError(
        structure: "cluster chain", field: entry.path,
        offset: at == 0 ? entry.entryOffset : table.offset(ofEntry: at),
        kind: .invalid(
          "the chain \(why) after \(chain.clusters.count) clusters (\(covered) bytes); the size is \(remaining) bytes"))
    }
    for run in chain.runs {
      guard remaining > 0 else { break }
      let length = min(remaining, Int64(run.count) * clusterSize)
      try readPieces(bootSector.offset(ofCluster: run.first), length, body)
      remaining -= length
    }
  }

  /// Streams the file at `path` (see `forEachRun(of:_:)`).
  ///
  /// - Throws: `FATPathError` when `path` names nothing or a directory.
  public func readFile(_ path: String, body: (Span<UInt8>) throws -> Void) throws {
    guard let entry = try lookup(path) else { throw FATPathError.notFound(path) }
    guard !entry.isDirectory else { throw FATPathError.notAFile(path) }
    try forEachRun(of: entry, body)
  }

  /// The whole contents of a file, copied (for small files; use `forEachRun` for large ones).
  public func contents(of entry: FATEntry) throws -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(Int(min(entry.size, 64 << 20)))
    try forEachRun(of: entry) { span in
      for i in 0..<span.count { out.append(span[i]) }
    }
    return out
  }

  private func readPieces(_ start: Int64, _ length: Int64, _ body: (Span<UInt8>) throws -> Void) throws {
    let piece: Int64 = 1 << 20
    var done: Int64 = 0
    while done < length {
      let n = min(piece, length - done)
      try source.withBytes(in: (start + done)..<(start + done + n)) { try body($0) }
      done += n
    }
  }
}

/// A path that does not name what an operation needs.
public enum FATPathError: Error, Hashable, Sendable, CustomStringConvertible {
  case notFound(String)
  case notADirectory(String)
  case notAFile(String)

  public var description: String {
    switch self {
    case .notFound(let p): "\(p): no such file or directory"
    case .notADirectory(let p): "\(p): not a directory"
    case .notAFile(let p): "\(p): is a directory"
    }
  }
}
