import DiskFormat
import FAT
import Foundation
import TestSupport
import Testing

/// A FAT16 volume whose boot sector, FAT, directory slots (long names included) were written
/// by our encoders, read by fsck.fat and mtools.
@Suite("FAT encoders against fsck.fat and mtools")
struct FATEncoderOracleTests {
  static let toolsPresent = hasTool("fsck.fat") && hasTool("mdir") && hasTool("mtype")

  /// The volume: TinyFAT's geometry with our own label, a long-named file of three clusters
  /// and a subdirectory holding a lower-case 8.3 file.
  static func volume() throws -> [UInt8] {
    var image = TinyFAT().bytes
    var boot = try BootSector(parsing: image.span, at: 0)
    boot.volumeID = 0xCAFE_F00D
    boot.volumeLabel = Array("ENCODED".utf8)
    image.replaceSubrange(0..<BootSector.size, with: boot.encoded())

    let fatBytes = Int(boot.fatByteCount)
    var fat = [UInt8](repeating: 0, count: fatBytes)
    for (cluster, value) in [(0, 0xFFF8), (1, 0xFFFF), (2, 3), (3, 4), (4, 0xFFFF), (5, 0xFFFF), (6, 0xFFFF)] {
      AllocationTable.store(UInt32(value), at: UInt32(cluster), type: .fat16, in: &fat)
    }
    for copy in 0..<boot.fatCount {
      image.replaceSubrange(Int(boot.fatOffset(copy: copy))..<Int(boot.fatOffset(copy: copy)) + fatBytes, with: fat)
    }

    let when = FATTimestamp(year: 2024, month: 5, day: 17, hour: 10, minute: 30, second: 42)
    let short = Array("LONGFI~1TXT".utf8)
    var root = DirectoryEntry(rawName: Array("ENCODED    ".utf8), attributes: .volumeLabel, firstCluster: 0, size: 0)
      .encoded(fat32: false)
    root += LongNameSlot.slots(for: "Long File Name, encoded.txt", shortName: short)!.flatMap { $0.encoded() }
    root += DirectoryEntry(
      rawName: short, attributes: .archive, created: when, accessed: when, modified: when, firstCluster: 2,
      size: 1500
    ).encoded(fat32: false)
    root += DirectoryEntry(
      rawName: Array("SUB        ".utf8), attributes: .directory, modified: when, firstCluster: 5, size: 0
    )
    .encoded(fat32: false)
    image.replaceSubrange(Int(boot.rootDirectoryOffset)..<Int(boot.rootDirectoryOffset) + root.count, with: root)

    var sub = DirectoryEntry(
      rawName: Array(".          ".utf8), attributes: .directory, modified: when, firstCluster: 5, size: 0
    )
    .encoded(fat32: false)
    sub += DirectoryEntry(
      rawName: Array("..         ".utf8), attributes: .directory, modified: when, firstCluster: 0, size: 0
    )
    .encoded(fat32: false)
    sub += DirectoryEntry(
      rawName: Array("NOTES   TXT".utf8), attributes: .archive, caseFlags: DirectoryEntry.lowerCaseBase, modified: when,
      firstCluster: 6, size: 5
    ).encoded(fat32: false)
    image.replaceSubrange(Int(boot.offset(ofCluster: 5))..<Int(boot.offset(ofCluster: 5)) + sub.count, with: sub)

    let content = (0..<1500).map { UInt8(truncatingIfNeeded: $0 &* 7) }
    image.replaceSubrange(
      Int(boot.offset(ofCluster: 2))..<Int(boot.offset(ofCluster: 2)) + content.count, with: content)
    image.replaceSubrange(
      Int(boot.offset(ofCluster: 6))..<Int(boot.offset(ofCluster: 6)) + 5, with: Array("hello".utf8))
    return image
  }

  @Test(
    "fsck.fat checks it clean; mdir and mtype read the names, case, times and bytes we encoded",
    .enabled(if: toolsPresent, "fsck.fat and mtools are not installed"))
  func toolsReadWhatWeWrote() throws {
    let scratch = try ScratchDirectory("fat-encoders")
    let path = scratch.path("volume.img")
    try Data(try Self.volume()).write(to: URL(fileURLWithPath: path))

    let fsck = try run("fsck.fat", ["-n", path])
    #expect(fsck.status == 0, "fsck.fat: \(fsck.text) \(fsck.stderr)")
    let listing = try run("mdir", ["-i", path, "::/"]).text
    #expect(listing.contains("Volume in drive : is ENCODED"))
    #expect(listing.contains("Volume Serial Number is CAFE-F00D"))
    #expect(listing.contains("Long File Name, encoded.txt"))
    #expect(listing.contains("LONGFI~1 TXT      1500 2024-05-17  10:30"))
    let file = try run("mtype", ["-i", path, "::/Long File Name, encoded.txt"]).stdout
    #expect([UInt8](file) == (0..<1500).map { UInt8(truncatingIfNeeded: $0 &* 7) })
    let sub = try run("mdir", ["-i", path, "::/SUB"]).text
    #expect(sub.contains("notes    TXT         5"))  // DIR_NTRes bit 3: the base name only
    #expect(try run("mtype", ["-i", path, "::/SUB/notes.TXT"]).text == "hello")

    // And we read it back as written.
    let fat = try FATVolume(source: MemoryImage(try Self.volume()))
    #expect(try fat.check().findings.isEmpty)
    #expect(try fat.lookup("/Long File Name, encoded.txt")?.created?.second == 42)
  }
}
