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
  public static let magic: [UInt8] = Array("VMWARE FAT16    ".utf8)

  /// A UUID from its 16 on-disk bytes; `nil` for any other count.
  public init?(bytes: [UInt8]) {
    guard bytes.count == 16 else { return nil }
    self.bytes = bytes
  }

  /// The UUID in the first 32 bytes of a volume's second sector, or `nil` when the magic
  /// is not there (or fewer than 32 bytes are given).
  public init?(sector: [UInt8]) {
    guard sector.count >= 32, sector[0..<16].elementsEqual(Self.magic) else { return nil }
    self.bytes = Array(sector[16..<32])
  }

  /// The kernel form: 32 lower-case hex digits, byte by byte (`vmfat_uuid_to_str`).
  public var kernelForm: String { hexString(bytes) }

  /// The `/vmfs/volumes/` form: `%08x-%08x-%04x-%012x` of the little-endian fields.
  public var volumesForm: String {
    func le(_ range: Range<Int>) -> String {
      range.reversed().map { hexByte(bytes[$0]) }.joined()
    }
    return "\(le(0..<4))-\(le(4..<8))-\(le(8..<10))-\(hexString(Array(bytes[10..<16])))"
  }

  /// The UUID of a VMware FAT marker found by the FAT module.
  public init(_ magic: VMwareFATMagic) {
    bytes = magic.uuid.count == 16 ? magic.uuid : Array((magic.uuid + [UInt8](repeating: 0, count: 16)).prefix(16))
  }

  public var description: String { volumesForm }

  public static func < (a: BankUUID, b: BankUUID) -> Bool { a.bytes.lexicographicallyPrecedes(b.bytes) }
}
