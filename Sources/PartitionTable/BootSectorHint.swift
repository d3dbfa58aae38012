import DiskFormat

/// What else sector 0 may be, besides an MBR: a FAT or exFAT boot sector.
///
/// A bare FAT volume and an MBR both end sector 0 with 0x55AA. libblkid calls such a sector
/// a file system when its BPB is plausible; sfdisk reads it as a DOS table regardless.
enum BootSectorHint: Equatable {
  case fat(oemName: String)
  case exfat
  case none

  /// The BPB fields looked at, at Microsoft's offsets (the FAT module's `BootSector` decodes
  /// them all; this module sits beside it, not above it).
  enum Offset {
    static let jump = 0x00, oemName = 0x03, bytesPerSector = 0x0B, sectorsPerCluster = 0x0D
    static let reservedSectors = 0x0E, fatCount = 0x10, media = 0x15, oemNameEnd = 0x0B
  }

  /// Looks at the jump instruction and the BPB fields a FAT boot sector must have
  /// (as libblkid's `vfat.c` does): BytsPerSec, SecPerClus, RsvdSecCnt, NumFATs, Media.
  init(_ sector: Span<UInt8>) {
    guard sector.count >= 512 else {
      self = .none
      return
    }
    let oem = sector.bytes(Offset.oemName..<Offset.oemNameEnd) ?? []
    if oem == Array("EXFAT   ".utf8) {
      self = .exfat
      return
    }
    let jump = sector[Offset.jump]
    let bytesPerSector: UInt16 = sector.littleEndian(at: Offset.bytesPerSector) ?? 0
    let sectorsPerCluster = sector[Offset.sectorsPerCluster]
    let reserved: UInt16 = sector.littleEndian(at: Offset.reservedSectors) ?? 0
    let fats = sector[Offset.fatCount]
    let media = sector[Offset.media]
    let plausible =
      (jump == 0xEB || jump == 0xE9)
      && [512, 1024, 2048, 4096].contains(bytesPerSector)
      && sectorsPerCluster != 0 && sectorsPerCluster.nonzeroBitCount == 1
      && reserved != 0 && (1...4).contains(fats)
      && (media == 0xF0 || media >= 0xF8)
    guard plausible else {
      self = .none
      return
    }
    let printable = oem.map { (0x20..<0x7F).contains($0) ? Character(UnicodeScalar($0)) : "." }
    self = .fat(oemName: String(printable))
  }

  var description: String {
    switch self {
    case .fat(let oem): return "a FAT boot sector (OEM name \"\(oem)\")"
    case .exfat: return "an exFAT boot sector"
    case .none: return "not a boot sector"
    }
  }
}
