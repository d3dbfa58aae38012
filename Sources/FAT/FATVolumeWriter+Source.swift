import DiskFormat

extension FATVolume {
  /// The volume's tree as `FATVolumeWriter` takes it: every file and directory under the root
  /// (no `.`, `..` or label), in directory order, with its 8.3 entry, long name and data as
  /// byte ranges of the device this volume lies on (its cluster runs, cut to the file size).
  ///
  /// - Throws: `FormatError` for a chain that ends before its file does, a directory loop or
  ///   a tree deeper than `maximumDepth`; `ReadError` when a directory cannot be read.
  public func writeTree() throws -> [FATWriteNode] {
    var entered: Set<UInt32> = [root.firstCluster]
    return try writeNodes(of: root, depth: 0, entered: &entered)
  }

  private func writeNodes(of directory: FATEntry, depth: Int, entered: inout Set<UInt32>) throws -> [FATWriteNode] {
    var nodes: [FATWriteNode] = []
    for child in try list(directory) {
      guard let raw = child.raw else { continue }
      if child.isDirectory {
        guard depth + 1 < Self.maximumDepth, child.firstCluster != 0, entered.insert(child.firstCluster).inserted
        else {
          throw FormatError(
            structure: "directory", field: child.path, offset: child.entryOffset,
            kind: .invalid("a directory loop, a directory without clusters or one too deep to copy"))
        }
        let children = try writeNodes(of: child, depth: depth + 1, entered: &entered)
        nodes.append(FATWriteNode(entry: raw, longName: child.longName, content: .directory(children)))
      } else {
        nodes.append(FATWriteNode(entry: raw, longName: child.longName, content: .extents(try extents(of: child))))
      }
    }
    return nodes
  }

  /// The absolute byte ranges holding a file's data, in order, adding up to its size.
  public func extents(of entry: FATEntry) throws -> [Range<Int64>] {
    let chain = clusterChain(of: entry)
    let clusterSize = Int64(bootSector.bytesPerCluster)
    var remaining = Int64(entry.size)
    guard Int64(chain.clusters.count) * clusterSize >= remaining else {
      throw FormatError(
        structure: "cluster chain", field: entry.path, offset: entry.entryOffset,
        kind: .invalid(
          "the chain holds \(chain.clusters.count) clusters (\(Int64(chain.clusters.count) * clusterSize) bytes); the size is \(remaining) bytes"
        ))
    }
    var out: [Range<Int64>] = []
    for run in chain.runs where remaining > 0 {
      let start = absoluteOffset(ofCluster: run.first)
      let length = min(remaining, Int64(run.count) * clusterSize)
      out.append(start..<(start + length))
      remaining -= length
    }
    return out
  }
}
