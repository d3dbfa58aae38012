import DiskFormat
import FAT

/// The 16-byte UUID a VMware FAT volume keeps in its second sector, after the magic
/// `VMWARE FAT16    ` (`safeboot/vmfat.c`).
///
/// It has two renderings: the loader's (`bootUUID=` on the kernel command line: each
/// byte `%02x`) and the `/vmfs/volumes` one (the bytes unpacked little-endian as
/// `<IIH6s>` and printed `%08x-%08x-%04x-<12 hex digits>`, as ESXi's installer and
/// fox-it's dissect.target do).
public struct BankUUID: Hashable, Sendable, Comparable, CustomStringConvertible {
  /// The 16 bytes as on disk.
  public let bytes: [UInt8]

  /// The 16 magic bytes before the UUID.
  public static var magic: [UInt8] { VMwareFATMagic.signature }

  /// A UUID from its 16 on-disk bytes; `nil` for any other count.
  public init?(bytes: [UInt8]) {
    guard bytes.count == 16 else { return nil }
    self.bytes = bytes
  }

  /// The UUID in the first 32 bytes of a volume's second sector, or `nil` when the magic
  /// is not there (or fewer than 32 bytes are given).
  public init?(sector: [UInt8]) {
    guard let magic = VMwareFATMagic(parsing: sector.span, at: 0) else { return nil }
    self.init(magic)
  }

  /// The kernel form: 32 lower-case hex digits, byte by byte (`vmfat_uuid_to_str`).
  public var kernelForm: String { VMwareFATMagic.kernelForm(bytes) }

  /// The `/vmfs/volumes/` form: `%08x-%08x-%04x-%012x` of the little-endian fields.
  public var volumesForm: String { VMwareFATMagic.volumeForm(bytes) }

  /// The UUID of a VMware FAT marker found by the FAT module.
  public init(_ magic: VMwareFATMagic) {
    bytes = magic.uuid.count == 16 ? magic.uuid : Array((magic.uuid + [UInt8](repeating: 0, count: 16)).prefix(16))
  }

  public var description: String { volumesForm }

  public static func < (a: BankUUID, b: BankUUID) -> Bool { a.bytes.lexicographicallyPrecedes(b.bytes) }
}
