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
    var record = [UInt8].zeros(16)
    record[4] = 0xEE
    record.storeLittleEndian(UInt32(1), at: 8)
    record.storeLittleEndian(UInt32(clamping: sectors - 1), at: 12)
    image.put(record, at: 0x1BE)
    image[510] = 0x55
    image[511] = 0xAA

    var array = [UInt8].zeros(Int(entryCount) * Int(entrySize))
    for (index, entry) in entries.enumerated() {
      var raw = [UInt8].zeros(128)
      raw.put(GUID(entry.type)!.bytes, at: 0)
      raw.put(GUID(entry.unique)!.bytes, at: 16)
      raw.storeLittleEndian(entry.first, at: 32)
      raw.storeLittleEndian(entry.last, at: 40)
      raw.storeLittleEndian(entry.attributes, at: 48)
      for (i, unit) in entry.name.utf16.prefix(36).enumerated() { raw.storeLittleEndian(unit, at: 56 + 2 * i) }
      array.put(raw, at: index * Int(entrySize))
    }
    let arrayCRC = CRC32.checksum(array)
    image.put(array, at: 2 * sectorSize)
    image.put(array, at: Int(backupEntriesLBA) * sectorSize)
    image.put(header(myLBA: 1, alternate: lastLBA, entriesLBA: 2, arrayCRC: arrayCRC), at: sectorSize)
    image.put(
      header(myLBA: lastLBA, alternate: 1, entriesLBA: backupEntriesLBA, arrayCRC: arrayCRC),
      at: Int(lastLBA) * sectorSize)
    return image
  }

  func header(myLBA: UInt64, alternate: UInt64, entriesLBA: UInt64, arrayCRC: UInt32) -> [UInt8] {
    var h = [UInt8].zeros(92)
    h.put(Array("EFI PART".utf8), at: 0)
    h.storeLittleEndian(UInt32(0x0001_0000), at: 8)
    h.storeLittleEndian(UInt32(92), at: 12)
    h.storeLittleEndian(myLBA, at: 24)
    h.storeLittleEndian(alternate, at: 32)
    h.storeLittleEndian(firstUsable, at: 40)
    h.storeLittleEndian(lastUsable, at: 48)
    h.put(GUID(diskGUID)!.bytes, at: 56)
    h.storeLittleEndian(entriesLBA, at: 72)
    h.storeLittleEndian(entryCount, at: 80)
    h.storeLittleEndian(entrySize, at: 84)
    h.storeLittleEndian(arrayCRC, at: 88)
    h.storeLittleEndian(CRC32.checksum(h), at: 16)
    return h
  }
}

/// Recomputing CRCs after a deliberate corruption, so that the check behind the CRC fires.
enum GPTFixup {
  /// Recomputes HeaderCRC32 of the header at `headerOffset` (over its HeaderSize, clamped to 92...512).
  static func refreshHeaderCRC(_ image: inout [UInt8], headerOffset: Int) {
    let stored: UInt32 = image.littleEndian(at: headerOffset + 12) ?? 92
    let size = Int(min(max(stored, 92), 512))
    var header = Array(image[headerOffset..<(headerOffset + size)])
    header.storeLittleEndian(UInt32(0), at: 16)
    image.storeLittleEndian(CRC32.checksum(header), at: headerOffset + 16)
  }

  /// Recomputes PartitionEntryArrayCRC32 from the array the header points at, then HeaderCRC32.
  static func refreshEntriesCRC(_ image: inout [UInt8], headerOffset: Int, sectorSize: Int = 512) {
    let lba: UInt64 = image.littleEndian(at: headerOffset + 72) ?? 0
    let count: UInt32 = image.littleEndian(at: headerOffset + 80) ?? 0
    let size: UInt32 = image.littleEndian(at: headerOffset + 84) ?? 0
    guard lba < UInt64(image.count / sectorSize) else { return refreshHeaderCRC(&image, headerOffset: headerOffset) }
    let start = Int(lba) * sectorSize
    let length = Int(count) * Int(size)
    guard length <= image.count - start else { return refreshHeaderCRC(&image, headerOffset: headerOffset) }
    let array = Array(image[start..<(start + length)])
    image.storeLittleEndian(CRC32.checksum(array), at: headerOffset + 88)
    refreshHeaderCRC(&image, headerOffset: headerOffset)
  }
}
