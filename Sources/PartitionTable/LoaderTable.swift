import Checksum
import DiskFormat

/// The volumes ESXi's boot loader finds on a disk, walked exactly as its own code walks the
/// table, which is not how Linux walks it.
///
/// The loader asks `get_max_volume()` for the highest volume number, then `get_volume_info()`
/// for each number from 1 (`bootlib/volume.c`):
/// - GPT only when MBR record 1 is protective (type 0xEE, StartingLBA 1, BootIndicator 0).
///   `gpt_read_header()` (`bootlib/gpt.c`) checks the primary header's Signature, MyLBA = 1 and
///   its CRC over HeaderSize bytes (HeaderSize itself is not range-checked); a header that fails
///   gives no volume at all. `gpt_get_part_info()` reads the whole entry array and checks its
///   CRC; when that fails it answers "not found" and `get_volume_info()` reads MBR record (or
///   logical partition) N instead, so a hybrid MBR can expose a volume. AlternateLBA, the usable
///   range, overlapping entries and the backup GPT are never looked at. The loader keeps a
///   volume's start and size in 32-bit fields (`mbr_part_t`).
/// - Otherwise MBR (`bootlib/mbr.c`): sector 0's 0x55AA and the BootIndicators are not checked.
///   Records 1–4 are volumes 1–4. The first extended record (0x05, 0x0F, 0x85) holds the EBR
///   chain: every EBR must end in 0x55AA; an EBR whose first record is extended stops the walk;
///   every other EBR counts one volume number from 5, an empty first record included; the next
///   EBR is the second record's StartingLBA alone (whatever its type) relative to the extended
///   partition, followed even outside it, until it is 0. A logical partition that does not lie
///   inside the extended partition is rejected (`mbr_to_partinfo`: `ERR_VOLUME_CORRUPTED`).
///
/// Where the loader meets an unreadable sector it gets an error for that volume; here, an LBA
/// past the end of the image is unreadable.
public struct LoaderTable: Hashable, Sendable, Codable {
  /// Which table the loader's volumes come from.
  public enum Scheme: String, Hashable, Sendable, Codable {
    /// The primary GPT passes the loader's checks.
    case gpt
    /// Sector 0 is not a protective MBR for the loader: MBR records and the EBR chain.
    case mbr
    /// A protective MBR whose primary GPT header passes but whose entry array fails its CRC:
    /// the loader reads MBR records (a hybrid MBR) in its place.
    case mbrInsteadOfGPT
    /// The primary GPT header fails the loader's checks: `get_max_volume()` answers 0 and the
    /// loader looks at no volume.
    case none
  }

  public var scheme: Scheme
  /// `get_max_volume()`: the loader looks at volumes 1 through this.
  public var maxVolume: Int
  /// The volumes `get_volume_info()` answers, in volume order, empty entries left out. Their
  /// `number` is the loader's volume id.
  public var volumes: [Partition]
  /// Volume ids the loader cannot use, and where its walk stops: each says why.
  public var findings: [Finding]
  /// One sentence when the loader does not read the table as the disk intends (no volume at
  /// all, or MBR records instead of the GPT); `nil` when it reads it.
  public var problem: String?

  /// MBR types the loader takes for FAT (`vmfat_get_uuid`): FAT12, FAT16 < 32 MiB, FAT16,
  /// FAT32, FAT32 LBA, FAT16 LBA, EFI.
  public static let fatMBRTypes: Set<UInt8> = [0x01, 0x04, 0x06, 0x0B, 0x0C, 0x0E, 0xEF]

  /// Whether any volume is of a type the loader looks for a FAT volume in (GPT basic data or
  /// ESP, or an MBR FAT type).
  public var hasFATVolume: Bool { hasFATVolume(within: UInt64.max) }

  /// Whether a volume of a FAT type has its second sector (where the loader reads the VMware
  /// magic) below LBA `sectors`.
  public func hasFATVolume(within sectors: UInt64) -> Bool {
    volumes.contains { v in
      guard v.firstLBA < sectors &- 1 else { return false }
      if let type = v.typeGUID?.description {
        return type == PartitionType.microsoftBasicData || type == PartitionType.efiSystem
      }
      return v.mbrType.map(Self.fatMBRTypes.contains) ?? false
    }
  }

  /// The most volume ids modelled: far more than any ESXi disk uses. A header claiming more
  /// makes the loader read its entry array that many times.
  public static let maximumVolumes = 4096
  /// The most EBRs followed. The loader's own walk has no bound: a chain that loops hangs it.
  public static let maximumEBRs = 128
  /// The largest entry array read (as `GPTTable.maxEntryArrayBytes`).
  public static let maximumEntryArrayBytes: UInt32 = 16 << 20

  /// Walks `source` as the loader does.
  ///
  /// - Parameters:
  ///   - source: The disk.
  ///   - sectorSize: The logical sector size (the loader's `bytes_per_sector`).
  /// - Throws: `ReadError` only when the medium fails; what lies past the end of the image is
  ///   an unreadable sector, reported in `findings`.
  public static func read(from source: any ByteSource, sectorSize: Int) throws -> LoaderTable {
    var walker = Walker(source: source, sectorSize: sectorSize)
    return try walker.run()
  }
}

extension LoaderTable {
  /// One MBR-style record as `mbr_part_t` holds it.
  struct Record {
    var flags: UInt8
    var type: UInt8
    var startLBA: UInt32
    var sectors: UInt32

    init(_ sector: [UInt8], slot: Int) {
      let at = MBR.entryOffset(slot)
      flags = sector[at]
      type = sector[at + 4]
      startLBA = sector.littleEndian(UInt32.self, at: at + 8) ?? 0
      sectors = sector.littleEndian(UInt32.self, at: at + 12) ?? 0
    }

    var isExtended: Bool { PartitionType.isExtended(type) }
  }

  struct Walker {
    let source: any ByteSource
    let sectorSize: Int
    let sectors: UInt64
    var findings: [Finding] = []
    var cachedChain: [(lba: UInt32, ebr: [UInt8])]?

    init(source: any ByteSource, sectorSize: Int) {
      self.source = source
      self.sectorSize = sectorSize
      sectors = UInt64(max(0, source.byteCount) / Int64(sectorSize))
    }

    /// `disk_read()` of `count` sectors: nil when they are not all on the disk.
    func readSectors(_ lba: UInt64, count: UInt64 = 1) throws -> [UInt8]? {
      let (end, o1) = lba.addingReportingOverflow(count)
      let (bytes, o2) = count.multipliedReportingOverflow(by: UInt64(sectorSize))
      guard !o1, !o2, end <= sectors, let length = Int(exactly: bytes),
        let offset = Int64(exactly: lba * UInt64(sectorSize))
      else { return nil }
      return try source.read(at: offset, count: length)
    }

    mutating func run() throws -> LoaderTable {
      guard let mbr = try readSectors(0) else {
        return LoaderTable(
          scheme: .none, maxVolume: 0, volumes: [], findings: [], problem: "the loader cannot read sector 0")
      }
      let first = Record(mbr, slot: 0)
      // PART_IS_PROTECTIVE_MBR
      guard first.type == 0xEE, first.startLBA == 1, first.flags == 0 else {
        let max = try mbrMaxVolume(mbr)
        var volumes: [Partition] = []
        for id in 1...max { if let v = try mbrVolume(mbr, id: id) { volumes.append(v) } }
        return LoaderTable(scheme: .mbr, maxVolume: max, volumes: volumes, findings: findings, problem: nil)
      }
      let header: Header
      switch try readHeader() {
      case .success(let h): header = h
      case .failure(let why):
        let problem = "the loader cannot read the primary GPT (\(why)), so it looks at no partition"
        findings.append(Finding(.error, "loaderRejectsPrimaryGPT", problem, lba: 1))
        return LoaderTable(scheme: .none, maxVolume: 0, volumes: [], findings: findings, problem: problem)
      }
      let max = Swift.min(Int(header.numberOfEntries), LoaderTable.maximumVolumes)
      if Int(header.numberOfEntries) > max {
        findings.append(
          Finding(
            .warning, "loaderTooManyVolumes",
            "the primary GPT has \(header.numberOfEntries) entries: the loader would read its entry array once for each; only the first \(max) are modelled",
            offset: Int64(sectorSize) + Int64(GPTHeader.Offset.numberOfPartitionEntries), lba: 1))
      }
      switch try readEntryArray(header) {
      case .success(let array):
        var volumes: [Partition] = []
        for id in Swift.stride(from: 1, through: max, by: 1) {
          if let v = gptVolume(array, header: header, id: id) { volumes.append(v) }
        }
        return LoaderTable(scheme: .gpt, maxVolume: max, volumes: volumes, findings: findings, problem: nil)
      case .failure(.unreadable(let why)):
        let problem = "the loader cannot read the primary GPT's entry array (\(why)), so it looks at no partition"
        findings.append(Finding(.error, "loaderCannotReadEntries", problem, lba: header.entryArrayLBA))
        return LoaderTable(scheme: .none, maxVolume: max, volumes: [], findings: findings, problem: problem)
      case .failure(.crc(let stored, let computed)):
        var volumes: [Partition] = []
        for id in Swift.stride(from: 1, through: max, by: 1) {
          if let v = try mbrVolume(mbr, id: id) { volumes.append(v) }
        }
        let problem =
          "the primary GPT's entry array fails its CRC (stored 0x\(hex32(stored)), computed 0x\(hex32(computed))): the loader reads the MBR's records instead"
          + (volumes.isEmpty ? " and finds no partition there" : "")
        findings.append(Finding(.error, "loaderReadsMBRInsteadOfGPT", problem, lba: header.entryArrayLBA))
        return LoaderTable(
          scheme: .mbrInsteadOfGPT, maxVolume: max, volumes: volumes, findings: findings, problem: problem)
      }
    }

    // MARK: GPT (bootlib/gpt.c)

    struct Header {
      var entryArrayLBA: UInt64
      var numberOfEntries: UInt32
      var sizeOfEntry: UInt32
      var entryArrayCRC32: UInt32
    }

    /// `gpt_read_header()`: Signature, MyLBA = 1, and the CRC over HeaderSize bytes with the
    /// CRC field read as zero.
    func readHeader() throws -> Result<Header, HeaderRejection> {
      guard let block = try readSectors(1) else {
        return .failure(HeaderRejection("LBA 1 is past the end of the image"))
      }
      func u32(_ at: Int) -> UInt32 { block.littleEndian(UInt32.self, at: at) ?? 0 }
      func u64(_ at: Int) -> UInt64 { block.littleEndian(UInt64.self, at: at) ?? 0 }
      typealias O = GPTHeader.Offset
      guard u64(O.signature) == GPTHeader.signature else {
        return .failure(HeaderRejection("no \"EFI PART\" signature at LBA 1"))
      }
      guard u64(O.myLBA) == 1 else { return .failure(HeaderRejection("MyLBA is \(u64(O.myLBA)), not 1")) }
      let headerSize = Int(u32(O.headerSize))
      // The loader runs its CRC over HeaderSize bytes of a one-sector buffer: past the sector it
      // reads memory that is not the header, which no stored CRC can be trusted to match.
      guard headerSize <= block.count else {
        return .failure(
          HeaderRejection("HeaderSize is \(headerSize), more than the \(block.count)-byte sector it reads"))
      }
      var zeroed = block
      for i in O.headerCRC32..<(O.headerCRC32 + 4) { zeroed[i] = 0 }
      var crc = CRC32()
      crc.update(Array(zeroed[0..<headerSize]))
      let stored = u32(O.headerCRC32)
      guard crc.finalize() == stored else {
        return .failure(
          HeaderRejection(
            "its CRC over HeaderSize = \(headerSize) bytes is 0x\(hex32(crc.finalize())), the header says 0x\(hex32(stored))"
          ))
      }
      return .success(
        Header(
          entryArrayLBA: u64(O.partitionEntryLBA), numberOfEntries: u32(O.numberOfPartitionEntries),
          sizeOfEntry: u32(O.sizeOfPartitionEntry), entryArrayCRC32: u32(O.partitionEntryArrayCRC32)))
    }

    struct HeaderRejection: Error {
      var why: String
      init(_ why: String) { self.why = why }
    }

    enum EntryArrayFailure: Error {
      case unreadable(String)
      case crc(stored: UInt32, computed: UInt32)
    }

    /// The entry array as `gpt_get_part_info()` reads it: NumberOfPartitionEntries ×
    /// SizeOfPartitionEntry bytes in 32-bit arithmetic, whole sectors read, CRC over the product.
    func readEntryArray(_ header: Header) throws -> Result<[UInt8], EntryArrayFailure> {
      let size = header.numberOfEntries &* header.sizeOfEntry
      guard size <= LoaderTable.maximumEntryArrayBytes else {
        return .failure(.unreadable("\(size) bytes, more than this tool reads"))
      }
      let sectorsToRead = (UInt64(size) + UInt64(sectorSize) - 1) / UInt64(sectorSize)
      guard let array = try readSectors(header.entryArrayLBA, count: sectorsToRead) else {
        return .failure(
          .unreadable(
            "LBA \(header.entryArrayLBA)-\(header.entryArrayLBA &+ sectorsToRead &- 1) is past the end of the image"))
      }
      var crc = CRC32()
      crc.update(Array(array[0..<Int(size)]))
      guard crc.finalize() == header.entryArrayCRC32 else {
        return .failure(.crc(stored: header.entryArrayCRC32, computed: crc.finalize()))
      }
      return .success(array)
    }

    /// `gpt_to_partinfo()` for entry `id`: basic data and ESP keep their GUID, an all-zero type
    /// is empty (left out), start and size are cut to 32 bits.
    func gptVolume(_ array: [UInt8], header: Header, id: Int) -> Partition? {
      let at = (id - 1) * Int(header.sizeOfEntry)
      // The loader reads a whole 128-byte entry at that place of a sector-rounded buffer.
      guard at >= 0, at + GPTPartitionEntry.definedSize <= array.count,
        let entry = try? GPTPartitionEntry(parsing: array.span, at: at)
      else { return nil }
      if entry.isUnused { return nil }
      let start = UInt64(UInt32(truncatingIfNeeded: entry.startingLBA))
      let count = UInt64(UInt32(truncatingIfNeeded: entry.endingLBA &- entry.startingLBA &+ 1))
      // A size of 0 still names a volume: the loader reads its second sector all the same.
      guard count > 0 || start > 0 else { return nil }
      let type = entry.partitionTypeGUID
      return Partition(
        number: id, firstLBA: start, lastLBA: start &+ count &- 1, sectorSize: sectorSize, typeGUID: type,
        typeName: PartitionType.name(forGUID: type.description), name: entry.name,
        uniqueGUID: entry.uniquePartitionGUID,
        attributes: entry.attributes,
        entryOffset: Int64(header.entryArrayLBA &* UInt64(sectorSize)) &+ Int64(at))
    }

    // MARK: MBR (bootlib/mbr.c)

    /// The first extended record among 1–4 (`PART_IS_EXTENDED`), with its slot.
    func extendedRecord(_ mbr: [UInt8]) -> (slot: Int, record: Record)? {
      for slot in 0..<4 where Record(mbr, slot: slot).isExtended { return (slot, Record(mbr, slot: slot)) }
      return nil
    }

    /// One step of the chain: the EBR at `lba`, or why the walk stops there.
    enum EBRStep {
      case ebr([UInt8])
      case stop(Finding?)
    }

    func readEBR(_ lba: UInt32, number: Int) throws -> EBRStep {
      guard let ebr = try readSectors(UInt64(lba)) else {
        return .stop(
          Finding(
            .warning, "loaderEBRUnreadable",
            "the EBR chain links to LBA \(lba), past the end of the image: the loader stops there (volume \(number) and on)",
            lba: UInt64(lba)))
      }
      guard ebr[MBR.Offset.signature] == 0x55, ebr[MBR.Offset.signature + 1] == 0xAA else {
        return .stop(
          Finding(
            .error, "loaderEBRNoSignature",
            "the EBR at LBA \(lba) does not end in 0x55AA: the loader stops there (volume \(number) and on)",
            offset: Int64(lba) * Int64(sectorSize) + Int64(MBR.Offset.signature), lba: UInt64(lba)))
      }
      if Record(ebr, slot: 0).isExtended {
        return .stop(
          Finding(
            .error, "loaderEBRNested",
            "the EBR at LBA \(lba) has an extended first record, which the loader does not support: it stops there (volume \(number) and on)",
            offset: Int64(lba) * Int64(sectorSize) + Int64(MBR.entryOffset(0)), lba: UInt64(lba)))
      }
      return .ebr(ebr)
    }

    /// The EBR chain as `mbr_get_max_part()` walks it, read once: each EBR's LBA and bytes,
    /// up to where the walk stops (its reason is a finding). `mbr_get_logical_info()` walks the
    /// same chain from the start for each volume number, so volume `5 + i` is EBR `i`.
    mutating func chain(_ mbr: [UInt8]) throws -> [(lba: UInt32, ebr: [UInt8])] {
      if let cachedChain { return cachedChain }
      var list: [(lba: UInt32, ebr: [UInt8])] = []
      defer { cachedChain = list }
      guard let (_, extended) = extendedRecord(mbr) else { return list }
      var next: UInt32 = 0
      var seen = Set<UInt32>()
      repeat {
        next = next &+ extended.startLBA
        guard seen.insert(next).inserted, seen.count <= LoaderTable.maximumEBRs else {
          findings.append(
            Finding(
              .error, "loaderEBRLoop",
              "the EBR chain comes back to LBA \(next) (or goes on past \(LoaderTable.maximumEBRs) EBRs): the loader's own walk never ends there, so it hangs before it boots",
              lba: UInt64(next)))
          return list
        }
        switch try readEBR(next, number: 5 + list.count) {
        case .stop(let finding):
          if let finding { findings.append(finding) }
          return list
        case .ebr(let ebr):
          list.append((next, ebr))
          next = Record(ebr, slot: 1).startLBA
        }
      } while next > 0
      return list
    }

    /// `mbr_get_max_part()`: 4, plus one per EBR the walk reaches.
    mutating func mbrMaxVolume(_ mbr: [UInt8]) throws -> Int { 4 + (try chain(mbr)).count }

    /// `mbr_get_part_info()` for volume `id`: record `id` of sector 0, or the logical partition
    /// of the `id - 4`th EBR. Empty records (type 0) are left out.
    mutating func mbrVolume(_ mbr: [UInt8], id: Int) throws -> Partition? {
      if id < 5 {
        let record = Record(mbr, slot: id - 1)
        return partition(record, id: id, lba: record.startLBA, entryOffset: Int64(MBR.entryOffset(id - 1)))
      }
      guard let (_, extended) = extendedRecord(mbr) else { return nil }
      let links = try chain(mbr)
      guard id - 5 < links.count else { return nil }
      let (ebrLBA, ebr) = links[id - 5]
      let record = Record(ebr, slot: 0)
      let lba = record.startLBA &+ ebrLBA
      let end = extended.startLBA &+ extended.sectors
      let at = Int64(ebrLBA) * Int64(sectorSize) + Int64(MBR.entryOffset(0))
      // mbr_to_partinfo, in the loader's 32-bit arithmetic.
      if lba < extended.startLBA || lba >= end || lba &+ record.sectors <= extended.startLBA
        || lba &+ record.sectors > end
      {
        if record.type != 0 || record.sectors != 0 {
          findings.append(
            Finding(
              .error, "loaderLogicalOutside",
              "partition \(id) (LBA \(lba), \(record.sectors) sectors) does not lie inside its extended partition (LBA \(extended.startLBA), \(extended.sectors) sectors): the loader rejects it as corrupted",
              offset: at, lba: UInt64(lba), partition: id))
        }
        return nil
      }
      return partition(record, id: id, lba: lba, entryOffset: at, logical: true)
    }

    func partition(_ record: Record, id: Int, lba: UInt32, entryOffset: Int64, logical: Bool = false) -> Partition? {
      guard record.type != 0, record.sectors > 0 else { return nil }
      let first = UInt64(lba)
      return Partition(
        number: id, firstLBA: first, lastLBA: first + UInt64(record.sectors) - 1, sectorSize: sectorSize,
        mbrType: record.type, typeName: PartitionType.name(forMBRType: record.type),
        bootable: record.flags == 0x80, isLogical: logical, isExtendedContainer: record.isExtended,
        entryOffset: entryOffset)
    }
  }
}
