import DiskFormat
import FAT
import Testing

/// The FAT volume as ESXi's loader opens and reads it (`LoaderFAT`): esx-boot `libfat/open.c`
/// (`libfat_open`), `libfat/searchdir.c` (`libfat_searchdir`), `libfat/fatchain.c`
/// (`libfat_nextsector`) and `bootlib/file.c` (`fat_get_shortname`, `fat_file_load`).
@Suite("the loader's FAT library")
struct LoaderFATTests {
  struct OpenCase: Sendable, CustomTestStringConvertible {
    var name: String
    var edit: @Sendable (inout [UInt8]) -> Void
    var deviceSectorSize = 512
    /// `nil` when libfat_open accepts the volume; else the refusal's case name.
    var refusal: String?
    var type: FATType? = .fat16
    var testDescription: String { name }
  }

  /// TinyFAT: 8095 clusters, FATSz16 32 (room for 8192 entries).
  static let openCases: [OpenCase] = [
    OpenCase(name: "libfat_open: TinyFAT as built", edit: { _ in }),
    OpenCase(
      name: "libfat_open: BPB_BytsPerSec 1024 differs from the device's 512",
      edit: { $0.storeLittleEndian(UInt16(1024), at: 0x0B) }, refusal: "bytesPerSector"),
    OpenCase(
      name: "libfat_open: a 2048-byte device is neither 512 nor 4096",
      edit: { $0.storeLittleEndian(UInt16(2048), at: 0x0B) }, deviceSectorSize: 2048, refusal: "bytesPerSector"),
    OpenCase(
      name: "libfat_open: BPB_SecPerClus 3", edit: { $0[0x0D] = 3 }, refusal: "sectorsPerCluster"),
    OpenCase(
      name: "libfat_open: no data region (BPB_TotSec16 = 60)",
      edit: { $0.storeLittleEndian(UInt16(60), at: 0x13) }, refusal: "noDataRegion"),
    OpenCase(
      name: "libfat_open: a FAT of 15 sectors is too small for 8095 FAT16 clusters",
      edit: { $0.storeLittleEndian(UInt16(15), at: 0x16) }, refusal: "fatTooSmall"),
    OpenCase(
      name: "libfat_open: 4084 clusters are FAT12 by count alone (BPB says FAT16)",
      edit: { $0.storeLittleEndian(UInt16(4084 + 97), at: 0x13) }, type: .fat12),
    OpenCase(
      name: "libfat_open: no 0x55AA, no media byte, no FAT count checked",
      edit: {
        $0[0x1FE] = 0
        $0[0x1FF] = 0
        $0[0x15] = 0x12
      }),
    OpenCase(
      name: "libfat_open: 65525 clusters are FAT32 to the loader, whose 256-sector FAT is too small",
      edit: {
        // 1 reserved + 2 × 256 FAT + 32 root sectors + 65525 one-sector clusters
        $0.storeLittleEndian(UInt16(0), at: 0x13)
        $0.storeLittleEndian(UInt32(1 + 512 + 32 + 65_525), at: 0x20)
        $0.storeLittleEndian(UInt16(256), at: 0x16)
      }, refusal: "fatTooSmall", type: nil),
  ]

  @Test("libfat_open decides the type by the cluster count and refuses what it cannot read", arguments: openCases)
  func open(_ c: OpenCase) throws {
    var bytes = TinyFAT().bytes
    if c.deviceSectorSize != 512 { bytes += [UInt8](repeating: 0, count: c.deviceSectorSize) }
    c.edit(&bytes)
    let source = MemoryImage(bytes, sectorSize: c.deviceSectorSize)
    do {
      let fat = try LoaderFAT(source: source, base: 0, sectorSize: c.deviceSectorSize)
      #expect(c.refusal == nil, "accepted, expected \(c.refusal ?? "")")
      #expect(fat.type == c.type)
    } catch {
      #expect(Self.caseName(error) == c.refusal, "\(error)")
    }
  }

  static func caseName(_ refusal: LoaderFAT.Refusal) -> String {
    switch refusal {
    case .unreadable: "unreadable"
    case .bytesPerSector: "bytesPerSector"
    case .sectorsPerCluster: "sectorsPerCluster"
    case .noDataRegion: "noDataRegion"
    case .tooManyClusters: "tooManyClusters"
    case .fatTooSmall: "fatTooSmall"
    }
  }

  @Test("ESXi's layout of 65526 16-KiB clusters in a 256-sector FAT is no volume to the loader")
  func esxiLayoutOf65526Clusters() {
    var boot = [UInt8](repeating: 0, count: 512)
    boot.storeLittleEndian(UInt16(512), at: 0x0B)
    boot[0x0D] = 32
    boot.storeLittleEndian(UInt16(2), at: 0x0E)
    boot[0x10] = 2
    boot.storeLittleEndian(UInt16(512), at: 0x11)
    boot.storeLittleEndian(UInt16(256), at: 0x16)
    boot.storeLittleEndian(UInt32(2 + 2 * 256 + 32 + 65_526 * 32), at: 0x20)
    #expect(throws: LoaderFAT.Refusal.fatTooSmall(type: .fat32, clusters: 65_526, neededSectors: 512, fatSectors: 256))
    {
      try LoaderFAT(source: MemoryImage(boot), base: 0, sectorSize: 512)
    }
  }

  @Test(
    "fat_get_shortname",
    arguments: [
      ("/boot.cfg", "BOOT    CFG"), ("boot.cfg", "BOOT    CFG"), ("//b o.c f g", "BO      CFG"),
      ("/verylongname.text", "VERYLONGTEX"), ("/noext", "NOEXT      "),
    ])
  func shortName(_ path: String, _ expected: String) {
    #expect(LoaderFAT.shortName(path) == Array(expected.utf8))
  }

  struct LookupCase: Sendable, CustomTestStringConvertible {
    var name: String
    var build: @Sendable (inout TinyFAT) -> Void
    /// The bytes the loader reads, or `nil` for "not found".
    var found: Bool
    var testDescription: String { name }
  }

  static let bootName = TinyFAT.name83("BOOT", "CFG")

  static let lookupCases: [LookupCase] = [
    LookupCase(
      name: "libfat_searchdir: BOOT.CFG in the root", build: { $0.addFile(bootName, clusters: [2], size: 100) },
      found: true),
    LookupCase(
      name: "libfat_searchdir: a long name boot.cfg over the short name BOOT~1.CFG is not found",
      build: { fat in
        let short = TinyFAT.name83("BOOT~1", "CFG")
        for slot in TinyFAT.longNameSlots("boot.cfg", short: short) { fat.addSlot(directory: nil, slot) }
        fat.addFile(short, clusters: [2], size: 100)
      }, found: false),
    LookupCase(
      name: "libfat_searchdir: lower-case 8.3 bytes are not BOOT    CFG",
      build: { $0.addFile(Array("boot    cfg".utf8), clusters: [2], size: 100) }, found: false),
    LookupCase(
      name: "libfat_searchdir: root only, never a subdirectory",
      build: { fat in
        fat.addDirectory(parent: nil, TinyFAT.name83("SUB"), cluster: 3)
        fat.addFile(directory: 3, bootName, clusters: [4], size: 100)
      }, found: false),
    LookupCase(
      name: "libfat_searchdir: stops at a slot whose first byte is 0",
      build: { fat in
        fat.addFile(TinyFAT.name83("A", "TXT"), clusters: [2], size: 10)
        var slot = [UInt8](repeating: 0, count: 32)
        slot[1] = 0x41
        fat.addSlot(directory: nil, slot)
        let after = fat.freeSlot(directory: nil) + 32
        fat.bytes.replaceSubrange(after..<(after + 11), with: bootName)
      }, found: false),
    LookupCase(
      name: "libfat_searchdir: the attribute byte is not looked at (a directory named BOOT.CFG)",
      build: { $0.addDirectory(parent: nil, bootName, cluster: 3) }, found: true),
  ]

  @Test("BOOT.CFG is looked up by its 8.3 name in the root directory only", arguments: lookupCases)
  func lookup(_ c: LookupCase) throws {
    var fat = TinyFAT()
    c.build(&fat)
    let loader = try LoaderFAT(source: fat.image, base: 0, sectorSize: 512)
    let found = try loader.searchRoot(shortName: LoaderFAT.shortName("/boot.cfg"))
    #expect((found != nil) == c.found)
  }

  @Test("fat_file_load reads DIR_FileSize bytes along the chain, as the Linux reader does")
  func readsAlongTheChain() throws {
    var fat = TinyFAT()
    fat.addFile(Self.bootName, clusters: [2, 7, 5], size: 1200)
    let loader = try LoaderFAT(source: fat.image, base: 0, sectorSize: 512)
    let found = try #require(try loader.searchRoot(shortName: Self.bootName))
    let bytes = try loader.contents(of: found, maximumSize: 1 << 20)
    let linux = try FATVolume(source: fat.image)
    let entry = try #require(try linux.lookup("/BOOT.CFG"))
    #expect(bytes == (try linux.contents(of: entry)))
    #expect(bytes.count == 1200)
  }

  @Test("a chain that runs out of range is a read failure, not a crash")
  func brokenChain() throws {
    var fat = TinyFAT()
    fat.addFile(Self.bootName, clusters: [2], size: 1200)
    fat.setFAT(2, 0xF000)
    let loader = try LoaderFAT(source: fat.image, base: 0, sectorSize: 512)
    let found = try #require(try loader.searchRoot(shortName: Self.bootName))
    #expect(throws: LoaderFAT.ReadFailure.self) { try loader.contents(of: found, maximumSize: 1 << 20) }
  }
}
