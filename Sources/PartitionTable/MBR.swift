import DiskFormat

/// Sector 0 of a disk read as a master boot record, or an extended boot record (same layout).
public struct MBR: Hashable, Sendable, Codable {
  /// The boot code area (bytes 0 to 0x1B7), kept as it is so a rewritten MBR still boots.
  public var bootCode: [UInt8]
  /// UniqueMBRDiskSignature (sfdisk's disk identifier); meaningless in an EBR.
  public var diskSignature: UInt32
  /// The two bytes after the disk signature (0x0000, or 0x5A5A for a copy-protected disk).
  public var reserved: UInt16
  /// The four partition records.
  public var entries: [MBRPartitionEntry]

  public enum Offset {
    public static let bootCode = 0x000, diskSignature = 0x1B8, reserved = 0x1BC, partitionRecord = 0x1BE
    public static let signature = 0x1FE
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
    bootCode = sector.bytes(Offset.bootCode..<Offset.diskSignature) ?? []
    diskSignature = sector.littleEndian(at: Offset.diskSignature) ?? 0
    reserved = sector.littleEndian(at: Offset.reserved) ?? 0
    var entries = [MBRPartitionEntry]()
    for slot in 0..<4 {
      entries.append(try MBRPartitionEntry(parsing: sector, at: Self.entryOffset(slot), base: base))
    }
    self.entries = entries
  }

  /// An MBR or EBR from its parts, for writers: missing records are empty (all zero), and boot
  /// code shorter than 440 bytes is zero padded.
  public init(
    bootCode: [UInt8] = [], diskSignature: UInt32 = 0, reserved: UInt16 = 0, entries: [MBRPartitionEntry]
  ) {
    self.bootCode = bootCode
    self.diskSignature = diskSignature
    self.reserved = reserved
    self.entries = entries
  }

  /// The sector's 512 bytes: boot code, disk signature, the four records (empty ones zero) and
  /// 0x55AA. Boot code and records beyond their room are cut.
  public func encoded() -> [UInt8] {
    var out = [UInt8](repeating: 0, count: Self.size)
    out.storeBytes(Array(bootCode.prefix(Offset.diskSignature)), at: Offset.bootCode)
    out.storeLittleEndian(diskSignature, at: Offset.diskSignature)
    out.storeLittleEndian(reserved, at: Offset.reserved)
    for (slot, entry) in entries.prefix(4).enumerated() { out.storeBytes(entry.encoded(), at: Self.entryOffset(slot)) }
    out.storeLittleEndian(Self.signature, at: Offset.signature)
    return out
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
