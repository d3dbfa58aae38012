import DiskFormat

/// One 16-byte partition record of an MBR or EBR (UEFI 2.10, table 5.2 "Legacy MBR Partition Record").
public struct MBRPartitionEntry: Hashable, Sendable, Codable {
  /// 0x80 bootable, 0x00 not; anything else makes Linux reject the whole table.
  public var bootIndicator: UInt8
  /// Raw CHS of the first sector (3 bytes, not interpreted).
  public var startingCHS: [UInt8]
  public var osType: UInt8
  /// Raw CHS of the last sector (3 bytes, not interpreted).
  public var endingCHS: [UInt8]
  /// First sector: absolute for an MBR primary, relative to its EBR for a logical partition,
  /// relative to the extended partition for the link to the next EBR.
  public var startingLBA: UInt32
  public var sizeInLBA: UInt32

  /// Byte offsets inside the record.
  public enum Offset {
    public static let bootIndicator = 0x0, startingCHS = 0x1, osType = 0x4, endingCHS = 0x5
    public static let startingLBA = 0x8, sizeInLBA = 0xC
  }
  public static let size = 16

  /// Decodes the record at `offset` in `bytes`.
  ///
  /// - Parameters:
  ///   - bytes: Bytes holding the record.
  ///   - offset: Where the record starts in `bytes`.
  ///   - base: Absolute image offset of `bytes[0]`, used in errors.
  /// - Throws: `FormatError` (`truncated`) when fewer than 16 bytes are there.
  public init(parsing bytes: Span<UInt8>, at offset: Int = 0, base: Int64 = 0) throws(FormatError) {
    guard offset >= 0, offset <= bytes.count - Self.size, let raw = bytes.bytes(offset..<(offset + Self.size)) else {
      throw FormatError(
        structure: "MBR partition record", field: "BootIndicator", offset: base + Int64(offset),
        kind: .truncated(needed: Self.size, available: max(0, bytes.count - offset)))
    }
    bootIndicator = raw[Offset.bootIndicator]
    startingCHS = Array(raw[1..<4])
    osType = raw[Offset.osType]
    endingCHS = Array(raw[5..<8])
    startingLBA = raw.littleEndian(at: Offset.startingLBA) ?? 0
    sizeInLBA = raw.littleEndian(at: Offset.sizeInLBA) ?? 0
  }

  /// A record Linux skips: no sectors.
  public var isEmpty: Bool { sizeInLBA == 0 }
  /// An extended partition (0x05, 0x0F, 0x85).
  public var isExtended: Bool { PartitionType.isExtended(osType) }
  /// Last sector, relative as `startingLBA` is; nil when empty.
  public var endingLBA: UInt64? { isEmpty ? nil : UInt64(startingLBA) + UInt64(sizeInLBA) - 1 }
}
