/// One write of a `FATVolumeWriter` layout: whole sectors at a volume offset.
public struct FATVolumeWrite: Hashable, Sendable {
  /// What the bytes are.
  public enum Content: Hashable, Sendable {
    case bytes([UInt8])
    /// Byte ranges of the source device, concatenated, then zeros up to `count`.
    case source([Range<Int64>])
  }

  /// What the write holds, for plans and reasons.
  public enum Role: Hashable, Sendable, CustomStringConvertible {
    case fat(copy: Int)
    case rootDirectory
    case directory(String)
    case file(String)
    /// Several files' data, contiguous on both sides, merged into one write.
    case files(first: String, last: String, count: Int)
    case fsInfo
    /// The boot sector (or its FAT32 backup) of a volume being formatted.
    case bootSector

    public var description: String {
      switch self {
      case .fat(let copy): "FAT copy \(copy + 1)"
      case .rootDirectory: "root directory"
      case .directory(let path): "directory \(path)"
      case .file(let path): "data of \(path)"
      case .files(let first, let last, let count): "data of \(count) files, \(first) to \(last)"
      case .fsInfo: "FSInfo sector"
      case .bootSector: "boot sector"
      }
    }

    var isData: Bool {
      switch self {
      case .file, .files: true
      default: false
      }
    }
  }

  /// Byte offset relative to the start of the volume (sector-aligned).
  public var offset: Int64
  /// Bytes written (whole sectors).
  public var count: Int
  public var content: Content
  public var what: Role

  public init(offset: Int64, count: Int? = nil, content: Content, what: Role) {
    self.offset = offset
    self.content = content
    self.what = what
    switch content {
    case .bytes(let bytes): self.count = count ?? bytes.count
    case .source(let ranges): self.count = count ?? ranges.reduce(0) { $0 + $1.count }
    }
  }

  /// The single source range this write copies whole, when it is one.
  public var copiedRange: Range<Int64>? {
    guard case .source(let ranges) = content, ranges.count == 1, ranges[0].count == count else { return nil }
    return ranges[0]
  }

  public var isData: Bool { what.isData }

  /// `writes` with neighbours merged where both copy one source range and both sides are
  /// contiguous (files laid out in the source's order usually are), up to `limit` bytes each.
  public static func merged(_ writes: [FATVolumeWrite], limit: Int = 8 << 20) -> [FATVolumeWrite] {
    var out: [FATVolumeWrite] = []
    for write in writes {
      if let last = out.last, let a = last.copiedRange, let b = write.copiedRange,
        last.offset + Int64(last.count)
          == write.offset, a.upperBound == b.lowerBound, last.count + write.count <= limit
      {
        var joined = last
        joined.content = .source([a.lowerBound..<b.upperBound])
        joined.count += write.count
        joined.what = Self.joinedRole(last.what, write.what)
        out[out.count - 1] = joined
      } else {
        out.append(write)
      }
    }
    return out
  }

  static func joinedRole(_ a: Role, _ b: Role) -> Role {
    func parts(_ r: Role) -> (String, String, Int)? {
      switch r {
      case .file(let p): (p, p, 1)
      case .files(let f, let l, let n): (f, l, n)
      default: nil
      }
    }
    guard let x = parts(a), let y = parts(b) else { return a }
    if x.1 == y.0 { return x.2 == 1 && y.2 == 1 ? a : .files(first: x.0, last: y.1, count: x.2 + y.2 - 1) }
    return .files(first: x.0, last: y.1, count: x.2 + y.2)
  }
}

/// The writes that put a tree on a volume, and what they hold.
public struct FATVolumeLayout: Hashable, Sendable {
  /// File data first (source order), then the directories, then every FAT copy and FSInfo.
  public var writes: [FATVolumeWrite]
  /// Clusters the tree occupies (directories included).
  public var clustersUsed: Int
  public var fileCount: Int
  public var directoryCount: Int
  /// Bytes of file content.
  public var fileBytes: Int64
  /// The first cluster given to each path (0 for an empty file).
  public var placements: [String: UInt32]

  /// Bytes all writes put on the volume.
  public var bytesWritten: Int64 { writes.reduce(0) { $0 + Int64($1.count) } }
}
