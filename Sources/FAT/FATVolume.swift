import DiskFormat

/// A FAT12/16/32 volume read through a `ByteSource`, without mounting.
///
/// Opening reads the boot sector, the FSInfo sector (FAT32) and the first FAT copy, whose size
/// the BPB declares and which must lie inside the source; file contents are read on demand,
/// a cluster run at a time. Every walk is bounded by the volume's cluster count.
public final class FATVolume: Sendable {
  public let source: any ByteSource
  public let bootSector: BootSector
  /// The first FAT copy (the one fsck.fat and the kernel use).
  public let table: AllocationTable
  /// The FSInfo sector (FAT32), when it decodes.
  public let fsInfo: FSInfo?
  /// Why the FSInfo sector did not decode (FAT32 only).
  public let fsInfoError: FormatError?
  /// Absolute offset of the volume in the underlying image (non-zero for a partition slice).
  public let baseOffset: Int64

  /// The largest directory the FAT specification allows: 65536 entries of 32 bytes.
  public static let maximumDirectoryBytes = 65_536 * 32
  /// How deep `walk` descends before reporting `directoryTooDeep`.
  public static let maximumDepth = 128

  /// Opens the FAT volume that fills `source` (a bare image, or a `SourceSlice` of a partition).
  ///
  /// - Throws: `FormatError` when the boot sector does not validate or the FATs do not lie
  ///   inside the source; `ReadError` when the source cannot be read.
  public init(source: any ByteSource) throws {
    self.source = source
    let base = source.absoluteBaseOffset
    baseOffset = base
    guard source.byteCount >= 512 else {
      throw FormatError(
        structure: BootSector.structure, field: "BPB", offset: base,
        kind: .truncated(needed: 512, available: Int(max(0, source.byteCount))))
    }
    // Enough for the largest logical sector.
    let head = try source.read(at: 0, count: Int(min(4096, source.byteCount)))
    let boot = try BootSector(parsing: head.span, at: base)
    bootSector = boot

    // Every FAT copy must be inside the source; the data region may run past it (a truncated
    // image), which `check()` reports and reads of those clusters throw.
    let fatsEnd = boot.rootDirectoryOffset + boot.rootDirectoryByteCount
    guard fatsEnd <= source.byteCount else {
      throw FormatError(
        structure: BootSector.structure, field: boot.fatSizeField.name, offset: base + Int64(boot.fatSizeField.offset),
        kind: .truncated(needed: Int(fatsEnd), available: Int(max(0, source.byteCount))))
    }
    let count = min(
      AllocationTable.byteCount(type: boot.type, clusterCount: boot.clusterCount), Int(boot.fatByteCount))
    let fatOffset = boot.fatOffset(copy: 0)
    table = AllocationTable(
      bytes: try source.read(at: fatOffset, count: count), type: boot.type, clusterCount: boot.clusterCount,
      absoluteOffset: base + fatOffset)

    if boot.type == .fat32, boot.fsInfoSector != 0, boot.fsInfoSector != 0xFFFF,
      Int(boot.fsInfoSector) < boot.reservedSectors
    {
      let offset = Int64(boot.fsInfoSector) * Int64(boot.bytesPerSector)
      let sector = try source.read(at: offset, count: boot.bytesPerSector)
      do {
        fsInfo = try FSInfo(parsing: sector.span, at: base + offset)
        fsInfoError = nil
      } catch {
        fsInfo = nil
        fsInfoError = error
      }
    } else {
      fsInfo = nil
      fsInfoError = nil
    }
  }

  // MARK: Summary values

  public var type: FATType { bootSector.type }
  public var clusterCount: UInt32 { bootSector.clusterCount }
  /// Serial number as `XXXX-XXXX`.
  public var serial: String { bootSector.serial }
  /// Clusters whose FAT entry is 0.
  public var freeClusterCount: UInt32 { table.freeClusterCount }

  /// The label blkid reports as `LABEL`: the volume-label entry of the root directory
  /// (not "NO NAME", not empty), decoded as code page 850; `nil` when there is none.
  public func label() throws -> String? {
    guard let entry = try rootLabelEntry() else { return nil }
    // blkid reports a root label of "NO NAME" as it is; only an empty one is no label.
    let text = entry.labelText
    return text.isEmpty ? nil : text
  }

  /// The first volume-label entry of the root directory, if any.
  public func rootLabelEntry() throws -> DirectoryEntry? {
    try readDirectory(root, findings: nil).first { $0.isLabel }?.entry
  }

  /// The allocation map (which clusters the FAT marks used) for image, compare and sync.
  public func allocationMap() -> AllocationMap {
    AllocationMap(table: table, boot: bootSector, baseOffset: baseOffset)
  }

  /// The root directory as an entry.
  public var root: FATEntry {
    FATEntry(
      name: "/", shortName: "", longName: nil, path: "/", attributes: .directory,
      firstCluster: type == .fat32 ? bootSector.rootCluster : 0, size: 0, entryOffset: 0, raw: nil)
  }

  /// Absolute offset in the image of volume offset `offset`.
  func absolute(_ offset: Int64) -> Int64 { baseOffset &+ offset }

  /// Absolute offset of data cluster `cluster`.
  public func absoluteOffset(ofCluster cluster: UInt32) -> Int64 { absolute(bootSector.offset(ofCluster: cluster)) }
}
