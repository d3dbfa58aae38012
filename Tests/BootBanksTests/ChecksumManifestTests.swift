import BootBanks
import DiskFormat
import Testing

/// The one comparison of saved digests with new ones, as `checksum --check` and
/// `verify --manifest` both report it.
@Suite("saved manifest comparison")
struct ChecksumManifestTests {
  typealias File = ChecksumManifest.File

  static func file(_ path: String, size: Int64 = 10, crc: String? = "aa", sha256: String? = "bb", sha1: String? = nil)
    -> File
  {
    File(partition: 5, path: path, size: size, crc32: crc, sha256: sha256, sha1: sha1)
  }

  @Test("each kind of difference, once")
  func differences() {
    let saved = [Self.file("/a"), Self.file("/b"), Self.file("/c"), Self.file("/d"), Self.file("/gone")]
    let now = [
      Self.file("/A"),  // FAT names compare case-insensitively
      Self.file("/b", size: 11),
      Self.file("/c", sha256: "xx"),
      Self.file("/new"),
    ]
    let unreadable = [Finding.error("unreadableSector", "bad", partition: 5, path: "/d")]
    let findings = ChecksumManifest.compareFiles(saved: saved, now: now, unreadable: unreadable)
    #expect(findings.map(\.kind) == ["fileChanged", "fileChanged", "fileMissing", "fileAdded"])
    #expect(findings.map(\.path) == ["/b", "/c", "/gone", "/new"])
    #expect(findings.map(\.severity) == [.error, .error, .error, .warning])
    #expect(findings[1].message == "partition 5: /c changed: SHA-256 xx, saved bb")
  }

  @Test("every digest the saved file has is compared, not only SHA-256")
  func everyAlgorithm() {
    let crcOnly = Self.file("/a", crc: "aa", sha256: nil)
    #expect(ChecksumManifest.compare(savedFile: crcOnly, now: Self.file("/a", crc: "ab", sha256: nil)) != nil)
    #expect(ChecksumManifest.compare(savedFile: crcOnly, now: Self.file("/a", crc: "aa", sha256: nil)) == nil)
    let sha1Only = Self.file("/a", crc: nil, sha256: nil, sha1: "11")
    let changed = ChecksumManifest.compare(savedFile: sha1Only, now: Self.file("/a", crc: nil, sha256: nil, sha1: "12"))
    #expect(changed?.message == "partition 5: /a changed: SHA-1 12, saved 11")
  }

  @Test("a volume that cannot be read is one finding, not one missing file per saved file")
  func unreadableVolume() {
    let saved = [Self.file("/a"), Self.file("/b")]
    struct NoBootSector: Error {}
    let volume = ChecksumManifest.volumeUnreadable(5, NoBootSector())
    #expect(volume.kind == ChecksumManifest.Difference.volumeUnreadable.rawValue)
    #expect(ChecksumManifest.compareFiles(saved: saved, now: [], unreadable: [volume]).isEmpty)
    #expect(ChecksumManifest.compareFiles(saved: saved, now: []).map(\.kind) == ["fileMissing", "fileMissing"])
  }
}
