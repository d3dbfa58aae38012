import DiskFormat

/// Sector 0 of a disk read as a master boot record, or an extended boot record (same layout).
public struct MBR: Hashable, Sendable, Codable {
  /// UniqueMBRDiskSignature (sfdisk's disk identifier); meaningless in an EBR.
  public var diskSignature: UInt32
  /// The four partition records.
  public var entries: [MBRPartitionEntry]

  public enum Offset {
    public static let diskSignature = 0x1B8, partitionRecord = 0x1BE, signature = 0x1FE
  }
  public static let signature: UInt16 = 0xAA55
  /// Bytes that hold the MBR.
  public static let size = 512

  /// Decodes an MBR or EBR.
  ///
  /// - Parameters:
  ///   - sector: At least the first 512 bytes of the sector.
  ///   - base: The sector's absolute byte offset in the image, used in errors.
  ///   - structure: "MBR" or "EBR", for errors.
  /// - Throws: `FormatError` on a short sector or when the signature at 0x1FE is not 0xAA55.
  public init(parsing sector: Span<UInt8>, at base: Int64, structure: String = "MBR") throws(FormatError) {
    guard sector.count >= Self.size else {
      throw FormatError(
        structure: structure, field: "Signature", offset: base + Int64(Offset.signature),
        kind: .truncated(needed: Self.size, available: sector.count))
    }
    let found: UInt16 = sector.littleEndian(at: Offset.signature) ?? 0
    guard found == Self.signature else {
      throw FormatError(
        structure: structure, field: "Signature", offset: base + Int64(Offset.signature),
        kind: .badSignature(expected: UInt64(Self.signature), found: UInt64(found)))
    }
    diskSignature = sector.littleEndian(at: Offset.diskSignature) ?? 0
    var entries = [MBRPartitionEntry]()
    for slot in 0..<4 {
      entries.append(try MBRPartitionEntry(parsing: sector, at: Self.entryOffset(slot), base: base))
    }
    self.entries = entries
  }

  /// Offset of record `slot` (0-based) inside the sector.
  public static func entryOffset(_ slot: Int) -> Int { Offset.partitionRecord + slot * MBRPartitionEntry.size }

  /// ESXi's loader rule (`bootlib/volume.c`): the disk is GPT only when record 1 has type 0xEE,
  /// StartingLBA 1 and BootIndicator 0.
  public var isProtectiveForESXi: Bool {
    entries[0].osType == 0xEE && entries[0].startingLBA == 1 && entries[0].bootIndicator == 0
  }

  /// Whether any record has type 0xEE (what sgdisk and libblkid look for).
  public var hasGPTEntry: Bool { entries.contains { $0.osType == 0xEE } }
}
