import DiskFormat
import PartitionTable
import TestSupport
import Testing

@testable import BootBanks

/// A GPT entry's StartingLBA comes from the disk: times the sector size it may not fit an
/// `Int64`. The surface map must saturate, not trap.
@Suite("surface: LBAs from the disk")
struct SurfaceOverflowTests {
  /// 128 sectors of 512 bytes: a protective MBR, a primary GPT whose one basic-data entry
  /// starts at LBA 2^62 (2^71 bytes), and no backup (the table is read from the primary).
  static func image() -> [UInt8] {
    let sectors: UInt64 = 128
    var image = [UInt8].zeros(Int(sectors) * 512)
    let protective = MBRPartitionEntry(osType: 0xEE, startingLBA: 1, sizeInLBA: UInt32(sectors - 1))
    image.put(MBR(entries: [protective]).encoded(), at: 0)
    let entry = GPTPartitionEntry(
      partitionTypeGUID: GUID(PartitionType.microsoftBasicData)!,
      uniquePartitionGUID: GUID("AAAAAAAA-0000-0000-0000-000000000005")!, startingLBA: 1 << 62,
      endingLBA: (1 << 62) + 63, attributes: 0, name: "BOOTBANK1")
    let array = GPTPartitionEntry.encodedArray([entry], count: 128, size: 128)
    image.put(array, at: 2 * 512)
    let header = GPTHeader(
      myLBA: 1, alternateLBA: sectors - 1, firstUsableLBA: 34, lastUsableLBA: sectors - 34,
      diskGUID: GUID("11111111-2222-3333-4444-555555555555")!, partitionEntryLBA: 2, numberOfPartitionEntries: 128,
      sizeOfPartitionEntry: 128)
    image.put(header.encoded(entryArray: array), at: 512)
    return image
  }

  @Test func aPartitionPastInt64SaturatesInsteadOfTrapping() throws {
    let source = MemoryImage(Self.image(), name: "gpt-lba-2^62.img")
    let layout = try PartitionTable.read(from: source)
    let partition = try #require(layout.partitions.first)
    #expect(partition.firstLBA == 1 << 62)
    #expect(partition.byteRange == Int64.max..<Int64.max)
    // The bank scope holds the table's structures, and nothing of a partition off the device.
    let ranges = SurfaceScan.ranges(.banks, layout: layout, size: source.byteCount)
    #expect(!ranges.isEmpty)
    #expect(ranges.allSatisfy { $0.upperBound <= source.byteCount })
    // Every byte of the device is described, and none as the partition.
    let pieces = SurfaceMap.describe([0..<source.byteCount], source: source, layout: layout, status: nil)
    #expect(pieces.map(\.size).reduce(0, +) == source.byteCount)
    #expect(pieces.allSatisfy { $0.partition == nil })
  }
}
