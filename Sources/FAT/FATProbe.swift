import DiskFormat

/// A cheap look at a boot sector, for listings (`bootbank info`): no FAT, no directory read.
public enum FATProbe {
  /// The FAT type, boot-sector label and serial of a boot sector, or `nil` when the bytes
  /// are not a valid FAT boot sector.
  ///
  /// The label is the boot sector's (BS_VolLab); the root directory may hold another one
  /// (`FATVolume.label()`).
  public static func probe(bootSector: [UInt8]) -> (type: FATType, label: String?, serial: String)? {
    guard let boot = try? BootSector(parsing: bootSector.span, at: 0) else { return nil }
    return (boot.type, boot.label, boot.serial)
  }
}
