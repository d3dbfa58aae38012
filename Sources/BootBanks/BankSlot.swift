import DiskFormat

/// A partition-table entry as the bank scan needs it: its number, its type and where it
/// lies. `BankDiscovery` takes these from whatever read the partition table.
public struct BankSlot: Hashable, Sendable {
  /// The entry's type.
  public enum TableType: Hashable, Sendable {
    /// A GPT entry with this type GUID.
    case gpt(GUID)
    /// An MBR (or EBR) entry with this type byte.
    case mbr(UInt8)
  }

  /// The loader's partition number (GPT entry index + 1; MBR 1–4, logical from 5).
  public var partition: Int
  public var type: TableType
  /// Absolute byte range in the image.
  public var byteRange: Range<Int64>

  public init(partition: Int, type: TableType, byteRange: Range<Int64>) {
    self.partition = partition
    self.type = type
    self.byteRange = byteRange
  }

  /// GPT basic data (`EBD0A0A2-…`): the loader's `PART_TYPE_FAT16`.
  public static let basicData = GUID(onDisk: [
    0xA2, 0xA0, 0xD0, 0xEB, 0xE5, 0xB9, 0x33, 0x44, 0x87, 0xC0, 0x68, 0xB6, 0xB7, 0x26, 0x99, 0xC7,
  ])
  /// The EFI system partition: the loader's `PART_TYPE_EFI`.
  public static let efiSystem = GUID(onDisk: [
    0x28, 0x73, 0x2A, 0xC1, 0x1F, 0xF8, 0xD2, 0x11, 0xBA, 0x4B, 0x00, 0xA0, 0xC9, 0x3E, 0xC9, 0x3B,
  ])
  /// MBR types the loader accepts as FAT (`vmfat_get_uuid`): FAT12, FAT16 < 32 MiB, FAT16,
  /// FAT32, FAT32 LBA, FAT16 LBA, EFI.
  public static let fatMBRTypes: Set<UInt8> = [0x01, 0x04, 0x06, 0x0B, 0x0C, 0x0E, 0xEF]

  /// Whether the loader would look for the VMware FAT magic here (`vmfat_get_uuid`:
  /// GPT basic data or ESP only, as `gpt_to_partinfo` maps every other GUID to NON_FS).
  public var mayBeBank: Bool {
    switch type {
    case .gpt(let guid): guid == Self.basicData || guid == Self.efiSystem
    case .mbr(let byte): Self.fatMBRTypes.contains(byte)
    }
  }
}
