import DiskFormat

/// One GPT partition entry (UEFI 2.10, table 5.6 "GPT Partition Entry").
public struct GPTPartitionEntry: Hashable, Sendable {
  public var partitionTypeGUID: GUID
  public var uniquePartitionGUID: GUID
  public var startingLBA: UInt64
  /// Inclusive.
  public var endingLBA: UInt64
  public var attributes: UInt64
  /// PartitionName decoded from UTF-16LE up to the first NUL (bytes after it are ignored).
  public var name: String

  public enum Offset {
    public static let partitionTypeGUID = 0x00, uniquePartitionGUID = 0x10, startingLBA = 0x20
    public static let endingLBA = 0x28, attributes = 0x30, partitionName = 0x38
  }
  /// The 128 bytes the specification defines; SizeOfPartitionEntry may be larger.
  public static let definedSize = 128

  /// Decodes the entry at `offset` in `bytes`.
  ///
  /// - Parameters:
  ///   - bytes: Bytes holding the entry (an entry array, or one entry).
  ///   - offset: Where the entry starts in `bytes`.
  ///   - base: Absolute image offset of `bytes[0]`, used in errors.
  /// - Throws: `FormatError` (`truncated`) when fewer than 128 bytes are there.
  public init(parsing bytes: Span<UInt8>, at offset: Int = 0, base: Int64 = 0) throws(FormatError) {
    guard offset >= 0, offset <= bytes.count - Self.definedSize,
      let raw = bytes.bytes(offset..<(offset + Self.definedSize))
    else {
      throw FormatError(
        structure: "GPT partition entry", field: "PartitionTypeGUID", offset: base + Int64(offset),
        kind: .truncated(needed: Self.definedSize, available: max(0, bytes.count - offset)))
    }
    partitionTypeGUID = GUID(onDisk: Array(raw[0..<16]))
    uniquePartitionGUID = GUID(onDisk: Array(raw[16..<32]))
    startingLBA = raw.littleEndian(at: Offset.startingLBA) ?? 0
    endingLBA = raw.littleEndian(at: Offset.endingLBA) ?? 0
    attributes = raw.littleEndian(at: Offset.attributes) ?? 0
    name = decodeUTF16LE(Array(raw[Offset.partitionName..<Self.definedSize]))
  }

  /// An unused entry: PartitionTypeGUID is all zero.
  public var isUnused: Bool { partitionTypeGUID.isZero }
}
