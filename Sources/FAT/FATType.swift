/// The width of a FAT entry: 12, 16 or 28 (stored in 32) bits.
///
/// Decided from the boot sector's layout the way Linux, blkid and fsck.fat decide it
/// (`BootSector.type`): `FATSz16 == 0` means FAT32; otherwise fewer than 4085 clusters
/// means FAT12 and more means FAT16, up to 65526 clusters as Linux reads them. ESXi's
/// loader decides by the cluster count alone (`LoaderFAT`): to it a volume of 65525 or more
/// clusters is FAT32, and one whose FAT is sized for FAT16 cannot be opened.
public enum FATType: String, Hashable, Sendable, Codable, CustomStringConvertible {
  case fat12 = "FAT12"
  case fat16 = "FAT16"
  case fat32 = "FAT32"

  public var description: String { rawValue }

  /// Bits per FAT entry as stored (FAT32 entries take 32 bits, of which 28 count).
  public var entryBits: Int {
    switch self {
    case .fat12: 12
    case .fat16: 16
    case .fat32: 32
    }
  }

  /// The mask of the bits that hold the cluster number.
  public var entryMask: UInt32 {
    switch self {
    case .fat12: 0xFFF
    case .fat16: 0xFFFF
    case .fat32: 0x0FFF_FFFF
    }
  }

  /// The value that marks a bad cluster (0xFF7, 0xFFF7, 0x0FFFFFF7).
  public var badClusterMark: UInt32 { entryMask & ~0x8 }

  /// The smallest end-of-chain value (0xFF8, 0xFFF8, 0x0FFFFFF8).
  public var endOfChainMinimum: UInt32 { entryMask & ~0x7 }

  /// The bit of FAT entry 1 that says the volume was unmounted cleanly (0x8000 on FAT16,
  /// 0x08000000 on FAT32; FAT12 has none).
  public var cleanShutdownBit: UInt32 {
    switch self {
    case .fat12: 0
    case .fat16: 0x8000
    case .fat32: 0x0800_0000
    }
  }

  /// The largest cluster count this type can address.
  public var maximumClusterCount: UInt32 {
    switch self {
    case .fat12: 4084
    // Clusters 2...0xFFF7, as Linux accepts; the loader's own limit is 0xFFF4 (`LoaderFAT`).
    case .fat16: 65_526
    case .fat32: 0x0FFF_FFF5
    }
  }
}
