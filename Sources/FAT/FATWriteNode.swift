/// A file or directory for `FATVolumeWriter` to lay out: its 8.3 entry as the source has it
/// (name, NT case bits, attributes, timestamps), its long name, and its content.
public struct FATWriteNode: Hashable, Sendable {
  /// What the node holds.
  public enum Content: Hashable, Sendable {
    /// A file's bytes, in memory (a rewritten boot.cfg, say).
    case bytes([UInt8])
    /// A file's bytes as byte ranges of a source device, in file order, adding up to its size:
    /// referenced, never copied into memory by the writer.
    case extents([Range<Int64>])
    /// A directory's children, in directory order.
    case directory([FATWriteNode])
  }

  /// The source's 8.3 entry; the writer sets its first cluster and size.
  public var entry: DirectoryEntry
  public var longName: String?
  public var content: Content

  public init(entry: DirectoryEntry, longName: String?, content: Content) {
    self.entry = entry
    self.longName = longName
    self.content = content
  }

  /// Bytes of the file (0 for a directory).
  public var size: Int64 {
    switch content {
    case .bytes(let bytes): Int64(bytes.count)
    case .extents(let ranges): ranges.reduce(0) { $0 + Int64($1.count) }
    case .directory: 0
    }
  }

  public var isDirectory: Bool {
    if case .directory = content { return true }
    return false
  }

  /// The name as a path component: the long name, else the 8.3 name.
  public var name: String { longName ?? entry.shortName }

  /// 32-byte slots this node takes in its directory: its long-name slots and its 8.3 entry.
  var slotCount: Int {
    guard let longName else { return 1 }
    return 1 + (longName.utf16.count + LongNameSlot.unitsPerSlot) / LongNameSlot.unitsPerSlot
  }
}

/// Why a tree cannot be written to a volume.
public enum FATWriteError: Error, Hashable, Sendable, CustomStringConvertible {
  /// The files and directories need more of the data region than the volume has.
  case doesNotFit(neededBytes: Int64, availableBytes: Int64)
  /// The fixed FAT12/16 root directory has fewer slots than the root's entries take.
  case rootDirectoryFull(neededEntries: Int, capacity: Int)
  /// A directory needs more than the 65536 slots FAT allows.
  case directoryTooLarge(path: String, entries: Int)
  /// A file over 4 GiB - 1, or one whose extents do not add up.
  case badFile(path: String, reason: String)
  /// Two entries of one directory share an 8.3 name, or a name is unusable.
  case badName(path: String, reason: String)
  /// Deeper than `FATVolume.maximumDepth`.
  case tooDeep(path: String)

  public var description: String {
    switch self {
    case .doesNotFit(let needed, let available):
      "the files need \(needed) bytes of clusters, the target's data region holds \(available) bytes"
    case .rootDirectoryFull(let needed, let capacity):
      "the root directory needs \(needed) entries, the target's holds \(capacity)"
    case .directoryTooLarge(let path, let entries):
      "\(path): \(entries) directory entries, more than the 65536 FAT allows"
    case .badFile(let path, let reason): "\(path): \(reason)"
    case .badName(let path, let reason): "\(path): \(reason)"
    case .tooDeep(let path): "\(path): deeper than \(FATVolume.maximumDepth) levels"
    }
  }
}
