import Archive
import BootBanks
import BootConfig
import Checksum
import DiskFormat
import FAT
import PartitionTable

/// One parser driven by arbitrary bytes: what a libFuzzer target runs for each input.
///
/// Every call ends in a value or a thrown error; a trap, a hang or an unbounded allocation is a
/// bug in the parser. The same functions replay a saved input in the tests and in
/// `bootbank-fuzz TARGET FILE...`.
public enum FuzzTarget: String, CaseIterable, Sendable {
  /// `PartitionTable.read` (Linux's and the loader's view, sector size detected and forced),
  /// `LoaderTable.read` at 512 and 4096 bytes per sector, and the bank search over the result.
  case partitionTable = "partition-table"
  /// `FATVolume`: open, check, label, allocation map, walk, lookups, file runs; and `LoaderFAT`
  /// opening the volume and loading `BOOT.CFG` from its root directory.
  case fat
  /// `BootConfig`: both loader parses, the writer's view, lint, the bank options, the module
  /// list and the in-place edits.
  case bootConfig = "boot-config"
  /// `LoaderReplay.run` over banks whose boot.cfg bytes come from the input.
  case loaderReplay = "loader-replay"
  /// `TarGzReader` over a .tgz, or `TarReader` over a plain tar stream, extracting every member.
  case archive
  /// `ImageDatabase` over an imgdb.tgz whose profile and VIB descriptor are the input's XML.
  case imageDatabase = "image-database"

  /// Feeds `bytes` to the parser.
  public func run(_ bytes: [UInt8]) {
    switch self {
    case .partitionTable: Self.partitionTable(bytes)
    case .fat: Self.fat(bytes)
    case .bootConfig: Self.bootConfig(bytes)
    case .loaderReplay: Self.loaderReplay(bytes)
    case .archive: Self.archive(bytes)
    case .imageDatabase: Self.imageDatabase(bytes)
    }
  }
}

extension FuzzTarget {
  static func partitionTable(_ bytes: [UInt8]) {
    for sectorSize in [512, 4096] {
      let image = MemoryImage(bytes, name: "fuzz", sectorSize: sectorSize)
      _ = try? LoaderTable.read(from: image, sectorSize: sectorSize)
      _ = try? PartitionTable.read(from: image, sectorSize: sectorSize)
    }
    let image = MemoryImage(bytes, name: "fuzz")
    guard let layout = try? PartitionTable.read(from: image) else { return }
    let banks = BankDiscovery.scan(image, layout: layout)
    _ = LoaderReplay.run(banks.map(\.candidate))
  }

  /// Most clusters a fuzzed volume keeps (`boundedVolume`).
  static let maximumFuzzedClusters: UInt32 = 8192

  /// The input with its boot sector's total sector count lowered so that the volume has at
  /// most `maximumFuzzedClusters` clusters; any other input unchanged.
  ///
  /// The FAT checks, the allocation map and the lost-cluster count each walk every cluster the
  /// boot sector declares: a bank seed (64 Ki clusters) cost milliseconds per execution
  /// whatever the fuzzer changed. The type does not depend on the count here (FAT32 is
  /// `BPB_FATSz16 == 0`, FAT12 below 4085 clusters), so FAT12, FAT16 and FAT32 volumes all
  /// stay in reach, with their FATs, directories and files where the input put them.
  static func boundedVolume(_ bytes: [UInt8]) -> [UInt8] {
    guard bytes.count >= 512, let boot = try? BootSector(parsing: bytes.span.extracting(0..<512), at: 0),
      boot.clusterCount > maximumFuzzedClusters
    else { return bytes }
    let rootSectors = (boot.rootEntryCount * 32 + boot.bytesPerSector - 1) / boot.bytesPerSector
    let dataStart = boot.reservedSectors + boot.fatCount * Int(boot.sectorsPerFAT) + rootSectors
    let total = dataStart + Int(maximumFuzzedClusters) * boot.sectorsPerCluster
    var bounded = bytes
    if boot.totalSectors16 != 0, total <= Int(UInt16.max) {
      bounded.storeLittleEndian(UInt16(total), at: 0x13)
    } else {
      bounded.storeLittleEndian(UInt16(0), at: 0x13)
      bounded.storeLittleEndian(UInt32(total), at: 0x20)
    }
    return bounded
  }

  static func fat(_ input: [UInt8]) {
    let bytes = boundedVolume(input)
    let image = MemoryImage(bytes, name: "fuzz")
    if let volume = try? FATVolume(source: image) {
      _ = try? volume.check()
      _ = try? volume.label()
      _ = volume.allocationMap().usedRanges
      var entries: [FATEntry] = []
      _ = try? volume.walk { entries.append($0) }
      for entry in entries.prefix(256) {
        _ = volume.clusterChain(of: entry)
        if !entry.isDirectory { try? volume.forEachRun(of: entry) { _ in } }
      }
      // A lookup lists every directory on the path: a few are enough to cover it.
      for entry in entries.prefix(4) { _ = try? volume.lookup(entry.path) }
      _ = try? volume.lookup("/boot.cfg")
    }
    for sectorSize in [512, 4096] {
      guard let loader = try? LoaderFAT(source: image, base: 0, sectorSize: sectorSize) else { continue }
      if let found = try? loader.searchRoot(shortName: LoaderFAT.shortName("/boot.cfg")) {
        _ = try? loader.contents(of: found, maximumSize: BankDiscovery.maximumBootConfigBytes)
      }
    }
  }

  static func bootConfig(_ bytes: [UInt8]) {
    let config = BootConfig(bytes: bytes)
    _ = config.lint()
    _ = config.findings(partition: 5)
    _ = config.bankOptions
    _ = (config.kernel, config.kernelOptions, config.title, config.prefix, config.kernelItem)
    _ = (config.modules, config.acpiTables)
    for line in config.lines { _ = config.optionName(of: line) }
    _ = try? config.settingBootstateInPlace(2)
    _ = try? config.settingUpdatedInPlace(12)
    _ = config.serialized(bootstate: 1, updated: 7)
  }

  /// The input's first byte holds flags: bit 7 asks for a rollback (Shift+R), bits 0–3 say
  /// which banks have the VMware magic, bits 4–6 which refuse writes. The rest is up to four
  /// boot.cfg files separated by 0xFF bytes (a byte no text file holds).
  static func loaderReplay(_ bytes: [UInt8]) {
    guard let flags = bytes.first else { return }
    let files = bytes.dropFirst().split(separator: 0xFF, maxSplits: 3, omittingEmptySubsequences: false)
    var candidates: [BankCandidate] = []
    for (index, file) in files.enumerated() {
      let hasMagic = flags & (1 << index) != 0
      let uuid = hasMagic ? BankUUID(bytes: (0..<16).map { UInt8(truncatingIfNeeded: index &* 17 &+ $0) }) : nil
      let writesFail = index < 3 && flags & (0x10 << index) != 0
      candidates.append(
        BankCandidate(partition: index + 5, uuid: uuid, bootConfig: Array(file), writesFail: writesFail))
    }
    let choice = LoaderReplay.run(candidates, rollbackRequested: flags & 0x80 != 0)
    // The states the loader wrote are read again by the next boot.
    let next = candidates.map { candidate in
      var again = candidate
      if let written = choice.writtenBootConfigs[candidate.partition] { again.bootConfig = written }
      return again
    }
    _ = LoaderReplay.run(next)
  }

  /// A gzip stream (by its magic) is read as a .tgz, anything else as a plain tar stream. The
  /// input's length picks the inflate library, so both are exercised.
  static func archive(_ bytes: [UInt8]) {
    var extractor = TarExtractor(maxMemberSize: 1 << 20, maxTotalSize: 8 << 20) { _ in true }
    if GzipDecoder.looksLikeGzip(bytes.span) {
      let backend: InflateBackend = bytes.count % 2 == 0 ? .isal : .zlib
      let reader = TarGzReader(gzip: GzipDecoder(backend: backend, maxOutput: 16 << 20))
      // Two chunks, as a stream arrives.
      let half = bytes.count / 2
      do {
        try reader.feed(Array(bytes[..<half]), to: &extractor)
        try reader.feed(Array(bytes[half...]), to: &extractor)
        _ = try reader.finish()
      } catch {}
    } else {
      var reader = TarReader(limits: TarReader.Limits(maxMembers: 10_000))
      do {
        try reader.feed(bytes.span, to: &extractor)
        _ = try reader.finish()
      } catch {}
    }
  }

  /// The input is one XML document, stored as both the image profile and a VIB descriptor of
  /// an imgdb.tgz (ustar members in a gzip stream of stored deflate blocks).
  static func imageDatabase(_ bytes: [UInt8]) {
    let tar =
      TarBuilder.member(ImageDatabase.profilesDirectory + "fuzz", bytes)
      + TarBuilder.member(ImageDatabase.vibsDirectory + "fuzz.xml", bytes) + [UInt8](repeating: 0, count: 1024)
    guard let database = try? ImageDatabase(imgdb: TarBuilder.gzipStored(tar)) else { return }
    for vib in database.vibs {
      _ = database.vib(id: vib.id)
      for payload in vib.payloads { _ = vib.payload(named: payload.name) }
    }
  }
}
