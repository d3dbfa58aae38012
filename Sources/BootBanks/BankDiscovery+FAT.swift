import DiskFormat
import FAT
import PartitionTable

extension BankDiscovery {
  /// A boot.cfg larger than this is not read (ESXi's are a few KiB).
  public static let maximumBootConfigBytes: UInt32 = 16 << 20

  /// Looks at every volume the loader finds in `layout` (`DiskLayout.loader`, its own walk of
  /// the table) and reads each `/boot.cfg` through the FAT module.
  public static func scan(_ source: any ByteSource, layout: DiskLayout) -> [Result] {
    scan(source, slots: layout.loader.volumes.compactMap(BankSlot.init)) { try readBootConfig($0) }
  }

  /// `BOOT.CFG` of the FAT volume in `slice`, read as the loader reads it (`LoaderFAT`):
  /// `libfat_open()` on the partition, the 8.3 name `BOOT    CFG` looked up in the root
  /// directory only (`fat_get_shortname()`, `libfat_searchdir()`), never a long name; `nil`
  /// when there is no such slot.
  ///
  /// - Throws: `LoaderFAT.Refusal` when the loader's FAT library refuses the volume,
  ///   `LoaderFAT.ReadFailure` when it cannot follow the file, `ReadError` when the medium fails.
  public static func readBootConfig(_ slice: SourceSlice) throws -> [UInt8]? {
    let fat = try LoaderFAT(source: slice.base, base: slice.baseOffset, sectorSize: slice.sectorSize)
    guard let found = try fat.searchRoot(shortName: LoaderFAT.shortName("/boot.cfg")) else { return nil }
    guard found.size <= maximumBootConfigBytes else { throw BootConfigTooLarge(size: found.size) }
    return try fat.contents(of: found, maximumSize: maximumBootConfigBytes)
  }

  /// The 8.3 name of a `/boot.cfg` Linux finds (by its long name, or in any case) where the
  /// loader finds no `BOOT    CFG` slot; `nil` when Linux finds none either.
  static func linuxOnlyBootConfig(_ slice: SourceSlice) -> String? {
    guard let volume = try? FATVolume(source: slice), let entry = try? volume.lookup("/boot.cfg"), !entry.isDirectory
    else { return nil }
    return entry.shortName
  }

  /// A `/boot.cfg` too large to be one.
  public struct BootConfigTooLarge: Error, Hashable, Sendable, CustomStringConvertible {
    public var size: UInt32
    public var description: String { "/boot.cfg is \(size) bytes, more than \(BankDiscovery.maximumBootConfigBytes)" }
  }
}
