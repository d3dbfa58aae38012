import DiskFormat

/// What the first two sectors of a partition say it holds: a FAT boot sector (type, label,
/// serial) and the "VMWARE FAT16" magic with the bank UUID. `bootbank info` shows both.
public struct PartitionContent: Hashable, Sendable {
  public struct FileSystem: Hashable, Sendable {
    public var type: FATType
    public var label: String?
    /// `XXXX-XXXX`.
    public var serial: String
  }

  public var fileSystem: FileSystem?
  public var magic: VMwareFATMagic?

  /// Probes a partition's bytes (addressed from zero).
  ///
  /// - Throws: `ReadError` when its first sectors cannot be read.
  public static func probe(_ partition: any ByteSource) throws -> PartitionContent {
    var content = PartitionContent()
    if partition.byteCount >= 512, let found = FATProbe.probe(bootSector: try partition.read(at: 0, count: 512)) {
      content.fileSystem = FileSystem(type: found.type, label: found.label, serial: found.serial)
    }
    content.magic = try VMwareFATMagic.read(from: partition)
    return content
  }
}
