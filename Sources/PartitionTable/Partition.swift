import DiskFormat

/// One partition as a partition table describes it: plain values, ready for JSON.
public struct Partition: Hashable, Sendable, Codable {
  /// The number Linux and ESXi use: GPT entry index + 1; MBR slot 1–4, logical partitions from 5.
  public var number: Int
  public var firstLBA: UInt64
  /// Inclusive.
  public var lastLBA: UInt64
  /// `lastLBA - firstLBA + 1` (0 when the entry says last < first).
  public var sectorCount: UInt64
  /// `sectorCount` × the logical sector size, saturating at `UInt64.max`.
  public var sizeBytes: UInt64
  /// Absolute byte offset of the first sector, saturating at `UInt64.max`.
  public var offsetBytes: UInt64
  /// The bytes the partition covers, saturated at `Int64.max`: an entry read from disk may
  /// claim more than an `Int64` holds, and then reaches past any real device.
  public var byteRange: Range<Int64> {
    let start = Int64(clamping: offsetBytes)
    let (end, overflow) = start.addingReportingOverflow(Int64(clamping: sizeBytes))
    return start..<(overflow ? Int64.max : end)
  }
  /// GPT PartitionTypeGUID; nil on MBR.
  public var typeGUID: GUID?
  /// MBR partition type (OSType); nil on GPT.
  public var mbrType: UInt8?
  /// A human name for the type: "EFI system partition", "Microsoft basic data", "vmkDiagnostic", "FAT16"…
  public var typeName: String
  /// The GPT partition name (UTF-16LE, up to the first NUL); "" on MBR.
  public var name: String
  /// GPT UniquePartitionGUID; nil on MBR.
  public var uniqueGUID: GUID?
  /// GPT attribute bits (0 on MBR).
  public var attributes: UInt64
  /// Names of the set attribute bits, as sfdisk spells them: "RequiredPartition", "NoBlockIOProtocol",
  /// "LegacyBIOSBootable", "GUID:60"… and "Reserved:N" for bits 3–47.
  public var attributeNames: [String]
  /// MBR boot indicator 0x80, or GPT attribute bit 2 (legacy BIOS bootable).
  public var bootable: Bool
  /// An MBR logical partition (inside the extended partition, numbered from 5).
  public var isLogical: Bool
  /// The MBR extended partition itself (type 0x05, 0x0F or 0x85): a container, not data.
  public var isExtendedContainer: Bool
  /// Absolute byte offset of the table entry that describes this partition.
  public var entryOffset: Int64

  public init(
    number: Int, firstLBA: UInt64, lastLBA: UInt64, sectorSize: Int, typeGUID: GUID? = nil,
    mbrType: UInt8? = nil, typeName: String, name: String = "", uniqueGUID: GUID? = nil,
    attributes: UInt64 = 0, bootable: Bool = false, isLogical: Bool = false,
    isExtendedContainer: Bool = false, entryOffset: Int64
  ) {
    self.number = number
    self.firstLBA = firstLBA
    self.lastLBA = lastLBA
    if lastLBA >= firstLBA {
      let (count, overflow) = (lastLBA - firstLBA).addingReportingOverflow(1)
      self.sectorCount = overflow ? UInt64.max : count
    } else {
      self.sectorCount = 0
    }
    let (size, o1) = sectorCount.multipliedReportingOverflow(by: UInt64(sectorSize))
    self.sizeBytes = o1 ? UInt64.max : size
    let (offset, o2) = firstLBA.multipliedReportingOverflow(by: UInt64(sectorSize))
    self.offsetBytes = o2 ? UInt64.max : offset
    self.typeGUID = typeGUID
    self.mbrType = mbrType
    self.typeName = typeName
    self.name = name
    self.uniqueGUID = uniqueGUID
    self.attributes = attributes
    self.attributeNames = GPTAttributes.names(attributes)
    self.bootable = bootable
    self.isLogical = isLogical
    self.isExtendedContainer = isExtendedContainer
    self.entryOffset = entryOffset
  }

  /// The attribute bits as sfdisk prints them (`LegacyBIOSBootable GUID:60,63`).
  public var sfdiskAttributes: String { GPTAttributes.sfdiskString(attributes) }
}
