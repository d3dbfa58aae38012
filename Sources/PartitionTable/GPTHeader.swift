import Checksum
import DiskFormat

/// A GPT header (UEFI 2.10, table 5.5 "GPT Header"), decoded but not yet judged.
///
/// Decoding fails only when there is no header to decode: a short block or no "EFI PART".
/// Everything else, the CRC included, is judged by `GPTTable`, which knows the disk size and
/// the other header, so that one run reports every problem (as `sgdisk -v` does).
public struct GPTHeader: Hashable, Sendable, Codable {
  public var revision: UInt32
  /// Bytes covered by HeaderCRC32: at least 92, at most the logical block size.
  public var headerSize: UInt32
  /// HeaderCRC32 as read. `encoded(entryArrayCRC32:)` computes its own, so this is what the disk
  /// said, not what a changed header would need.
  public var headerCRC32: UInt32
  /// The CRC of the first HeaderSize bytes with HeaderCRC32 read as zero; nil when HeaderSize
  /// is out of range and no CRC can be computed.
  public var computedHeaderCRC32: UInt32?
  public var reserved: UInt32
  public var myLBA: UInt64
  public var alternateLBA: UInt64
  public var firstUsableLBA: UInt64
  public var lastUsableLBA: UInt64
  public var diskGUID: GUID
  public var partitionEntryLBA: UInt64
  public var numberOfPartitionEntries: UInt32
  public var sizeOfPartitionEntry: UInt32
  /// PartitionEntryArrayCRC32 as read; the encoder takes the CRC of the array it is given.
  public var partitionEntryArrayCRC32: UInt32
  /// The bytes from 92 up to HeaderSize (reserved, covered by HeaderCRC32), kept so a header
  /// re-encodes byte for byte; empty when HeaderSize is 92 or out of range.
  public var trailingBytes: [UInt8]
  /// Absolute byte offset of the header.
  public var base: Int64

  /// Byte offsets from the UEFI specification's "GPT Header" table.
  public enum Offset {
    public static let signature = 0x00, revision = 0x08, headerSize = 0x0C, headerCRC32 = 0x10
    public static let reserved = 0x14, myLBA = 0x18, alternateLBA = 0x20, firstUsableLBA = 0x28
    public static let lastUsableLBA = 0x30, diskGUID = 0x38, partitionEntryLBA = 0x48
    public static let numberOfPartitionEntries = 0x50, sizeOfPartitionEntry = 0x54
    public static let partitionEntryArrayCRC32 = 0x58
  }
  /// "EFI PART" read as a little-endian UInt64.
  public static let signature: UInt64 = 0x5452_4150_2049_4645
  public static let revision10: UInt32 = 0x0001_0000
  /// The size of the fields the specification defines.
  public static let minimumSize = 92

  /// Decodes a header from one logical block.
  ///
  /// - Parameters:
  ///   - block: The logical block that holds the header (at least 92 bytes).
  ///   - base: The block's absolute byte offset in the image, used in errors and findings.
  ///   - structure: "primary GPT header" or "backup GPT header", for errors.
  /// - Throws: `FormatError` when the block is shorter than 92 bytes or the Signature is not "EFI PART".
  public init(parsing block: Span<UInt8>, at base: Int64, structure: String = "GPT header") throws(FormatError) {
    func read<T: FixedWidthInteger>(_: T.Type, _ field: String, _ offset: Int) throws(FormatError) -> T {
      guard let value: T = block.littleEndian(at: offset) else {
        throw FormatError(
          structure: structure, field: field, offset: base + Int64(offset),
          kind: .truncated(needed: T.bitWidth / 8, available: max(0, block.count - offset)))
      }
      return value
    }
    let signature = try read(UInt64.self, "Signature", Offset.signature)
    guard signature == Self.signature else {
      throw FormatError(
        structure: structure, field: "Signature", offset: base,
        kind: .badSignature(expected: Self.signature, found: signature))
    }
    guard block.count >= Self.minimumSize else {
      throw FormatError(
        structure: structure, field: "HeaderSize", offset: base + Int64(Offset.headerSize),
        kind: .truncated(needed: Self.minimumSize, available: block.count))
    }
    self.base = base
    revision = try read(UInt32.self, "Revision", Offset.revision)
    headerSize = try read(UInt32.self, "HeaderSize", Offset.headerSize)
    headerCRC32 = try read(UInt32.self, "HeaderCRC32", Offset.headerCRC32)
    reserved = try read(UInt32.self, "Reserved", Offset.reserved)
    myLBA = try read(UInt64.self, "MyLBA", Offset.myLBA)
    alternateLBA = try read(UInt64.self, "AlternateLBA", Offset.alternateLBA)
    firstUsableLBA = try read(UInt64.self, "FirstUsableLBA", Offset.firstUsableLBA)
    lastUsableLBA = try read(UInt64.self, "LastUsableLBA", Offset.lastUsableLBA)
    diskGUID = GUID(onDisk: block.bytes(Offset.diskGUID..<(Offset.diskGUID + 16)) ?? [UInt8](repeating: 0, count: 16))
    partitionEntryLBA = try read(UInt64.self, "PartitionEntryLBA", Offset.partitionEntryLBA)
    numberOfPartitionEntries = try read(UInt32.self, "NumberOfPartitionEntries", Offset.numberOfPartitionEntries)
    sizeOfPartitionEntry = try read(UInt32.self, "SizeOfPartitionEntry", Offset.sizeOfPartitionEntry)
    partitionEntryArrayCRC32 = try read(UInt32.self, "PartitionEntryArrayCRC32", Offset.partitionEntryArrayCRC32)

    let size = Int(headerSize)
    if size >= Self.minimumSize, size <= block.count {  // checked before slicing
      trailingBytes = block.bytes(Self.minimumSize..<size) ?? []
      var crc = CRC32()  // the CRC field is read as zero; the input is left untouched
      crc.update(block.extracting(0..<Offset.headerCRC32))
      crc.update(zeroCount: 4)
      crc.update(block.extracting((Offset.headerCRC32 + 4)..<size))
      computedHeaderCRC32 = crc.finalize()
    } else {
      trailingBytes = []
      computedHeaderCRC32 = nil
    }
  }

  /// A header from its fields, for writers; HeaderCRC32 and PartitionEntryArrayCRC32 are
  /// left at zero, because `encoded(entryArrayCRC32:)` computes them.
  public init(
    revision: UInt32 = GPTHeader.revision10, headerSize: UInt32 = UInt32(GPTHeader.minimumSize),
    reserved: UInt32 = 0, myLBA: UInt64, alternateLBA: UInt64, firstUsableLBA: UInt64,
    lastUsableLBA: UInt64, diskGUID: GUID, partitionEntryLBA: UInt64, numberOfPartitionEntries: UInt32,
    sizeOfPartitionEntry: UInt32, trailingBytes: [UInt8] = [], base: Int64 = 0
  ) {
    self.revision = revision
    self.headerSize = headerSize
    self.headerCRC32 = 0
    self.computedHeaderCRC32 = nil
    self.reserved = reserved
    self.myLBA = myLBA
    self.alternateLBA = alternateLBA
    self.firstUsableLBA = firstUsableLBA
    self.lastUsableLBA = lastUsableLBA
    self.diskGUID = diskGUID
    self.partitionEntryLBA = partitionEntryLBA
    self.numberOfPartitionEntries = numberOfPartitionEntries
    self.sizeOfPartitionEntry = sizeOfPartitionEntry
    self.partitionEntryArrayCRC32 = 0
    self.trailingBytes = trailingBytes
    self.base = base
  }

  /// The header's bytes: the 92 defined bytes and `trailingBytes`, with HeaderCRC32 computed
  /// over them (the CRC field as zero) and PartitionEntryArrayCRC32 set to `entryArrayCRC32`.
  ///
  /// HeaderSize is written as stored; a writer keeps it equal to `92 + trailingBytes.count`.
  public func encoded(entryArrayCRC32: UInt32) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: Self.minimumSize)
    out.storeLittleEndian(Self.signature, at: Offset.signature)
    out.storeLittleEndian(revision, at: Offset.revision)
    out.storeLittleEndian(headerSize, at: Offset.headerSize)
    out.storeLittleEndian(reserved, at: Offset.reserved)
    out.storeLittleEndian(myLBA, at: Offset.myLBA)
    out.storeLittleEndian(alternateLBA, at: Offset.alternateLBA)
    out.storeLittleEndian(firstUsableLBA, at: Offset.firstUsableLBA)
    out.storeLittleEndian(lastUsableLBA, at: Offset.lastUsableLBA)
    out.storeBytes(diskGUID.bytes, at: Offset.diskGUID)
    out.storeLittleEndian(partitionEntryLBA, at: Offset.partitionEntryLBA)
    out.storeLittleEndian(numberOfPartitionEntries, at: Offset.numberOfPartitionEntries)
    out.storeLittleEndian(sizeOfPartitionEntry, at: Offset.sizeOfPartitionEntry)
    out.storeLittleEndian(entryArrayCRC32, at: Offset.partitionEntryArrayCRC32)
    out += trailingBytes
    out.storeLittleEndian(CRC32.checksum(out), at: Offset.headerCRC32)  // the CRC field is still zero here
    return out
  }

  /// The header's bytes with PartitionEntryArrayCRC32 computed over `entryArray` (see
  /// `GPTPartitionEntry.encodedArray`).
  public func encoded(entryArray: [UInt8]) -> [UInt8] { encoded(entryArrayCRC32: CRC32.checksum(entryArray)) }

  /// Absolute offset of a field.
  public func offset(_ field: Int) -> Int64 { base + Int64(field) }

  /// Bytes of the partition entry array, or nil when the product overflows.
  public var entryArrayBytes: UInt64? {
    let (n, o) = UInt64(numberOfPartitionEntries).multipliedReportingOverflow(by: UInt64(sizeOfPartitionEntry))
    return o ? nil : n
  }
}
