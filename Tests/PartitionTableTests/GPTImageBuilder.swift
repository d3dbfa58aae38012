import Checksum
import DiskFormat
import PartitionTable
import TestSupport

/// Builds small GPT disks in memory, the way sgdisk lays them out: protective MBR, primary header
/// at LBA 1, entries from LBA 2, backup entries just before the backup header at the last LBA.
struct GPTImageBuilder {
  struct Entry {
    var type: String
    var unique: String
    var first: UInt64
    var last: UInt64
    var attributes: UInt64 = 0
    var name: String = ""
  }
  var sectorSize = 512
  var sectors: UInt64 = 256
  var entryCount: UInt32 = 128
  var entrySize: UInt32 = 128
  var diskGUID = "11111111-2222-3333-4444-555555555555"
  var entries: [Entry] = [
    Entry(
      type: PartitionType.efiSystem, unique: "AAAAAAAA-0000-0000-0000-000000000001", first: 64, last: 127, name: "BOOT"),
    Entry(
      type: PartitionType.microsoftBasicData, unique: "AAAAAAAA-0000-0000-0000-000000000005", first: 128, last: 191,
      attributes: 1 << 63, name: "BOOTBANK1"),
  ]

  var arraySectors: UInt64 { (UInt64(entryCount) * UInt64(entrySize) + UInt64(sectorSize) - 1) / UInt64(sectorSize) }
  var lastLBA: UInt64 { sectors - 1 }
  var firstUsable: UInt64 { 2 + arraySectors }
  var lastUsable: UInt64 { lastLBA - arraySectors - 1 }
  var backupEntriesLBA: UInt64 { lastLBA - arraySectors }

  func build() -> [UInt8] {
    var image = [UInt8].zeros(Int(sectors) * sectorSize)
    // Protective MBR: one 0xEE record from LBA 1 to the end.
    let protective = MBRPartitionEntry(osType: 0xEE, startingLBA: 1, sizeInLBA: UInt32(clamping: sectors - 1))
    image.put(MBR(entries: [protective]).encoded(), at: 0)

    let array = GPTPartitionEntry.encodedArray(
      entries.map {
        GPTPartitionEntry(
          partitionTypeGUID: GUID($0.type)!, uniquePartitionGUID: GUID($0.unique)!, startingLBA: $0.first,
          endingLBA: $0.last, attributes: $0.attributes, name: $0.name)
      }, count: entryCount, size: entrySize)
    image.put(array, at: 2 * sectorSize)
    image.put(array, at: Int(backupEntriesLBA) * sectorSize)
    image.put(header(myLBA: 1, alternate: lastLBA, entriesLBA: 2).encoded(entryArray: array), at: sectorSize)
    image.put(
      header(myLBA: lastLBA, alternate: 1, entriesLBA: backupEntriesLBA).encoded(entryArray: array),
      at: Int(lastLBA) * sectorSize)
    return image
  }

  func header(myLBA: UInt64, alternate: UInt64, entriesLBA: UInt64) -> GPTHeader {
    GPTHeader(
      myLBA: myLBA, alternateLBA: alternate, firstUsableLBA: firstUsable, lastUsableLBA: lastUsable,
      diskGUID: GUID(diskGUID)!, partitionEntryLBA: entriesLBA, numberOfPartitionEntries: entryCount,
      sizeOfPartitionEntry: entrySize)
  }
}

/// Recomputing CRCs after a deliberate corruption, so that the check behind the CRC fires.
enum GPTFixup {
  typealias O = GPTHeader.Offset

  /// Recomputes HeaderCRC32 of the header at `headerOffset` (over its HeaderSize, clamped to 92...512).
  static func refreshHeaderCRC(_ image: inout [UInt8], headerOffset: Int) {
    let stored: UInt32 = image.littleEndian(at: headerOffset + O.headerSize) ?? 92
    let size = Int(min(max(stored, 92), 512))
    var header = Array(image[headerOffset..<(headerOffset + size)])
    header.storeLittleEndian(UInt32(0), at: O.headerCRC32)
    image.storeLittleEndian(CRC32.checksum(header), at: headerOffset + O.headerCRC32)
  }

  /// Recomputes PartitionEntryArrayCRC32 from the array the header points at, then HeaderCRC32.
  static func refreshEntriesCRC(_ image: inout [UInt8], headerOffset: Int, sectorSize: Int = 512) {
    let lba: UInt64 = image.littleEndian(at: headerOffset + O.partitionEntryLBA) ?? 0
    let count: UInt32 = image.littleEndian(at: headerOffset + O.numberOfPartitionEntries) ?? 0
    let size: UInt32 = image.littleEndian(at: headerOffset + O.sizeOfPartitionEntry) ?? 0
    guard lba < UInt64(image.count / sectorSize) else { return refreshHeaderCRC(&image, headerOffset: headerOffset) }
    let start = Int(lba) * sectorSize
    let length = Int(count) * Int(size)
    guard length <= image.count - start else { return refreshHeaderCRC(&image, headerOffset: headerOffset) }
    let array = Array(image[start..<(start + length)])
    image.storeLittleEndian(CRC32.checksum(array), at: headerOffset + O.partitionEntryArrayCRC32)
    refreshHeaderCRC(&image, headerOffset: headerOffset)
  }
}
