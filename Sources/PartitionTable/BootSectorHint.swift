import DiskFormat

/// What else sector 0 may be, besides an MBR: a FAT or exFAT boot sector.
///
/// A bare FAT volume and an MBR both end sector 0 with 0x55AA. libblkid calls such a sector
/// a file system when its BPB is plausible; sfdisk reads it as a DOS table regardless.
enum BootSectorHint: Equatable {
  case fat(oemName: String)
  case exfat
  case none

  /// Looks at the jump instruction and the BPB fields a FAT boot sector must have
  /// (as libblkid's `vfat.c` does): BytsPerSec, SecPerClus, RsvdSecCnt, NumFATs, Media.
  init(_ sector: Span<UInt8>) {
    guard sector.count >= 512 else {
      self = .none
      return
    }
    let oem = sector.bytes(3..<11) ?? []
    if oem == Array("EXFAT   ".utf8) {
      self = .exfat
      return
    }
    let jump = sector[0]
    let bytesPerSector: UInt16 = sector.littleEndian(at: 0x0B) ?? 0
    let sectorsPerCluster = sector[0x0D]
    let reserved: UInt16 = sector.littleEndian(at: 0x0E) ?? 0
    let fats = sector[0x10]
    let media = sector[0x15]
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
