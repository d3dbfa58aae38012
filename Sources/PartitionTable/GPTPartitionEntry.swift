import DiskFormat

/// One GPT partition entry (UEFI 2.10, table 5.6 "GPT Partition Entry").
public struct GPTPartitionEntry: Hashable, Sendable {
  public var partitionTypeGUID: GUID
  public var uniquePartitionGUID: GUID
  public var startingLBA: UInt64
  /// Inclusive.
  public var endingLBA: UInt64
  public var attributes: UInt64
  /// PartitionName as stored: 72 bytes of UTF-16LE, bytes after the first NUL kept as they are.
  public var nameBytes: [UInt8]

  public enum Offset {
    public static let partitionTypeGUID = 0x00, uniquePartitionGUID = 0x10, startingLBA = 0x20
    public static let endingLBA = 0x28, attributes = 0x30, partitionName = 0x38
  }
  /// The 128 bytes the specification defines; SizeOfPartitionEntry may be larger.
  public static let definedSize = 128
  /// Bytes of PartitionName (36 UTF-16 code units).
  public static let nameSize = definedSize - Offset.partitionName

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
    partitionTypeGUID = GUID(onDisk: Array(raw[Offset.partitionTypeGUID..<Offset.uniquePartitionGUID]))
    uniquePartitionGUID = GUID(onDisk: Array(raw[Offset.uniquePartitionGUID..<Offset.startingLBA]))
    startingLBA = raw.littleEndian(at: Offset.startingLBA) ?? 0
    endingLBA = raw.littleEndian(at: Offset.endingLBA) ?? 0
    attributes = raw.littleEndian(at: Offset.attributes) ?? 0
    nameBytes = Array(raw[Offset.partitionName..<Self.definedSize])
  }

  /// An entry from its fields, for writers; `name` is stored as UTF-16LE, cut at 36 code units
  /// and padded with zeros.
  public init(
    partitionTypeGUID: GUID, uniquePartitionGUID: GUID, startingLBA: UInt64, endingLBA: UInt64,
    attributes: UInt64 = 0, name: String = ""
  ) {
    self.partitionTypeGUID = partitionTypeGUID
    self.uniquePartitionGUID = uniquePartitionGUID
    self.startingLBA = startingLBA
    self.endingLBA = endingLBA
    self.attributes = attributes
    self.nameBytes = Self.nameBytes(name)
  }

  /// PartitionName decoded from UTF-16LE up to the first NUL (bytes after it are ignored).
  public var name: String { decodeUTF16LE(nameBytes) }

  /// `name` as PartitionName's 72 bytes: UTF-16LE, at most 36 code units, zero padded.
  public static func nameBytes(_ name: String) -> [UInt8] {
    var out = [UInt8]()
    for unit in name.utf16.prefix(nameSize / 2) { out.appendLittleEndian(unit) }
    return out + [UInt8](repeating: 0, count: nameSize - out.count)
  }

  /// An unused entry: PartitionTypeGUID is all zero.
  public var isUnused: Bool { partitionTypeGUID.isZero }

  /// The entry's 128 bytes (`nameBytes` padded or cut to 72).
  public func encoded() -> [UInt8] {
    var out = [UInt8](repeating: 0, count: Self.definedSize)
    out.storeBytes(partitionTypeGUID.bytes, at: Offset.partitionTypeGUID)
    out.storeBytes(uniquePartitionGUID.bytes, at: Offset.uniquePartitionGUID)
    out.storeLittleEndian(startingLBA, at: Offset.startingLBA)
    out.storeLittleEndian(endingLBA, at: Offset.endingLBA)
    out.storeLittleEndian(attributes, at: Offset.attributes)
    out.storeBytes(Array(nameBytes.prefix(Self.nameSize)), at: Offset.partitionName)
    return out
  }

  /// An entry array: `count` slots of `size` bytes (at least 128), `entries` in the first slots,
  /// the rest zero (unused). Entries past `count` are left out.
  public static func encodedArray(_ entries: [GPTPartitionEntry], count: UInt32, size: UInt32) -> [UInt8] {
    let slot = max(definedSize, Int(size))
    var out = [UInt8](repeating: 0, count: Int(count) * slot)
    for (index, entry) in entries.prefix(Int(count)).enumerated() { out.storeBytes(entry.encoded(), at: index * slot) }
    return out
  }
}
