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
    startingCHS = Array(raw[Offset.startingCHS..<Offset.osType])
    osType = raw[Offset.osType]
    endingCHS = Array(raw[Offset.endingCHS..<Offset.startingLBA])
    startingLBA = raw.littleEndian(at: Offset.startingLBA) ?? 0
    sizeInLBA = raw.littleEndian(at: Offset.sizeInLBA) ?? 0
  }

  /// A record from its fields, for writers; CHS addresses default to zero (ignored by LBA readers).
  public init(
    bootIndicator: UInt8 = 0, startingCHS: [UInt8] = [0, 0, 0], osType: UInt8, endingCHS: [UInt8] = [0, 0, 0],
    startingLBA: UInt32, sizeInLBA: UInt32
  ) {
    self.bootIndicator = bootIndicator
    self.startingCHS = startingCHS
    self.osType = osType
    self.endingCHS = endingCHS
    self.startingLBA = startingLBA
    self.sizeInLBA = sizeInLBA
  }

  /// The record's 16 bytes (each CHS address padded or cut to 3 bytes).
  public func encoded() -> [UInt8] {
    func chs(_ bytes: [UInt8]) -> [UInt8] { Array((bytes + [0, 0, 0]).prefix(3)) }
    var out = [UInt8](repeating: 0, count: Self.size)
    out[Offset.bootIndicator] = bootIndicator
    out.storeBytes(chs(startingCHS), at: Offset.startingCHS)
    out[Offset.osType] = osType
    out.storeBytes(chs(endingCHS), at: Offset.endingCHS)
    out.storeLittleEndian(startingLBA, at: Offset.startingLBA)
    out.storeLittleEndian(sizeInLBA, at: Offset.sizeInLBA)
    return out
  }

  /// A record Linux skips: no sectors.
  public var isEmpty: Bool { sizeInLBA == 0 }
  /// An extended partition (0x05, 0x0F, 0x85).
  public var isExtended: Bool { PartitionType.isExtended(osType) }
  /// Last sector, relative as `startingLBA` is; nil when empty.
  public var endingLBA: UInt64? { isEmpty ? nil : UInt64(startingLBA) + UInt64(sizeInLBA) - 1 }
}
