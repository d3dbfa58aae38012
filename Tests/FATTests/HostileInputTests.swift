import DiskFormat
import FAT
import Testing

/// Damage no tool makes on purpose: each is a finding or a clear error, in bounded time.
@Suite("Hostile input", .timeLimit(.minutes(1)))
struct HostileInputTests {
  @Test func aCleanVolumeChecksClean() throws {
    var tiny = TinyFAT()
    tiny.addFile(TinyFAT.name83("HELLO", "TXT"), clusters: [2, 3], size: 700)
    tiny.addDirectory(parent: nil, TinyFAT.name83("SUB"), cluster: 4)
    tiny.addFile(directory: 4, TinyFAT.name83("INNER", "BIN"), clusters: [5], size: 10)
    let fat = try FATVolume(source: tiny.image)
    #expect(fat.type == .fat16)
    #expect(Int(fat.clusterCount) == TinyFAT.clusterCount)
    let report = try fat.check()
    #expect(report.findings.isEmpty, "\(report.findings)")
    #expect(report.label == "TINY")
    #expect(report.serial == "1234-ABCD")
    #expect(try fat.contents(of: try #require(try fat.lookup("/sub/inner.bin"))).count == 10)
  }

  @Test("a FAT chain that loops is a finding, and reading it throws")
  func chainLoop() throws {
    var tiny = TinyFAT()
    tiny.addFile(TinyFAT.name83("LOOP", "TXT"), clusters: [2, 3, 4], size: 4 * 512)
    tiny.setFAT(4, 2)  // 2 → 3 → 4 → 2
    tiny.addFile(TinyFAT.name83("SELF", "TXT"), clusters: [6], size: 3 * 512)
    tiny.setFAT(6, 6)  // a cluster that points to itself
    let fat = try FATVolume(source: tiny.image)
    let report = try fat.check()
    let kinds = report.findings.map { "\($0.kind)@\($0.path ?? "")" }
    #expect(kinds.contains("circularChain@/LOOP.TXT"))
    #expect(kinds.contains("circularChain@/SELF.TXT"))
    #expect(kinds.contains("chainShorterThanSize@/LOOP.TXT"))
    let entry = try #require(try fat.lookup("/loop.txt"))
    #expect(fat.clusterChain(of: entry).end == .loop(at: 2))
    let error = #expect(throws: FormatError.self) { try fat.forEachRun(of: entry) { _ in } }
    #expect(error?.structure == "cluster chain")
  }

  @Test("a directory that contains itself or its parent is a finding, and the walk ends")
  func directoryLoop() throws {
    var tiny = TinyFAT()
    tiny.addDirectory(parent: nil, TinyFAT.name83("A"), cluster: 10)
    tiny.addDirectory(parent: 10, TinyFAT.name83("B"), cluster: 11)
    tiny.addEntry(directory: 10, name: TinyFAT.name83("SELF"), attributes: 0x10, cluster: 10, size: 0)
    tiny.addEntry(directory: 11, name: TinyFAT.name83("UP"), attributes: 0x10, cluster: 10, size: 0)
    let fat = try FATVolume(source: tiny.image)
    var visited = 0
    let walkFindings = try fat.walk { _ in visited += 1 }
    #expect(visited == 4)  // A, A/B, A/SELF, A/B/UP: listed, never entered
    #expect(Set(walkFindings.map(\.path)) == ["/A/SELF", "/A/B/UP"])
    let report = try fat.check()
    let loops = report.findings.filter { $0.kind == "directoryLoop" }.compactMap(\.path)
    #expect(Set(loops) == ["/A/SELF", "/A/B/UP"])
  }

  @Test("clusters out of range and shared clusters are findings")
  func outOfRangeAndCrossLinks() throws {
    var tiny = TinyFAT()
    tiny.addFile(TinyFAT.name83("FIRST"), clusters: [20, 21, 22], size: 3 * 512)
    tiny.addFile(TinyFAT.name83("SECOND"), clusters: [30, 21], size: 3 * 512)  // joins FIRST
    tiny.setFAT(21, 22)
    tiny.addFile(TinyFAT.name83("WILD"), clusters: [40], size: 2 * 512)
    tiny.setFAT(40, 0xFFF0)  // past the last cluster, below the bad mark
    tiny.addEntry(directory: nil, name: TinyFAT.name83("FAR"), attributes: 0x20, cluster: 0xFF00, size: 5)
    tiny.setFAT(50, 1)  // lost, and a value no cluster can have
    let report = try FATVolume(source: tiny.image).check()
    let kinds = Set(report.findings.map { "\($0.kind)@\($0.path ?? "")" })
    #expect(kinds.contains("sharedClusters@/SECOND"))
    #expect(kinds.contains("chainOutOfRange@/WILD"))
    #expect(kinds.contains("fatEntryOutOfRange@"))
    #expect(kinds.contains("badFirstCluster@/FAR"))
    #expect(kinds.contains("lostClusters@"))
  }

  @Test(
    "absurd BPB values are errors naming the field",
    arguments: [
      (offset: 0x0B, value: [UInt8]([0x00, 0x00]), field: "BPB_BytsPerSec"),
      (offset: 0x0B, value: [0x00, 0x03], field: "BPB_BytsPerSec"),
      (offset: 0x0B, value: [0x00, 0x20], field: "BPB_BytsPerSec"),
      (offset: 0x0D, value: [3], field: "BPB_SecPerClus"),
      (offset: 0x0E, value: [0, 0], field: "BPB_RsvdSecCnt"),
      (offset: 0x10, value: [0], field: "BPB_NumFATs"),
      (offset: 0x10, value: [200], field: "BPB_NumFATs"),
      (offset: 0x11, value: [0, 0], field: "BPB_RootEntCnt"),
      (offset: 0x13, value: [0, 0], field: "BPB_TotSec32"),
      (offset: 0x13, value: [0xFF, 0xFF], field: "BPB_FATSz16"),  // more clusters than the FAT holds
      (offset: 0x15, value: [0x12], field: "BPB_Media"),
      (offset: 0x16, value: [0xFF, 0xFF], field: "BPB_TotSec16"),  // FATs larger than the volume
      (offset: 0x00, value: [0x00], field: "BS_jmpBoot"),
      (offset: 0x1FE, value: [0x00, 0x00], field: "Signature_word"),
    ])
  func absurdBPB(offset: Int, value: [UInt8], field: String) {
    var tiny = TinyFAT()
    tiny.bytes.replaceSubrange(offset..<(offset + value.count), with: value)
    let error = #expect(throws: FormatError.self) { try FATVolume(source: tiny.image) }
    #expect(error?.field == field)
  }

  @Test("a FAT32 BPB whose FATs run past the source is an error, not an allocation")
  func hugeFAT32() {
    var tiny = TinyFAT()
    tiny.bytes.storeLittleEndian(UInt16(0), at: 0x16)  // FATSz16 = 0: FAT32
    tiny.bytes.storeLittleEndian(UInt16(0), at: 0x11)
    tiny.bytes.storeLittleEndian(UInt16(0), at: 0x13)
    tiny.bytes.storeLittleEndian(UInt32(0x1000_0000), at: 0x20)  // 128 GiB
    tiny.bytes.storeLittleEndian(UInt32(0x0100_0000), at: 0x24)  // 8 GiB per FAT
    tiny.bytes.storeLittleEndian(UInt32(0), at: 0x28)  // BPB_ExtFlags, BPB_FSVer
    tiny.bytes.storeLittleEndian(UInt32(2), at: 0x2C)
    let error = #expect(throws: FormatError.self) { try FATVolume(source: tiny.image) }
    #expect(error?.field == "BPB_FATSz32")
  }

  @Test("a truncated volume is a finding; reading past the end throws")
  func truncated() throws {
    var tiny = TinyFAT()
    tiny.addFile(TinyFAT.name83("EARLY"), clusters: [2], size: 100)
    tiny.addFile(TinyFAT.name83("LATE"), clusters: [8000], size: 100)
    let cut = MemoryImage(Array(tiny.bytes.prefix(tiny.bytes.count / 2)), name: "cut.img")
    let fat = try FATVolume(source: cut)
    let report = try fat.check()
    #expect(report.findings.contains { $0.kind == "volumeTruncated" })
    #expect(try fat.contents(of: try #require(try fat.lookup("/EARLY"))).count == 100)
    #expect(throws: ReadError.self) { try fat.contents(of: try #require(try fat.lookup("/LATE"))) }
  }

  @Test("too small to hold a boot sector")
  func tiny() {
    #expect(throws: FormatError.self) { try FATVolume(source: MemoryImage([0xEB, 0x3C])) }
  }

  @Test("offsets in findings and errors are absolute when the volume is a partition slice")
  func absoluteOffsets() throws {
    var tiny = TinyFAT()
    tiny.addFile(TinyFAT.name83("LOOP"), clusters: [2, 3], size: 3 * 512)
    tiny.setFAT(3, 2)
    let disk = MemoryImage([UInt8](repeating: 0, count: 1 << 20) + tiny.bytes)
    let fat = try FATVolume(source: disk.slice(Int64(1 << 20)..<Int64(disk.byteCount)))
    #expect(fat.baseOffset == 1 << 20)
    let finding = try #require(try fat.check().findings.first { $0.kind == "circularChain" })
    // The FAT entry of cluster 3, in FAT 1, counted from the start of the disk.
    #expect(finding.offset == Int64(1 << 20) + Int64(TinyFAT.fatOffset) + 3 * 2)
    var bad = tiny.bytes
    bad[0x15] = 0x12
    let badDisk = MemoryImage([UInt8](repeating: 0, count: 4096) + bad)
    let error = #expect(throws: FormatError.self) {
      try FATVolume(source: badDisk.slice(4096..<Int64(badDisk.byteCount)))
    }
    #expect(error?.offset == Int64(4096 + 0x15), "\(String(describing: error))")
  }
}
