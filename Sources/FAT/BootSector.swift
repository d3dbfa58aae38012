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
  /// BPB_TotSec16 and BPB_TotSec32 as stored (`totalSectors` says which one counts).
  public var totalSectors16: UInt16
  public var totalSectors32: UInt32
  public var media: UInt8
  /// BPB_FATSz16 as stored: 0 on FAT32, whose FAT size is BPB_FATSz32.
  public var fatSize16: UInt16
  /// BPB_FATSz32 (FAT32), 0 otherwise.
  public var fatSize32: UInt32
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
  /// The first 512 bytes with every field above (and BPB_FSVer, which must be 0) set to zero:
  /// BS_jmpBoot, BS_DrvNum, BPB_Reserved, the boot code and whatever else the sector holds, so the sector
  /// re-encodes byte for byte.
  public var otherBytes: [UInt8]

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
  /// BS_OEMName, BS_VolLab and BS_FilSysType lengths.
  static let oemNameSize = 8, labelSize = 11, typeSize = 8
  /// The bytes the BPB and its extensions are read from.
  public static let size = 512
  /// Signature_word at 0x1FE.
  public static let signature: UInt16 = 0xAA55

  static let structure = "FAT boot sector"

  /// The offsets of the extended fields, which sit in different places on FAT32.
  struct ExtendedOffsets {
    var stateFlags, bootSignature, volumeID, label, type: Int
    static let fat16 = ExtendedOffsets(
      stateFlags: Offset.stateFlags16, bootSignature: Offset.bootSignature16, volumeID: Offset.volumeID16,
      label: Offset.label16, type: Offset.type16)
    static let fat32 = ExtendedOffsets(
      stateFlags: Offset.stateFlags32, bootSignature: Offset.bootSignature32, volumeID: Offset.volumeID32,
      label: Offset.label32, type: Offset.type32)
  }

  /// A reader of one sector's fields (a copy of its first 512 bytes) that throws `FormatError`s
  /// naming them.
  struct Reader {
    var sector: [UInt8]
    var base: Int64

    init(_ sector: Span<UInt8>, base: Int64) {
      self.sector = sector.bytes(0..<min(sector.count, BootSector.size)) ?? []
      self.base = base
    }

    func fail(_ field: String, _ offset: Int, _ kind: FormatError.Kind) -> FormatError {
      FormatError(structure: BootSector.structure, field: field, offset: base &+ Int64(offset), kind: kind)
    }
    func read<T: FixedWidthInteger>(_: T.Type, _ field: String, _ offset: Int) throws(FormatError) -> T {
      guard let value: T = sector.littleEndian(at: offset) else {
        throw fail(field, offset, .truncated(needed: T.bitWidth / 8, available: max(0, sector.count - offset)))
      }
      return value
    }
    func bytes(_ offset: Int, _ count: Int) -> [UInt8] { Array(sector[offset..<(offset + count)]) }
  }

  /// Decodes and validates the boot sector.
  ///
  /// - Parameters:
  ///   - sector: At least the first 512 bytes of the volume.
  ///   - base: Absolute byte offset of the volume in the image, used in errors.
  /// - Throws: `FormatError` naming the first field that is wrong.
  public init(parsing sector: Span<UInt8>, at base: Int64) throws(FormatError) {
    let r = Reader(sector, base: base)
    guard sector.count >= Self.size else {
      throw r.fail("BPB", 0, .truncated(needed: Self.size, available: sector.count))
    }
    try Self.checkSignatures(r)
    oemName = r.bytes(Offset.oemName, Self.oemNameSize)
    (bytesPerSector, sectorsPerCluster, reservedSectors, fatCount) = try Self.readGeometry(r)
    rootEntryCount = Int(try r.read(UInt16.self, "BPB_RootEntCnt", Offset.rootEntryCount))
    totalSectors16 = try r.read(UInt16.self, "BPB_TotSec16", Offset.totalSectors16)
    media = try r.read(UInt8.self, "BPB_Media", Offset.media)
    guard media == 0xF0 || media >= 0xF8 else {
      throw r.fail("BPB_Media", Offset.media, .notOneOf(value: UInt64(media), allowed: [0xF0...0xF0, 0xF8...0xFF]))
    }
    fatSize16 = try r.read(UInt16.self, "BPB_FATSz16", Offset.fatSize16)
    sectorsPerTrack = try r.read(UInt16.self, "BPB_SecPerTrk", Offset.sectorsPerTrack)
    heads = try r.read(UInt16.self, "BPB_NumHeads", Offset.heads)
    hiddenSectors = try r.read(UInt32.self, "BPB_HiddSec", Offset.hiddenSectors)
    totalSectors32 = try r.read(UInt32.self, "BPB_TotSec32", Offset.totalSectors32)
    guard totalSectors16 != 0 || totalSectors32 != 0 else {
      throw r.fail("BPB_TotSec32", Offset.totalSectors32, .outOfRange(value: 0, allowed: 1...UInt64(UInt32.max)))
    }

    let extended: ExtendedOffsets
    if fatSize16 == 0 {
      extended = .fat32
      (fatSize32, extFlags, rootCluster, fsInfoSector, backupBootSector) = try Self.readFAT32Extension(
        r, rootEntryCount: rootEntryCount)
    } else {
      extended = .fat16
      guard rootEntryCount != 0 else {
        throw r.fail("BPB_RootEntCnt", Offset.rootEntryCount, .outOfRange(value: 0, allowed: 1...0xFFFF))
      }
      (fatSize32, extFlags, rootCluster, fsInfoSector, backupBootSector) = (0, 0, 0, 0, 0)
    }
    stateFlags = try r.read(UInt8.self, "BS_Reserved1", extended.stateFlags)
    extendedBootSignature = try r.read(UInt8.self, "BS_BootSig", extended.bootSignature)
    volumeID = try r.read(UInt32.self, "BS_VolID", extended.volumeID)
    volumeLabel = r.bytes(extended.label, Self.labelSize)
    fileSystemType = r.bytes(extended.type, Self.typeSize)
    otherBytes = r.bytes(0, Self.size)
    type = .fat12
    clusterCount = 0
    (type, clusterCount) = try checkLayout(r)
    otherBytes = Self.blankingNamedFields(otherBytes, type: type)
  }

  /// Signature_word 0xAA55 and a jump instruction in BS_jmpBoot.
  static func checkSignatures(_ r: Reader) throws(FormatError) {
    let signature = try r.read(UInt16.self, "Signature_word", Offset.signature)
    guard signature == Self.signature else {
      throw r.fail(
        "Signature_word", Offset.signature,
        .badSignature(expected: UInt64(Self.signature), found: UInt64(signature)))
    }
    let jump = try r.read(UInt8.self, "BS_jmpBoot", Offset.jump)
    guard jump == 0xEB || jump == 0xE9 || jump == 0xE8 else {
      throw r.fail("BS_jmpBoot", Offset.jump, .notOneOf(value: UInt64(jump), allowed: [0xE8...0xE9, 0xEB...0xEB]))
    }
  }

  /// BPB_BytsPerSec, BPB_SecPerClus, BPB_RsvdSecCnt and BPB_NumFATs, each within its rule.
  static func readGeometry(_ r: Reader) throws(FormatError) -> (Int, Int, Int, Int) {
    let bps = try r.read(UInt16.self, "BPB_BytsPerSec", Offset.bytesPerSector)
    guard bps >= 512, bps <= 4096, bps & (bps &- 1) == 0 else {
      throw r.fail("BPB_BytsPerSec", Offset.bytesPerSector, .notPowerOfTwo(value: UInt64(bps), allowed: 512...4096))
    }
    let spc = try r.read(UInt8.self, "BPB_SecPerClus", Offset.sectorsPerCluster)
    guard spc != 0, spc & (spc &- 1) == 0 else {
      throw r.fail("BPB_SecPerClus", Offset.sectorsPerCluster, .notPowerOfTwo(value: UInt64(spc), allowed: 1...128))
    }
    let reserved = try r.read(UInt16.self, "BPB_RsvdSecCnt", Offset.reservedSectors)
    guard reserved >= 1 else {
      throw r.fail("BPB_RsvdSecCnt", Offset.reservedSectors, .outOfRange(value: 0, allowed: 1...0xFFFF))
    }
    let fats = try r.read(UInt8.self, "BPB_NumFATs", Offset.fatCount)
    guard fats >= 1, fats <= 16 else {
      throw r.fail("BPB_NumFATs", Offset.fatCount, .outOfRange(value: UInt64(fats), allowed: 1...16))
    }
    return (Int(bps), Int(spc), Int(reserved), Int(fats))
  }

  /// The FAT32 fields from BPB_FATSz32 to BPB_BkBootSec, with BPB_RootEntCnt and BPB_FSVer 0.
  static func readFAT32Extension(_ r: Reader, rootEntryCount: Int) throws(FormatError) -> (
    fatSize: UInt32, extFlags: UInt16, rootCluster: UInt32, fsInfo: UInt16, backupBoot: UInt16
  ) {
    let fatSize = try r.read(UInt32.self, "BPB_FATSz32", Offset.fatSize32)
    guard fatSize != 0 else {
      throw r.fail("BPB_FATSz32", Offset.fatSize32, .outOfRange(value: 0, allowed: 1...UInt64(UInt32.max)))
    }
    guard rootEntryCount == 0 else {
      throw r.fail("BPB_RootEntCnt", Offset.rootEntryCount, .outOfRange(value: UInt64(rootEntryCount), allowed: 0...0))
    }
    let extFlags = try r.read(UInt16.self, "BPB_ExtFlags", Offset.extFlags)
    let version = try r.read(UInt16.self, "BPB_FSVer", Offset.fsVersion)
    guard version == 0 else {
      throw r.fail("BPB_FSVer", Offset.fsVersion, .outOfRange(value: UInt64(version), allowed: 0...0))
    }
    return (
      fatSize, extFlags, try r.read(UInt32.self, "BPB_RootClus", Offset.rootCluster),
      try r.read(UInt16.self, "BPB_FSInfo", Offset.fsInfo), try r.read(UInt16.self, "BPB_BkBootSec", Offset.backupBoot)
    )
  }

  /// The layout rules: a data region after the reserved, FAT and root sectors, holding at least
  /// one cluster and no more than the type addresses, a FAT big enough for every cluster, and
  /// (FAT32) a root cluster inside the volume. Returns the type and the cluster count.
  func checkLayout(_ r: Reader) throws(FormatError) -> (FATType, UInt32) {
    let isFAT32 = fatSize16 == 0
    let fatField = isFAT32 ? ("BPB_FATSz32", Offset.fatSize32) : ("BPB_FATSz16", Offset.fatSize16)
    // In sectors; every operand is at most 32 bits, so 64-bit sums cannot overflow.
    let rootSectors = (UInt64(rootEntryCount) * 32 + UInt64(bytesPerSector) - 1) / UInt64(bytesPerSector)
    let dataStart = UInt64(reservedSectors) + UInt64(fatCount) * UInt64(sectorsPerFAT) + rootSectors
    guard dataStart < UInt64(totalSectors) else {
      let field =
        totalSectors16 != 0 ? ("BPB_TotSec16", Offset.totalSectors16) : ("BPB_TotSec32", Offset.totalSectors32)
      throw r.fail(
        field.0, field.1, .outOfRange(value: UInt64(totalSectors), allowed: (dataStart + 1)...UInt64(UInt32.max)))
    }
    let clusters = (UInt64(totalSectors) - dataStart) / UInt64(sectorsPerCluster)
    guard clusters >= 1 else {
      throw r.fail(
        "BPB_SecPerClus", Offset.sectorsPerCluster,
        .outOfRange(value: UInt64(sectorsPerCluster), allowed: 1...(UInt64(totalSectors) - dataStart)))
    }
    let type: FATType = isFAT32 ? .fat32 : (clusters < 4085 ? .fat12 : .fat16)
    guard clusters <= UInt64(type.maximumClusterCount) else {
      throw r.fail(
        isFAT32 ? "BPB_TotSec32" : "BPB_FATSz16", isFAT32 ? Offset.totalSectors32 : Offset.fatSize16,
        .outOfRange(value: clusters, allowed: 1...UInt64(type.maximumClusterCount)))
    }
    // The FAT must hold an entry for every cluster, plus the two reserved entries.
    let neededBytes = ((clusters + 2) * UInt64(type.entryBits) + 7) / 8
    let neededSectors = (neededBytes + UInt64(bytesPerSector) - 1) / UInt64(bytesPerSector)
    guard UInt64(sectorsPerFAT) >= neededSectors else {
      throw r.fail(
        fatField.0, fatField.1, .outOfRange(value: UInt64(sectorsPerFAT), allowed: neededSectors...UInt64(UInt32.max)))
    }
    if isFAT32 {
      guard rootCluster >= 2, UInt64(rootCluster) < clusters + 2 else {
        throw r.fail(
          "BPB_RootClus", Offset.rootCluster, .outOfRange(value: UInt64(rootCluster), allowed: 2...(clusters + 1)))
      }
    }
    return (type, UInt32(clusters))
  }

  /// `sector` with the bytes of every field `BootSector` names set to zero: what `otherBytes`
  /// holds for a sector of that type.
  public static func blankingNamedFields(_ sector: [UInt8], type: FATType) -> [UInt8] {
    var out = sector
    let extended: ExtendedOffsets = type == .fat32 ? .fat32 : .fat16
    var fields: [(Int, Int)] = [
      (Offset.oemName, oemNameSize), (Offset.bytesPerSector, 2), (Offset.sectorsPerCluster, 1),
      (Offset.reservedSectors, 2), (Offset.fatCount, 1), (Offset.rootEntryCount, 2), (Offset.totalSectors16, 2),
      (Offset.media, 1), (Offset.fatSize16, 2), (Offset.sectorsPerTrack, 2), (Offset.heads, 2),
      (Offset.hiddenSectors, 4), (Offset.totalSectors32, 4), (extended.stateFlags, 1), (extended.bootSignature, 1),
      (extended.volumeID, 4), (extended.label, labelSize), (extended.type, typeSize), (Offset.signature, 2),
    ]
    if type == .fat32 {
      fields += [
        (Offset.fatSize32, 4), (Offset.extFlags, 2), (Offset.fsVersion, 2), (Offset.rootCluster, 4),
        (Offset.fsInfo, 2), (Offset.backupBoot, 2),
      ]
    }
    for (offset, count) in fields {
      out.replaceSubrange(offset..<(offset + count), with: repeatElement(0, count: count))
    }
    return out
  }

  /// The sector's 512 bytes: `otherBytes` with every named field written over it, the FAT32
  /// extension or the FAT12/16 extended fields as `type` says, and 0xAA55. Names are padded
  /// with spaces or cut to their field's length.
  public func encoded() -> [UInt8] {
    func padded(_ bytes: [UInt8], _ count: Int) -> [UInt8] {
      Array((bytes + [UInt8](repeating: 0x20, count: count)).prefix(count))
    }
    var out = Array((otherBytes + [UInt8](repeating: 0, count: Self.size)).prefix(Self.size))
    out.storeBytes(padded(oemName, Self.oemNameSize), at: Offset.oemName)
    out.storeLittleEndian(UInt16(truncatingIfNeeded: bytesPerSector), at: Offset.bytesPerSector)
    out[Offset.sectorsPerCluster] = UInt8(truncatingIfNeeded: sectorsPerCluster)
    out.storeLittleEndian(UInt16(truncatingIfNeeded: reservedSectors), at: Offset.reservedSectors)
    out[Offset.fatCount] = UInt8(truncatingIfNeeded: fatCount)
    out.storeLittleEndian(UInt16(truncatingIfNeeded: rootEntryCount), at: Offset.rootEntryCount)
    out.storeLittleEndian(totalSectors16, at: Offset.totalSectors16)
    out[Offset.media] = media
    out.storeLittleEndian(fatSize16, at: Offset.fatSize16)
    out.storeLittleEndian(sectorsPerTrack, at: Offset.sectorsPerTrack)
    out.storeLittleEndian(heads, at: Offset.heads)
    out.storeLittleEndian(hiddenSectors, at: Offset.hiddenSectors)
    out.storeLittleEndian(totalSectors32, at: Offset.totalSectors32)
    let extended: ExtendedOffsets = type == .fat32 ? .fat32 : .fat16
    if type == .fat32 {
      out.storeLittleEndian(fatSize32, at: Offset.fatSize32)
      out.storeLittleEndian(extFlags, at: Offset.extFlags)
      out.storeLittleEndian(rootCluster, at: Offset.rootCluster)
      out.storeLittleEndian(fsInfoSector, at: Offset.fsInfo)
      out.storeLittleEndian(backupBootSector, at: Offset.backupBoot)
    }
    out[extended.stateFlags] = stateFlags
    out[extended.bootSignature] = extendedBootSignature
    out.storeLittleEndian(volumeID, at: extended.volumeID)
    out.storeBytes(padded(volumeLabel, Self.labelSize), at: extended.label)
    out.storeBytes(padded(fileSystemType, Self.typeSize), at: extended.type)
    out.storeLittleEndian(Self.signature, at: Offset.signature)
    return out
  }

  /// BPB_TotSec16 when non-zero, else BPB_TotSec32.
  public var totalSectors: UInt32 { totalSectors16 != 0 ? UInt32(totalSectors16) : totalSectors32 }
  /// BPB_FATSz16 when non-zero, else BPB_FATSz32: sectors per FAT copy.
  public var sectorsPerFAT: UInt32 { fatSize16 != 0 ? UInt32(fatSize16) : fatSize32 }
  /// The name and absolute offset of the FAT size field in use (BPB_FATSz16 or BPB_FATSz32).
  public var fatSizeField: (name: String, offset: Int) {
    type == .fat32 ? ("BPB_FATSz32", Offset.fatSize32) : ("BPB_FATSz16", Offset.fatSize16)
  }
  /// Offset of BS_Reserved1 (the dirty flag), which FAT32 keeps further on.
  public var stateFlagsOffset: Int { (type == .fat32 ? ExtendedOffsets.fat32 : .fat16).stateFlags }
  /// Offset of BS_VolLab.
  public var volumeLabelOffset: Int { (type == .fat32 ? ExtendedOffsets.fat32 : .fat16).label }
  /// Offset of BPB_BkBootSec (FAT32).
  public static var backupBootSectorOffset: Int { Offset.backupBoot }

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
