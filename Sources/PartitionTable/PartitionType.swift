/// Names for partition types: GPT type GUIDs and MBR OSType bytes.
///
/// GPT names follow sgdisk's (`sgdisk -L`) where sgdisk has one, except the VMware types,
/// which carry the names ESXi uses (`partedUtil showGuids`).
public enum PartitionType {
  public static let efiSystem = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
  public static let microsoftBasicData = "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7"
  public static let vmkDiagnostic = "9D275380-40AD-11DB-BF97-000C2911D1B8"
  public static let vmfs = "AA31E02A-400F-11DB-9590-000C2911D1B8"
  public static let vmfsL = "4EB2EA39-7855-4790-A79E-FAE495E21F8D"
  public static let vmwareReserved = "9198EFFC-31C0-11DB-8F78-000C2911D1B8"
  public static let linuxFilesystem = "0FC63DAF-8483-4772-8E79-3D69D8477DE4"

  /// Upper-case canonical GUID → name.
  public static let gptNames: [String: String] = [
    "00000000-0000-0000-0000-000000000000": "Unused entry",
    efiSystem: "EFI system partition",
    microsoftBasicData: "Microsoft basic data",
    vmkDiagnostic: "vmkDiagnostic",
    vmfs: "VMFS",
    vmfsL: "VMFS-L (ESX-OSData)",
    vmwareReserved: "VMware reserved",
    linuxFilesystem: "Linux filesystem",
    "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F": "Linux swap",
    "E6D6D379-F507-44C2-A23C-238F2A3DF928": "Linux LVM",
    "A19D880F-05FC-4D3B-A006-743F0F84911E": "Linux RAID",
    "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709": "Linux x86-64 root (/)",
    "B921B045-1DF0-41C3-AF44-4C6F280D3FAE": "Linux ARM64 root (/)",
    "933AC7E1-2EB4-4F13-B844-0E14E2AEF915": "Linux /home",
    "BC13C2FF-59E6-4262-A352-B275FD6F7172": "Freedesktop $BOOT",
    "21686148-6449-6E6F-744E-656564454649": "BIOS boot partition",
    "E3C9E316-0B5C-4DB8-817D-F92DF00215AE": "Microsoft reserved",
    "DE94BBA4-06D1-4D40-A16A-BFD50179D6AC": "Windows RE",
    "5808C8AA-7E8F-42E0-85D2-E1E90434CFB3": "Windows LDM metadata",
    "AF9B60A0-1431-4F62-BC68-3311714A69AD": "Windows LDM data",
    "024DEE41-33E7-11D3-9D69-0008C781F39F": "MBR partition scheme",
    "48465300-0000-11AA-AA11-00306543ECAC": "Apple HFS/HFS+",
    "7C3457EF-0000-11AA-AA11-00306543ECAC": "Apple APFS",
    "516E7CB4-6ECF-11D6-8FF8-00022D09712B": "FreeBSD disklabel",
    "83BD6B9D-7F41-11DC-BE0B-001560B84F0F": "FreeBSD boot",
    "6A898CC3-1DD2-11B2-99A6-080020736631": "Solaris /usr & Apple ZFS",
  ]

  /// The name of a GPT type GUID (canonical form, any case), or "Unknown".
  public static func name(forGUID guid: String) -> String {
    gptNames[guid.uppercased()] ?? "Unknown"
  }

  /// The name of an MBR OSType byte, as fdisk lists them, or "Unknown".
  public static func name(forMBRType type: UInt8) -> String {
    switch type {
    case 0x00: return "Empty"
    case 0x01: return "FAT12"
    case 0x04: return "FAT16 <32M"
    case 0x05: return "Extended"
    case 0x06: return "FAT16"
    case 0x07: return "HPFS/NTFS/exFAT"
    case 0x0B: return "W95 FAT32"
    case 0x0C: return "W95 FAT32 (LBA)"
    case 0x0E: return "W95 FAT16 (LBA)"
    case 0x0F: return "W95 Ext'd (LBA)"
    case 0x11: return "Hidden FAT12"
    case 0x14: return "Hidden FAT16 <32M"
    case 0x16: return "Hidden FAT16"
    case 0x1B: return "Hidden W95 FAT32"
    case 0x1C: return "Hidden W95 FAT32 (LBA)"
    case 0x1E: return "Hidden W95 FAT16 (LBA)"
    case 0x82: return "Linux swap / Solaris"
    case 0x83: return "Linux"
    case 0x85: return "Linux extended"
    case 0x8E: return "Linux LVM"
    case 0xA5: return "FreeBSD"
    case 0xA6: return "OpenBSD"
    case 0xA9: return "NetBSD"
    case 0xEE: return "GPT"
    case 0xEF: return "EFI (FAT-12/16/32)"
    case 0xFB: return "VMware VMFS"
    case 0xFC: return "VMware VMKCORE"
    case 0xFD: return "Linux raid autodetect"
    default: return "Unknown"
    }
  }

  /// MBR types that hold an EBR chain.
  public static func isExtended(_ type: UInt8) -> Bool { type == 0x05 || type == 0x0F || type == 0x85 }
}
