import DiskFormat
import FAT
import PartitionTable

extension BankDiscovery {
  /// A boot.cfg larger than this is not read (ESXi's are a few KiB).
  public static let maximumBootConfigBytes: UInt32 = 16 << 20

  /// Looks at every partition of `layout` (as the loader reads the table) and reads each
  /// `/boot.cfg` through the FAT module.
  public static func scan(_ source: any ByteSource, layout: DiskLayout) -> [Result] {
    scan(source, slots: layout.partitions.compactMap(BankSlot.init)) { try readBootConfig($0) }
  }

  /// `/boot.cfg` of the FAT volume filling `slice`, or `nil` when it has none.
  ///
  /// - Throws: `FormatError`/`ReadError` when the volume cannot be read, or
  ///   `BootConfigTooLarge` for a file over `maximumBootConfigBytes`.
  public static func readBootConfig(_ slice: SourceSlice) throws -> [UInt8]? {
    let volume = try FATVolume(source: slice)
    guard let entry = try volume.lookup("/boot.cfg"), !entry.isDirectory else { return nil }
    guard entry.size <= maximumBootConfigBytes else { throw BootConfigTooLarge(size: entry.size) }
    return try volume.contents(of: entry)
  }

  /// A `/boot.cfg` too large to be one.
  public struct BootConfigTooLarge: Error, Hashable, Sendable, CustomStringConvertible {
    public var size: UInt32
    public var description: String { "/boot.cfg is \(size) bytes, more than \(BankDiscovery.maximumBootConfigBytes)" }
  }
}
