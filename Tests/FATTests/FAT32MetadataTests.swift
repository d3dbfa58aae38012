import DiskFormat
import FAT
import Foundation
import TestSupport
import Testing

/// FAT32's extra metadata on a volume mkfs.fat made: the FSInfo hints, the backup boot sector,
/// the dirty bits, the FAT copies. Each damaged field is a finding at its absolute offset.
@Suite("FAT32 metadata", .enabled(if: hasTool("mkfs.fat")))
struct FAT32MetadataTests {
  static let image: [UInt8] = {
    guard let dir = try? TestPaths.scratchDirectory("fat32-meta") else { return [] }
    let path = dir.appendingPathComponent("v.img").path
    guard (try? run("mkfs.fat", ["-C", "-F", "32", "-n", "META", "-i", "0BADCAFE", path, "40960"]))?.status == 0
    else { return [] }
    return (try? Array(Data(contentsOf: URL(fileURLWithPath: path)))) ?? []
  }()

  func check(_ bytes: [UInt8]) throws -> [Finding] {
    try FATVolume(source: MemoryImage(bytes)).check().findings
  }

  @Test func theFreshVolumeIsClean() throws {
    try #require(!Self.image.isEmpty)
    let fat = try FATVolume(source: MemoryImage(Self.image))
    #expect(fat.type == .fat32)
    #expect(fat.fsInfo?.freeCount == fat.freeClusterCount)
    #expect(try fat.check().findings.isEmpty)
  }

  @Test("a wrong FSInfo free count is found; the hint is not believed")
  func freeCount() throws {
    var bytes = Self.image
    try #require(!bytes.isEmpty)
    let fsInfo = Int(bytes.littleEndian(UInt16.self, at: 0x30) ?? 1) * 512
    bytes.storeLittleEndian(UInt32(7), at: fsInfo + 488)
    let fat = try FATVolume(source: MemoryImage(bytes))
    #expect(fat.freeClusterCount != 7)
    let findings = try check(bytes)
    #expect(findings.map(\.kind) == ["fsInfoFreeCountWrong"])
    #expect(findings.first?.offset == Int64(fsInfo + 488))
  }

  @Test("a bad FSInfo signature is found")
  func fsInfoSignature() throws {
    var bytes = Self.image
    try #require(!bytes.isEmpty)
    let fsInfo = Int(bytes.littleEndian(UInt16.self, at: 0x30) ?? 1) * 512
    bytes[fsInfo + 484] ^= 0xFF
    #expect(try check(bytes).map(\.kind) == ["fsInfoInvalid"])
  }

  @Test("a backup boot sector that differs is found at the first differing byte")
  func backupBootSector() throws {
    var bytes = Self.image
    try #require(!bytes.isEmpty)
    let backup = Int(bytes.littleEndian(UInt16.self, at: 0x32) ?? 6) * 512
    bytes[backup + 0x43] ^= 0x01  // BS_VolID in the copy
    let findings = try check(bytes)
    #expect(findings.map(\.kind) == ["backupBootSectorDiffers"])
    #expect(findings.first?.offset == Int64(backup + 0x43))
  }

  @Test("the dirty bit in the boot sector and the clean-shutdown bit in FAT entry 1 are found")
  func dirtyBits() throws {
    var bytes = Self.image
    try #require(!bytes.isEmpty)
    bytes[0x41] |= 0x01
    #expect(try check(bytes).map(\.kind).contains("dirtyBit"))
    var flags = Self.image
    let fat = Int(flags.littleEndian(UInt16.self, at: 0x0E) ?? 32) * 512
    flags[fat + 7] &= ~0x08  // FAT[1] bit 27: clean shutdown
    #expect(try check(flags).map(\.kind).contains("dirtyBit"))
  }

  @Test("FAT copies that differ are found in the second copy")
  func fatCopies() throws {
    var bytes = Self.image
    try #require(!bytes.isEmpty)
    let reserved = Int(bytes.littleEndian(UInt16.self, at: 0x0E) ?? 32)
    let fatSectors = Int(bytes.littleEndian(UInt32.self, at: 0x24) ?? 0)
    let second = (reserved + fatSectors) * 512
    bytes[second + 100] = 0x42
    let findings = try check(bytes)
    #expect(findings.map(\.kind) == ["fatCopiesDiffer"])
    #expect(findings.first?.offset == Int64(second + 100))
  }
}
