import DiskFormat

/// The boot sector of a FAT volume: the BIOS parameter block (BPB) and, for FAT32, its
/// extension, validated field by field.
///
/// Offsets and names follow Microsoft's "FAT: General Overview of On-Disk Format" (BPB_*,
/// BS_* fields), the table dosfstools `boot.c` and libblkid `vfat.c` also mirror.
public struct BootSector: Hashable, Sendable {
  /// BS_OEMName, as stored (8 bytes, trailing spaces kept).
  public var oemName: [UInt8]
  public var bytesPerSector: Int
  public var sectorsPerCluster: Int
  public var reservedSectors: Int
  public var fatCount: Int
  /// BPB_RootEntCnt: 32-byte entries in the fixed FAT12/16 root directory (0 on FAT32).
  public var rootEntryCount: Int
  /// BPB_TotSec16 when non-zero, else BPB_TotSec32.
  public var totalSectors: UInt32
  public var media: UInt8
  /// BPB_FATSz16 when non-zero, else BPB_FATSz32: sectors per FAT copy.
  public var sectorsPerFAT: UInt32
  public var sectorsPerTrack: UInt16
  public var heads: UInt16
  public var hiddenSectors: UInt32
  /// FAT12, FAT16 or FAT32, decided from the layout (see `FATType`).
  public var type: FATType
  /// BPB_ExtFlags (FAT32): bit 7 set means only FAT number `extFlags & 0xF` is active.
  public var extFlags: UInt16
  /// BPB_RootClus (FAT32), 0 otherwise.
  public var rootCluster: UInt32
  /// BPB_FSInfo (FAT32), 0 otherwise.
  public var fsInfoSector: UInt16
  /// BPB_BkBootSec (FAT32), 0 otherwise.
  public var backupBootSector: UInt16
  /// BS_BootSig: 0x29 (or 0x28) when the volume ID, label and type fields follow.
  public var extendedBootSignature: UInt8
  /// BS_VolID.
  public var volumeID: UInt32
  /// BS_VolLab, 11 bytes as stored (meaningful only when `extendedBootSignature` is 0x29).
  public var volumeLabel: [UInt8]
  /// BS_FilSysType, 8 bytes as stored.
  public var fileSystemType: [UInt8]
  /// BS_Reserved1 (the byte Windows and Linux use as "volume dirty", bit 0).
  public var stateFlags: UInt8
  /// Number of data clusters: (TotSec - first data sector) / SecPerClus.
  public var clusterCount: UInt32

  /// Byte offsets from Microsoft's BPB table.
  enum Offset {
    static let jump = 0x00, oemName = 0x03, bytesPerSector = 0x0B, sectorsPerCluster = 0x0D
    static let reservedSectors = 0x0E, fatCount = 0x10, rootEntryCount = 0x11, totalSectors16 = 0x13
    static let media = 0x15, fatSize16 = 0x16, sectorsPerTrack = 0x18, heads = 0x1A
    static let hiddenSectors = 0x1C, totalSectors32 = 0x20
    // FAT12/16 extended BPB
    static let stateFlags16 = 0x25, bootSignature16 = 0x26, volumeID16 = 0x27, label16 = 0x2B, type16 = 0x36
    // FAT32 extension
    static let fatSize32 = 0x24, extFlags = 0x28, fsVersion = 0x2A, rootCluster = 0x2C, fsInfo = 0x30
    static let backupBoot = 0x32, stateFlags32 = 0x41, bootSignature32 = 0x42, volumeID32 = 0x43
    static let label32 = 0x47, type32 = 0x52
    static let signature = 0x1FE
  }

  static let structure = "FAT boot sector"

  /// Decodes and validates the boot sector.
  ///
  /// - Parameters:
  ///   - sector: At least the first 512 bytes of the volume.
  ///   - base: Absolute byte offset of the volume in the image, used in errors.
  /// - Throws: `FormatError` naming the first field that is wrong.
  public init(parsing sector: Span<UInt8>, at base: Int64) throws(FormatError) {
    func fail(_ field: String, _ offset: Int, _ kind: FormatError.Kind) -> FormatError {
      FormatError(structure: Self.structure, field: field, offset: base &+ Int64(offset), kind: kind)
    }
    func read<T: FixedWidthInteger>(_: T.Type, _ field: String, _ offset: Int) throws(FormatError) -> T {
      guard let value: T = sector.littleEndian(at: offset) else {
        throw fail(field, offset, .truncated(needed: T.bitWidth / 8, available: max(0, sector.count - offset)))
      }
      return value
    }
    guard sector.count >= 512 else {
      throw fail("BPB", 0, .truncated(needed: 512, available: sector.count))
    }

    let signature = try read(UInt16.self, "Signature_word", Offset.signature)
    guard signature == 0xAA55 else {
      throw fail("Signature_word", Offset.signature, .badSignature(expected: 0xAA55, found: UInt64(signature)))
    }
    let jump = sector[Offset.jump]
    guard jump == 0xEB || jump == 0xE9 || jump == 0xE8 else {
      throw fail("BS_jmpBoot", Offset.jump, .invalid("0x\(hexByte(jump)) is not a jump instruction (0xEB or 0xE9)"))
    }
    oemName = sector.bytes(Offset.oemName..<(Offset.oemName + 8)) ?? []

    let bps = try read(UInt16.self, "BPB_BytsPerSec", Offset.bytesPerSector)
    guard bps >= 512, bps <= 4096, bps & (bps &- 1) == 0 else {
      throw fail("BPB_BytsPerSec", Offset.bytesPerSector, .invalid("\(bps) is not a power of two from 512 to 4096"))
    }
    bytesPerSector = Int(bps)
    let spc = try read(UInt8.self, "BPB_SecPerClus", Offset.sectorsPerCluster)
    guard spc != 0, spc & (spc &- 1) == 0 else {
      throw fail("BPB_SecPerClus", Offset.sectorsPerCluster, .invalid("\(spc) is not a power of two from 1 to 128"))
    }
    sectorsPerCluster = Int(spc)
    let reserved = try read(UInt16.self, "BPB_RsvdSecCnt", Offset.reservedSectors)
    guard reserved >= 1 else {
      throw fail("BPB_RsvdSecCnt", Offset.reservedSectors, .outOfRange(value: 0, allowed: 1...0xFFFF))
    }
    reservedSectors = Int(reserved)
    let fats = try read(UInt8.self, "BPB_NumFATs", Offset.fatCount)
    guard fats >= 1, fats <= 16 else {
      throw fail("BPB_NumFATs", Offset.fatCount, .outOfRange(value: UInt64(fats), allowed: 1...16))
    }
    fatCount = Int(fats)
    rootEntryCount = Int(try read(UInt16.self, "BPB_RootEntCnt", Offset.rootEntryCount))
    let total16 = try read(UInt16.self, "BPB_TotSec16", Offset.totalSectors16)
    media = try read(UInt8.self, "BPB_Media", Offset.media)
    guard media == 0xF0 || media >= 0xF8 else {
      throw fail("BPB_Media", Offset.media, .invalid("0x\(hexByte(media)) is not a media descriptor (0xF0, 0xF8-0xFF)"))
    }
    let fatSize16 = try read(UInt16.self, "BPB_FATSz16", Offset.fatSize16)
    sectorsPerTrack = try read(UInt16.self, "BPB_SecPerTrk", Offset.sectorsPerTrack)
    heads = try read(UInt16.self, "BPB_NumHeads", Offset.heads)
    hiddenSectors = try read(UInt32.self, "BPB_HiddSec", Offset.hiddenSectors)
    let total32 = try read(UInt32.self, "BPB_TotSec32", Offset.totalSectors32)
    totalSectors = total16 != 0 ? UInt32(total16) : total32
    guard totalSectors != 0 else {
      throw fail("BPB_TotSec32", Offset.totalSectors32, .invalid("both BPB_TotSec16 and BPB_TotSec32 are 0"))
    }

    let isFAT32 = fatSize16 == 0
    if isFAT32 {
      sectorsPerFAT = try read(UInt32.self, "BPB_FATSz32", Offset.fatSize32)
      guard sectorsPerFAT != 0 else {
        throw fail("BPB_FATSz32", Offset.fatSize32, .invalid("both BPB_FATSz16 and BPB_FATSz32 are 0"))
      }
      guard rootEntryCount == 0 else {
        throw fail("BPB_RootEntCnt", Offset.rootEntryCount, .outOfRange(value: UInt64(rootEntryCount), allowed: 0...0))
      }
      extFlags = try read(UInt16.self, "BPB_ExtFlags", Offset.extFlags)
      let version = try read(UInt16.self, "BPB_FSVer", Offset.fsVersion)
      guard version == 0 else {
        throw fail("BPB_FSVer", Offset.fsVersion, .outOfRange(value: UInt64(version), allowed: 0...0))
      }
      rootCluster = try read(UInt32.self, "BPB_RootClus", Offset.rootCluster)
      fsInfoSector = try read(UInt16.self, "BPB_FSInfo", Offset.fsInfo)
      backupBootSector = try read(UInt16.self, "BPB_BkBootSec", Offset.backupBoot)
      stateFlags = try read(UInt8.self, "BS_Reserved1", Offset.stateFlags32)
      extendedBootSignature = try read(UInt8.self, "BS_BootSig", Offset.bootSignature32)
      volumeID = try read(UInt32.self, "BS_VolID", Offset.volumeID32)
      volumeLabel = sector.bytes(Offset.label32..<(Offset.label32 + 11)) ?? []
      fileSystemType = sector.bytes(Offset.type32..<(Offset.type32 + 8)) ?? []
    } else {
      sectorsPerFAT = UInt32(fatSize16)
      guard rootEntryCount != 0 else {
        throw fail("BPB_RootEntCnt", Offset.rootEntryCount, .invalid("0 on a FAT12/16 volume (BPB_FATSz16 is not 0)"))
      }
      extFlags = 0
      rootCluster = 0
      fsInfoSector = 0
      backupBootSector = 0
      stateFlags = try read(UInt8.self, "BS_Reserved1", Offset.stateFlags16)
      extendedBootSignature = try read(UInt8.self, "BS_BootSig", Offset.bootSignature16)
      volumeID = try read(UInt32.self, "BS_VolID", Offset.volumeID16)
      volumeLabel = sector.bytes(Offset.label16..<(Offset.label16 + 11)) ?? []
      fileSystemType = sector.bytes(Offset.type16..<(Offset.type16 + 8)) ?? []
    }

    // Layout, in sectors; every operand is at most 32 bits, so 64-bit sums cannot overflow.
    let rootSectors = (UInt64(rootEntryCount) * 32 + UInt64(bytesPerSector) - 1) / UInt64(bytesPerSector)
    let fatSectors = UInt64(fatCount) * UInt64(sectorsPerFAT)
    let dataStart = UInt64(reservedSectors) + fatSectors + rootSectors
    guard dataStart < UInt64(totalSectors) else {
      let field = total16 != 0 ? "BPB_TotSec16" : "BPB_TotSec32"
      throw fail(
        field, total16 != 0 ? Offset.totalSectors16 : Offset.totalSectors32,
        .invalid("\(totalSectors) sectors leave no data region after \(dataStart) reserved, FAT and root sectors"))
    }
    let clusters = (UInt64(totalSectors) - dataStart) / UInt64(sectorsPerCluster)
    guard clusters >= 1 else {
      throw fail("BPB_SecPerClus", Offset.sectorsPerCluster, .invalid("the data region holds no whole cluster"))
    }
    let type: FATType = isFAT32 ? .fat32 : (clusters < 4085 ? .fat12 : .fat16)
    guard clusters <= UInt64(type.maximumClusterCount) else {
      throw fail(
        isFAT32 ? "BPB_TotSec32" : "BPB_FATSz16", isFAT32 ? Offset.totalSectors32 : Offset.fatSize16,
        .outOfRange(value: clusters, allowed: 1...UInt64(type.maximumClusterCount)))
    }
    self.type = type
    clusterCount = UInt32(clusters)
    // The FAT must hold an entry for every cluster, plus the two reserved entries.
    let entriesPerFAT = UInt64(sectorsPerFAT) * UInt64(bytesPerSector) * 8 / UInt64(type.entryBits)
    guard entriesPerFAT >= clusters + 2 else {
      throw fail(
        isFAT32 ? "BPB_FATSz32" : "BPB_FATSz16", isFAT32 ? Offset.fatSize32 : Offset.fatSize16,
        .invalid("\(sectorsPerFAT) sectors hold \(entriesPerFAT) entries, the volume has \(clusters) clusters"))
    }
    if isFAT32 {
      guard rootCluster >= 2, UInt64(rootCluster) < clusters + 2 else {
        throw fail(
          "BPB_RootClus", Offset.rootCluster, .outOfRange(value: UInt64(rootCluster), allowed: 2...(clusters + 1)))
      }
    }
  }

  // MARK: Derived layout (bytes, relative to the start of the volume)

  /// Size of a cluster in bytes (at most 128 × 4096).
  public var bytesPerCluster: Int { bytesPerSector * sectorsPerCluster }
  /// Offset of FAT copy `index` (0-based).
  public func fatOffset(copy index: Int) -> Int64 {
    Int64(reservedSectors) * Int64(bytesPerSector) + Int64(index) * fatByteCount
  }
  /// Bytes in one FAT copy.
  public var fatByteCount: Int64 { Int64(sectorsPerFAT) * Int64(bytesPerSector) }
  /// Offset of the fixed root directory (FAT12/16).
  public var rootDirectoryOffset: Int64 { fatOffset(copy: fatCount) }
  /// Bytes of the fixed root directory (0 on FAT32).
  public var rootDirectoryByteCount: Int64 { Int64(rootEntryCount) * 32 }
  /// Offset of cluster 2.
  public var dataOffset: Int64 {
    let rootSectors = (Int64(rootEntryCount) * 32 + Int64(bytesPerSector) - 1) / Int64(bytesPerSector)
    return rootDirectoryOffset + rootSectors * Int64(bytesPerSector)
  }
  /// Bytes the BPB says the volume has.
  public var volumeByteCount: Int64 { Int64(totalSectors) * Int64(bytesPerSector) }
  /// Offset of data cluster `cluster` (2...clusterCount + 1).
  public func offset(ofCluster cluster: UInt32) -> Int64 {
    dataOffset + (Int64(cluster) - 2) * Int64(bytesPerCluster)
  }
  /// True when BS_VolID, BS_VolLab and BS_FilSysType are present (BS_BootSig 0x29).
  public var hasExtendedFields: Bool { extendedBootSignature == 0x29 }
  /// The volume serial as blkid and mtools print it: `XXXX-XXXX`, upper-case hex.
  public var serial: String {
    let hex = hex32(volumeID).uppercased()
    return String(hex.prefix(4)) + "-" + String(hex.suffix(4))
  }
  /// BS_VolLab with trailing spaces removed, decoded as code page 850; `nil` without the
  /// extended fields, or when it is empty or `NO NAME`.
  public var label: String? {
    guard hasExtendedFields, volumeLabel.count == 11 else { return nil }
    let text = CodePage850.decode(volumeLabel.reversed().drop { $0 == 0x20 || $0 == 0 }.reversed())
    return text.isEmpty || text == "NO NAME" ? nil : text
  }
  /// The dirty bit: BS_Reserved1 bit 0.
  public var isDirty: Bool { stateFlags & 0x01 != 0 }
}
