/// A file, directory or volume label found in a directory, with its long name resolved.
public struct FATEntry: Hashable, Sendable {
  /// The name as mtools and Linux show it: the long name where a valid one precedes the
  /// entry, else the 8.3 name with the NT lower-case bits applied.
  public var name: String
  /// The 8.3 name as mtools shows it (`VERY-L~1.TXT`, NT lower-case bits applied).
  public var shortName: String
  /// The long name, when valid long-name slots precede the entry.
  public var longName: String?
  /// Path from the volume root, `/` separated, using `name`s (`/` itself for the root).
  public var path: String
  public var attributes: FATAttributes
  public var firstCluster: UInt32
  /// DIR_FileSize (0 for directories).
  public var size: UInt32
  public var created: FATTimestamp?
  public var accessed: FATTimestamp?
  public var modified: FATTimestamp?
  /// Absolute byte offset of the 8.3 slot in the image (0 for the root directory).
  public var entryOffset: Int64
  /// The raw short entry.
  public var raw: DirectoryEntry?

  public var isDirectory: Bool { attributes.contains(.directory) }
  /// True for the root directory (which has no entry of its own).
  public var isRoot: Bool { raw == nil }
}
