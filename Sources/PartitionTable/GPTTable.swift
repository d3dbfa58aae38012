import Checksum
import DiskFormat

/// The primary and backup GPT of a disk, each header and entry array judged on its own and
/// against the other, with the checks `sgdisk -v` makes.
///
/// Problems in the primary structures are errors (ESXi's loader reads only the primary);
/// problems in the backup are warnings (6.7's installer leaves a placeholder backup until the
/// first boot). Problems that leave a structure usable (an odd Revision, a grown disk) are
/// warnings everywhere.
public struct GPTTable: Hashable, Sendable, Codable {
  public var primaryHeader: GPTHeader?
  public var backupHeader: GPTHeader?
  /// Verdicts: primary header, primary entries, backup header, backup entries.
  public var verdicts: [StructureVerdict]
  /// The primary's partitions; nil when its header or entry array cannot be read (bad signature,
  /// size, CRC, MyLBA, or an array out of reach).
  public var primaryPartitions: [Partition]?
  /// The backup's partitions; nil when its header or entry array cannot be read.
  public var backupPartitions: [Partition]?

  /// The largest entry array read: 16 MiB (131072 entries of 128 bytes; sgdisk makes 16 KiB).
  public static let maxEntryArrayBytes: UInt64 = 16 << 20
  /// The largest SizeOfPartitionEntry accepted.
  public static let maxEntrySize: UInt32 = 1 << 16

  /// The primary header and entries have no errors: what ESXi's loader needs.
  public var primaryOK: Bool { verdicts.count == 4 && verdicts[0].ok && verdicts[1].ok }
  /// The backup header and entries have no problems.
  public var backupOK: Bool { verdicts.count == 4 && verdicts[2].ok && verdicts[3].ok }

  /// Reads and judges both copies.
  ///
  /// - Parameters:
  ///   - source: The disk.
  ///   - sectorSize: Logical sector size to read with.
  /// - Throws: `ReadError` only when the medium fails; a short image gives findings.
  public static func read(from source: any ByteSource, sectorSize: Int) throws -> GPTTable {
    let sectors = UInt64(max(0, source.byteCount) / Int64(sectorSize))
    var table = GPTTable(verdicts: [])

    let primary = try readCopy(
      from: source, role: .primary, lba: 1, sectorSize: sectorSize, sectors: sectors, other: nil)
    table.primaryHeader = primary.header
    table.primaryPartitions = primary.partitions

    // The backup is where the primary says, else at the last LBA (as sgdisk looks).
    var candidates = [UInt64]()
    if let alternate = primary.header?.alternateLBA, alternate > 1, alternate < sectors {
      candidates.append(alternate)
    }
    if sectors >= 3, !candidates.contains(sectors - 1) { candidates.append(sectors - 1) }
    var backup: Copy?
    for lba in candidates {
      let copy = try readCopy(
        from: source, role: .backup, lba: lba, sectorSize: sectorSize, sectors: sectors,
        other: primary.ok ? primary.header : nil)  // a bad primary is no yardstick
      if copy.header != nil || backup == nil { backup = copy }
      if copy.header != nil { break }
    }
    if backup == nil {
      let finding = Finding(
        .warning, "backupHeaderMissing",
        "backup GPT header: the image has \(sectors) sectors of \(sectorSize) bytes, too few to hold one")
      backup = Copy(
        header: nil, partitions: nil,
        headerVerdict: StructureVerdict(name: StructureVerdict.backupHeader, ok: false, findings: [finding]),
        entriesVerdict: StructureVerdict(name: StructureVerdict.backupEntries, ok: false, findings: []))
    }
    if let backup {
      table.backupHeader = backup.header
      table.backupPartitions = backup.partitions
      table.verdicts = [primary.headerVerdict, primary.entriesVerdict, backup.headerVerdict, backup.entriesVerdict]
    }
    return table
  }

  struct Role {
    var headerName: String
    var entriesName: String
    var severity: Finding.Severity
    var isPrimary: Bool
    static let primary = Role(
      headerName: StructureVerdict.primaryHeader, entriesName: StructureVerdict.primaryEntries,
      severity: .error, isPrimary: true)
    static let backup = Role(
      headerName: StructureVerdict.backupHeader, entriesName: StructureVerdict.backupEntries,
      severity: .warning, isPrimary: false)
  }

  struct Copy {
    var header: GPTHeader?
    var partitions: [Partition]?
    var headerVerdict: StructureVerdict
    var entriesVerdict: StructureVerdict
    var ok: Bool { headerVerdict.ok && entriesVerdict.ok }
  }

  /// Collects findings for one structure. `hard` ones make it not ok (an error in the primary, a
  /// warning in the backup); `fatal` ones also make it unreadable (what ESXi's loader checks:
  /// Signature, HeaderSize, HeaderCRC32, MyLBA, the entry array's size, place and CRC).
  struct Judge {
    var structure: String
    var severity: Finding.Severity
    var findings: [Finding] = []
    var usable = true
    var readable = true

    init(_ structure: String, _ severity: Finding.Severity) {
      self.structure = structure
      self.severity = severity
    }

    mutating func field(
      hard: Bool, fatal: Bool = false, _ field: String, at offset: Int64, _ kind: FormatError.Kind,
      partition: Int? = nil
    ) {
      if hard { usable = false }
      if fatal { readable = false }
      findings.append(
        .field(
          hard ? severity : .warning, structure: structure, field: field, offset: offset, kind, partition: partition))
    }

    mutating func other(
      hard: Bool, fatal: Bool = false, _ kind: String, _ message: String, offset: Int64? = nil, lba: UInt64? = nil,
      partition: Int? = nil
    ) {
      if hard { usable = false }
      if fatal { readable = false }
      findings.append(
        Finding(
          hard ? severity : .warning, kind, "\(structure): \(message)", offset: offset, lba: lba, partition: partition))
    }

    var verdict: StructureVerdict { StructureVerdict(name: structure, ok: usable, findings: findings) }
  }

  static func readCopy(
    from source: any ByteSource, role: Role, lba: UInt64, sectorSize: Int, sectors: UInt64, other: GPTHeader?
  ) throws -> Copy {
    var head = Judge(role.headerName, role.severity)
    var entries = Judge(role.entriesName, role.severity)
    let (start, overflow) = lba.multipliedReportingOverflow(by: UInt64(sectorSize))
    guard !overflow, let base = Int64(exactly: start),
      let block = try source.bytesIfInside(at: base, count: sectorSize)
    else {
      head.other(
        hard: true, fatal: true, "headerPastEnd",
        "LBA \(lba) is past the end of the image (\(sectors) sectors of \(sectorSize) bytes): the image is shorter than the table claims",
        lba: lba)
      entries.other(hard: true, fatal: true, "entriesNotRead", "not read: there is no header to locate them")
      return Copy(header: nil, partitions: nil, headerVerdict: head.verdict, entriesVerdict: entries.verdict)
    }
    let header: GPTHeader
    do {
      header = try GPTHeader(parsing: block.span, at: base, structure: role.headerName)
    } catch {
      head.usable = false
      head.readable = false
      var finding = Finding(role.severity, error, lba: lba)
      if error.field == "Signature" {
        finding.kind = "badSignature"
        finding.message =
          "\(role.headerName): no \"EFI PART\" signature at LBA \(lba) (byte 0x\(String(base, radix: 16)))"
      }
      head.findings.append(finding)
      entries.other(hard: true, fatal: true, "entriesNotRead", "not read: there is no header to locate them")
      return Copy(header: nil, partitions: nil, headerVerdict: head.verdict, entriesVerdict: entries.verdict)
    }
    judgeHeader(header, role: role, lba: lba, sectorSize: sectorSize, sectors: sectors, into: &head)
    if let other, !role.isPrimary { judgeAgreement(backup: header, primary: other, into: &head) }

    let partitions = try readEntries(
      from: source, header: header, role: role, sectorSize: sectorSize, sectors: sectors, into: &entries)
    let readable = head.readable && entries.readable
    return Copy(
      header: header, partitions: readable ? partitions : nil, headerVerdict: head.verdict,
      entriesVerdict: entries.verdict)
  }

  /// The header checks, in libblkid's order, continuing past the first problem as sgdisk does.
  static func judgeHeader(
    _ h: GPTHeader, role: Role, lba: UInt64, sectorSize: Int, sectors: UInt64, into judge: inout Judge
  ) {
    judgeSelf(h, lba: lba, sectorSize: sectorSize, into: &judge)
    judgeUsableLBAs(h, role: role, lba: lba, sectors: sectors, into: &judge)
    judgeEntryArray(h, role: role, lba: lba, sectorSize: sectorSize, sectors: sectors, into: &judge)
  }

  /// HeaderSize, HeaderCRC32, Revision, Reserved and MyLBA: the header as a record.
  static func judgeSelf(_ h: GPTHeader, lba: UInt64, sectorSize: Int, into judge: inout Judge) {
    typealias O = GPTHeader.Offset
    let allowedSize = UInt64(GPTHeader.minimumSize)...UInt64(sectorSize)
    if !allowedSize.contains(UInt64(h.headerSize)) {
      judge.field(
        hard: true, fatal: true, "HeaderSize", at: h.offset(O.headerSize),
        .outOfRange(value: UInt64(h.headerSize), allowed: allowedSize))
    }
    if let computed = h.computedHeaderCRC32, computed != h.headerCRC32 {
      judge.field(
        hard: true, fatal: true, "HeaderCRC32", at: h.offset(O.headerCRC32),
        .checksumMismatch(stored: h.headerCRC32, computed: computed))
    }
    if h.revision != GPTHeader.revision10 {
      judge.field(
        hard: false, "Revision", at: h.offset(O.revision),
        .conflict(
          found: .hex(UInt64(h.revision)), expected: .hex(UInt64(GPTHeader.revision10)), relation: ", expected ",
          consequence: " (1.0)"))
    }
    if h.reserved != 0 {
      judge.field(
        hard: false, "Reserved", at: h.offset(O.reserved),
        .conflict(found: .hex(UInt64(h.reserved)), expected: .number(0), relation: ", expected "))
    }
    if h.myLBA != lba {
      judge.field(
        hard: true, fatal: true, "MyLBA", at: h.offset(O.myLBA),
        .conflict(found: .number(h.myLBA), expected: .number(lba), relation: ", but this header is at LBA "))
    }
  }

  /// AlternateLBA, FirstUsableLBA and LastUsableLBA against the disk and the other header.
  static func judgeUsableLBAs(_ h: GPTHeader, role: Role, lba: UInt64, sectors: UInt64, into judge: inout Judge) {
    typealias O = GPTHeader.Offset
    let last = sectors &- 1
    if role.isPrimary {
      if h.alternateLBA <= 1 {
        judge.field(
          hard: true, "AlternateLBA", at: h.offset(O.alternateLBA),
          .conflict(found: .number(h.alternateLBA), expected: .number(last), relation: ", expected the last LBA "))
      } else if h.alternateLBA > last {
        judge.field(
          hard: true, "AlternateLBA", at: h.offset(O.alternateLBA),
          .conflict(
            found: .number(h.alternateLBA), expected: .number(last), relation: ", past the last LBA ",
            consequence: ": the image is shorter than the table claims"))
      } else if h.alternateLBA < last {
        judge.field(
          hard: false, "AlternateLBA", at: h.offset(O.alternateLBA),
          .conflict(
            found: .number(h.alternateLBA), expected: .number(last), relation: ", not the last LBA ",
            consequence: ": the backup is not at the end of the disk"))
      }
    } else if h.alternateLBA != 1 {
      judge.field(
        hard: true, "AlternateLBA", at: h.offset(O.alternateLBA),
        .conflict(found: .number(h.alternateLBA), expected: .number(1), relation: ", expected "))
    }
    if h.firstUsableLBA < 2 {
      judge.field(
        hard: true, "FirstUsableLBA", at: h.offset(O.firstUsableLBA),
        .conflict(found: .number(h.firstUsableLBA), expected: nil, relation: ", inside the MBR and primary header"))
    }
    if h.firstUsableLBA > h.lastUsableLBA &+ 1 && h.lastUsableLBA < last {
      judge.field(
        hard: true, "FirstUsableLBA", at: h.offset(O.firstUsableLBA),
        .conflict(
          found: .number(h.firstUsableLBA), expected: .number(h.lastUsableLBA), relation: ", after LastUsableLBA "))
    } else if h.lastUsableLBA >= last {
      judge.field(
        hard: true, "LastUsableLBA", at: h.offset(O.lastUsableLBA),
        .conflict(
          found: .number(h.lastUsableLBA), expected: .number(last), relation: ", but the image's last LBA is ",
          consequence: " (the backup header's place): the image is shorter than the table claims"))
    } else if role.isPrimary, h.alternateLBA > 1, h.lastUsableLBA >= h.alternateLBA {
      judge.field(
        hard: true, "LastUsableLBA", at: h.offset(O.lastUsableLBA),
        .conflict(
          found: .number(h.lastUsableLBA), expected: .number(h.alternateLBA),
          relation: ", at or after the backup header at "))
    } else if !role.isPrimary, h.lastUsableLBA >= lba {
      judge.field(
        hard: true, "LastUsableLBA", at: h.offset(O.lastUsableLBA),
        .conflict(found: .number(h.lastUsableLBA), expected: .number(lba), relation: ", at or after this header at "))
    }
  }

  /// SizeOfPartitionEntry, NumberOfPartitionEntries and PartitionEntryLBA: entry size
  /// 128 × 2^n, count non-zero, the array bounded before anything is allocated and placed
  /// where the header's role puts it.
  static func judgeEntryArray(
    _ h: GPTHeader, role: Role, lba: UInt64, sectorSize: Int, sectors: UInt64, into judge: inout Judge
  ) {
    typealias O = GPTHeader.Offset
    let last = sectors &- 1
    let size = h.sizeOfPartitionEntry
    let sizeOK =
      size >= UInt32(GPTPartitionEntry.definedSize) && size <= maxEntrySize && size % 128 == 0
      && (size / 128).nonzeroBitCount == 1
    if !sizeOK {
      judge.field(
        hard: true, fatal: true, "SizeOfPartitionEntry", at: h.offset(O.sizeOfPartitionEntry),
        .conflict(
          found: .number(UInt64(size)), expected: .number(UInt64(maxEntrySize)),
          relation: ", expected 128 × 2^n (at most ",
          consequence: ")"))
    }
    if h.numberOfPartitionEntries == 0 {
      judge.field(
        hard: true, fatal: true, "NumberOfPartitionEntries", at: h.offset(O.numberOfPartitionEntries),
        .conflict(found: .number(0), expected: nil, relation: ""))
    } else if sizeOK, (h.entryArrayBytes ?? UInt64.max) > maxEntryArrayBytes {
      judge.field(
        hard: true, fatal: true, "NumberOfPartitionEntries", at: h.offset(O.numberOfPartitionEntries),
        .conflict(
          found: .number(UInt64(h.numberOfPartitionEntries)), expected: .number(maxEntryArrayBytes),
          relation: ": \(h.numberOfPartitionEntries) × \(size) bytes is more than the ", consequence: "-byte limit"))
    }
    guard let range = entryArraySectors(h, sectorSize: sectorSize) else { return }
    let entryField = h.offset(O.partitionEntryLBA)
    if range.upperBound > sectors {
      judge.field(
        hard: true, "PartitionEntryLBA", at: entryField,
        .conflict(
          found: .number(h.partitionEntryLBA), expected: .number(last),
          relation: ": the array (LBA \(range.lowerBound)-\(range.upperBound &- 1)) runs past the last LBA ",
          consequence: "; the image is shorter than the table claims"))
    } else if role.isPrimary {
      if range.lowerBound < 2 || range.upperBound > h.firstUsableLBA {
        judge.field(
          hard: true, "PartitionEntryLBA", at: entryField,
          .conflict(
            found: .number(h.partitionEntryLBA), expected: .number(h.firstUsableLBA),
            relation: ": the array (LBA \(range.lowerBound)-\(range.upperBound &- 1)) must lie in 2..<FirstUsableLBA "))
      }
    } else if range.lowerBound <= h.lastUsableLBA || range.upperBound > lba {
      judge.field(
        hard: true, "PartitionEntryLBA", at: entryField,
        .conflict(
          found: .number(h.partitionEntryLBA), expected: .number(lba),
          relation:
            ": the array (LBA \(range.lowerBound)-\(range.upperBound &- 1)) must lie after LastUsableLBA \(h.lastUsableLBA) and before this header at "
        ))
    }
  }

  /// The sectors the entry array covers, when its size is sane.
  static func entryArraySectors(_ h: GPTHeader, sectorSize: Int) -> Range<UInt64>? {
    let size = h.sizeOfPartitionEntry
    guard size >= 128, size <= maxEntrySize, size % 128 == 0, (size / 128).nonzeroBitCount == 1,
      h.numberOfPartitionEntries > 0, let bytes = h.entryArrayBytes, bytes <= maxEntryArrayBytes
    else { return nil }
    let count = (bytes + UInt64(sectorSize) - 1) / UInt64(sectorSize)
    let (end, overflow) = h.partitionEntryLBA.addingReportingOverflow(count)
    return overflow ? nil : h.partitionEntryLBA..<end
  }

  /// sgdisk's "main and backup headers differ" checks, reported against the backup.
  static func judgeAgreement(backup b: GPTHeader, primary p: GPTHeader, into judge: inout Judge) {
    typealias O = GPTHeader.Offset
    func compare<T: Equatable>(_ field: String, _ offset: Int, _ mine: T, _ theirs: T) {
      guard mine != theirs else { return }
      judge.field(
        hard: true, field, at: b.offset(offset),
        .conflict(
          found: .text("\(mine)"), expected: .text("\(theirs)"),
          relation: ", but the primary header's (byte 0x\(String(p.offset(offset), radix: 16))) is "))
    }
    if b.myLBA != p.alternateLBA {
      judge.field(
        hard: true, "MyLBA", at: b.offset(O.myLBA),
        .conflict(
          found: .number(b.myLBA), expected: .number(p.alternateLBA),
          relation:
            ", but the primary header's AlternateLBA (byte 0x\(String(p.offset(O.alternateLBA), radix: 16))) is "))
    }
    compare("FirstUsableLBA", O.firstUsableLBA, b.firstUsableLBA, p.firstUsableLBA)
    compare("LastUsableLBA", O.lastUsableLBA, b.lastUsableLBA, p.lastUsableLBA)
    compare("DiskGUID", O.diskGUID, b.diskGUID.description, p.diskGUID.description)
    compare(
      "NumberOfPartitionEntries", O.numberOfPartitionEntries, b.numberOfPartitionEntries, p.numberOfPartitionEntries)
    compare("SizeOfPartitionEntry", O.sizeOfPartitionEntry, b.sizeOfPartitionEntry, p.sizeOfPartitionEntry)
    if b.partitionEntryArrayCRC32 != p.partitionEntryArrayCRC32 {
      compare(
        "PartitionEntryArrayCRC32", O.partitionEntryArrayCRC32, hex(b.partitionEntryArrayCRC32),
        hex(p.partitionEntryArrayCRC32))
    }
  }

  /// Reads the entry array in one window, checks its CRC and every used entry.
  static func readEntries(
    from source: any ByteSource, header h: GPTHeader, role: Role, sectorSize: Int, sectors: UInt64,
    into judge: inout Judge
  ) throws -> [Partition] {
    typealias E = GPTPartitionEntry.Offset
    guard let range = entryArraySectors(h, sectorSize: sectorSize), let bytes = h.entryArrayBytes,
      range.upperBound <= sectors
    else {
      judge.other(
        hard: true, fatal: true, "entriesNotRead",
        "not read: the header's PartitionEntryLBA, NumberOfPartitionEntries or SizeOfPartitionEntry put the array out of reach"
      )
      return []
    }
    let base = Int64(range.lowerBound) * Int64(sectorSize)  // range ⊂ the image, so no overflow
    let count = Int(h.numberOfPartitionEntries)
    let size = Int(h.sizeOfPartitionEntry)
    let (computed, decoded) = try source.withBytes(in: base..<(base + Int64(bytes))) {
      span -> (UInt32, [(Int, GPTPartitionEntry)]) in
      var crc = CRC32()
      crc.update(span)
      var used = [(Int, GPTPartitionEntry)]()
      for index in 0..<count {
        let offset = index * size
        guard let entry = try? GPTPartitionEntry(parsing: span, at: offset, base: base), !entry.isUnused else {
          continue
        }
        used.append((index, entry))
      }
      return (crc.finalize(), used)
    }
    if computed != h.partitionEntryArrayCRC32 {
      judge.field(
        hard: true, fatal: true, "PartitionEntryArrayCRC32", at: h.offset(GPTHeader.Offset.partitionEntryArrayCRC32),
        .checksumMismatch(stored: h.partitionEntryArrayCRC32, computed: computed))
    }

    var partitions = [Partition]()
    var seenUnique = [String: Int]()
    for (index, entry) in decoded {
      let number = index + 1
      let at = base + Int64(index * size)
      judgeEntry(entry, number: number, at: at, header: h, sectors: sectors, into: &judge)
      let unique = entry.uniquePartitionGUID.description
      if entry.uniquePartitionGUID.isZero {
        judge.field(
          hard: false, "UniquePartitionGUID", at: at + Int64(E.uniquePartitionGUID),
          .conflict(found: .text("all zero"), expected: nil, relation: "", record: "partition \(number)"),
          partition: number)
      } else if let first = seenUnique[unique] {
        judge.field(
          hard: false, "UniquePartitionGUID", at: at + Int64(E.uniquePartitionGUID),
          .conflict(
            found: .text(unique), expected: nil, relation: ", the same as partition \(first)'s",
            record: "partition \(number)"), partition: number)
      } else {
        seenUnique[unique] = number
      }
      let type = entry.partitionTypeGUID
      partitions.append(
        Partition(
          number: number, firstLBA: entry.startingLBA, lastLBA: entry.endingLBA, sectorSize: sectorSize,
          typeGUID: type, typeName: PartitionType.name(forGUID: type.description), name: entry.name,
          uniqueGUID: entry.uniquePartitionGUID,
          attributes: entry.attributes, bootable: entry.attributes & GPTAttributes.legacyBIOSBootable != 0,
          entryOffset: at))
    }
    if partitions.isEmpty {
      judge.other(hard: false, "noPartitions", "all \(count) entries are unused", offset: base)
    }
    judgeOverlaps(partitions, into: &judge)
    return partitions
  }

  /// One used entry's LBAs against the header and the disk, and its reserved attribute bits.
  static func judgeEntry(
    _ entry: GPTPartitionEntry, number: Int, at: Int64, header h: GPTHeader, sectors: UInt64, into judge: inout Judge
  ) {
    typealias E = GPTPartitionEntry.Offset
    if entry.startingLBA > entry.endingLBA {
      judge.field(
        hard: true, "EndingLBA", at: at + Int64(E.endingLBA),
        .conflict(
          found: .number(entry.endingLBA), expected: .number(entry.startingLBA), relation: ", before its StartingLBA ",
          record: "partition \(number)"),
        partition: number)
    } else {
      if entry.startingLBA < h.firstUsableLBA {
        judge.field(
          hard: true, "StartingLBA", at: at + Int64(E.startingLBA),
          .conflict(
            found: .number(entry.startingLBA), expected: .number(h.firstUsableLBA),
            relation: ", before FirstUsableLBA ",
            record: "partition \(number)"),
          partition: number)
      }
      if entry.endingLBA >= sectors {
        judge.other(
          hard: true, "partitionPastEnd",
          "partition \(number) ends at LBA \(entry.endingLBA), past the image's last LBA \(sectors &- 1): the image is shorter than the table claims",
          offset: at + Int64(E.endingLBA), lba: entry.endingLBA, partition: number)
      } else if entry.endingLBA > h.lastUsableLBA {
        judge.field(
          hard: true, "EndingLBA", at: at + Int64(E.endingLBA),
          .conflict(
            found: .number(entry.endingLBA), expected: .number(h.lastUsableLBA), relation: ", after LastUsableLBA ",
            record: "partition \(number)"),
          partition: number)
      }
    }
    if entry.attributes & GPTAttributes.reservedMask != 0 {
      judge.field(
        hard: false, "Attributes", at: at + Int64(E.attributes),
        .conflict(
          found: .hex(entry.attributes), expected: nil, relation: ": reserved bits 3-47 are set",
          record: "partition \(number)"), partition: number)
    }
  }

  /// Overlaps: sorted by start, each against the furthest end so far.
  static func judgeOverlaps(_ partitions: [Partition], into judge: inout Judge) {
    let ordered = partitions.filter { $0.firstLBA <= $0.lastLBA }.sorted {
      ($0.firstLBA, $0.number) < ($1.firstLBA, $1.number)
    }
    var reach: Partition?
    for partition in ordered {
      if let previous = reach, partition.firstLBA <= previous.lastLBA {
        judge.other(
          hard: true, "partitionsOverlap",
          "partitions \(previous.number) (LBA \(previous.firstLBA)-\(previous.lastLBA)) and \(partition.number) (LBA \(partition.firstLBA)-\(partition.lastLBA)) overlap",
          offset: partition.entryOffset, lba: partition.firstLBA, partition: partition.number)
      }
      if let previous = reach, previous.lastLBA >= partition.lastLBA { continue }
      reach = partition
    }
  }
}
