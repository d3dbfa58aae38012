import DiskFormat

/// The partitions of an MBR disk: the four primary records and the EBR chain of the
/// (first) extended partition, numbered as Linux numbers them (logical partitions from 5).
public struct MBRTable: Hashable, Sendable {
  public var mbr: MBR
  public var partitions: [Partition]
  /// "MBR" and, when there is an extended partition, "EBR chain".
  public var verdicts: [StructureVerdict]

  /// The most EBRs followed (Linux stops at its partition limit; ESXi's tables hold four logical
  /// partitions).
  public static let maxLogicalPartitions = 128

  /// Lists the partitions of a disk whose sector 0 is `mbr`.
  ///
  /// - Parameters:
  ///   - mbr: Sector 0, already decoded.
  ///   - source: The disk, for the EBRs.
  ///   - sectorSize: Logical sector size.
  ///   - extraFindings: Findings to put first in the "MBR" verdict (what sector 0 also looks like).
  /// - Throws: `ReadError` only when the medium fails; a broken chain gives findings.
  public static func read(
    mbr: MBR, from source: any ByteSource, sectorSize: Int, extraFindings: [Finding] = []
  ) throws -> MBRTable {
    let sectors = UInt64(max(0, source.byteCount) / Int64(sectorSize))
    var judge = GPTTable.Judge(StructureVerdict.mbr, .error)
    judge.findings = extraFindings
    var partitions = [Partition]()
    var extended: (slot: Int, entry: MBRPartitionEntry)?

    for (slot, entry) in mbr.entries.enumerated() where !entry.isEmpty {
      let number = slot + 1
      let at = Int64(MBR.entryOffset(slot))
      let first = UInt64(entry.startingLBA)
      let last = first + UInt64(entry.sizeInLBA) - 1
      if entry.startingLBA == 0 {
        judge.field(
          hard: false, "StartingLBA", at: at + Int64(MBRPartitionEntry.Offset.startingLBA),
          .conflict(
            found: .number(0), expected: nil, relation: ": the partition covers the MBR itself",
            record: "partition \(number)"), partition: number)
      }
      if last >= sectors {
        judge.other(
          hard: true, "partitionPastEnd",
          "partition \(number) ends at LBA \(last), past the image's last LBA \(sectors &- 1): the image is shorter than the table claims",
          offset: at + Int64(MBRPartitionEntry.Offset.sizeInLBA), lba: last, partition: number)
      }
      if entry.osType == 0 {
        judge.field(
          hard: false, "OSType", at: at + Int64(MBRPartitionEntry.Offset.osType),
          .conflict(
            found: .text("0x00 (empty)"), expected: .number(UInt64(entry.sizeInLBA)), relation: " but SizeInLBA is ",
            record: "partition \(number)"), partition: number)
      }
      if entry.isExtended {
        if extended == nil {
          extended = (slot, entry)
        } else {
          judge.other(
            hard: false, "extraExtendedPartition",
            "partition \(number) is a second extended partition; only the first one's EBR chain is read",
            offset: at, partition: number)
        }
      }
      partitions.append(
        Partition(
          number: number, firstLBA: first, lastLBA: last, sectorSize: sectorSize, mbrType: entry.osType,
          typeName: PartitionType.name(forMBRType: entry.osType), bootable: entry.bootIndicator == 0x80,
          isExtendedContainer: entry.isExtended, entryOffset: at))
    }
    findOverlaps(partitions, into: &judge)
    if partitions.isEmpty {
      judge.other(
        hard: false, "noPartitions", "all four partition records are empty", offset: Int64(MBR.Offset.partitionRecord))
    }
    var verdicts = [judge.verdict]

    if let extended {
      var chain = GPTTable.Judge(StructureVerdict.ebrChain, .error)
      let logicals = try walkChain(
        extended: extended.entry, slot: extended.slot, source: source, sectorSize: sectorSize, sectors: sectors,
        into: &chain)
      partitions += logicals
      verdicts.append(chain.verdict)
    }
    return MBRTable(mbr: mbr, partitions: partitions, verdicts: verdicts)
  }

  /// Primary partitions that overlap (the extended container and its logicals excepted).
  static func findOverlaps(_ partitions: [Partition], into judge: inout GPTTable.Judge) {
    let ordered = partitions.sorted { ($0.firstLBA, $0.number) < ($1.firstLBA, $1.number) }
    for (i, a) in ordered.enumerated() {
      for b in ordered[(i + 1)...] where b.firstLBA <= a.lastLBA {
        judge.other(
          hard: false, "partitionsOverlap",
          "partitions \(a.number) (LBA \(a.firstLBA)-\(a.lastLBA)) and \(b.number) (LBA \(b.firstLBA)-\(b.lastLBA)) overlap",
          offset: b.entryOffset, lba: b.firstLBA, partition: b.number)
      }
    }
  }

  /// Follows the EBR chain: record 1 of each EBR is a logical partition (relative to that EBR),
  /// the first extended record among 2–4 links to the next EBR (relative to the extended
  /// partition). Stops at a loop, at a link past the disk or outside the extended partition,
  /// and after `maxLogicalPartitions` EBRs.
  static func walkChain(
    extended: MBRPartitionEntry, slot: Int, source: any ByteSource, sectorSize: Int, sectors: UInt64,
    into judge: inout GPTTable.Judge
  ) throws -> [Partition] {
    let containerFirst = UInt64(extended.startingLBA)
    let containerLast = containerFirst + UInt64(extended.sizeInLBA) - 1
    var ebrLBA = containerFirst
    var linkOffset = Int64(MBR.entryOffset(slot)) + Int64(MBRPartitionEntry.Offset.startingLBA)
    var visited = Set<UInt64>()
    var number = 5
    var logicals = [Partition]()

    for step in 0...maxLogicalPartitions {
      if step == maxLogicalPartitions {
        judge.other(
          hard: true, "tooManyLogicalPartitions",
          "the chain goes on past \(maxLogicalPartitions) EBRs; the rest is not read", offset: linkOffset,
          lba: ebrLBA)
        break
      }
      guard
        let read = try readEBR(
          at: ebrLBA, linkOffset: linkOffset, visited: &visited, source: source, sectorSize: sectorSize,
          sectors: sectors, into: &judge)
      else { break }
      let (ebr, base) = read
      let logical = ebr.entries[0]
      let at = base + Int64(MBR.entryOffset(0))
      if !logical.isEmpty, !logical.isExtended {
        logicals.append(
          logicalPartition(
            logical, ebrLBA: ebrLBA, at: at, number: number, containerFirst: containerFirst,
            containerLast: containerLast, sectorSize: sectorSize, sectors: sectors, into: &judge))
        number += 1
      }
      guard let linkSlot = (1..<4).first(where: { !ebr.entries[$0].isEmpty && ebr.entries[$0].isExtended }) else {
        break
      }
      let link = ebr.entries[linkSlot]
      linkOffset = base + Int64(MBR.entryOffset(linkSlot)) + Int64(MBRPartitionEntry.Offset.startingLBA)
      let next = containerFirst + UInt64(link.startingLBA)
      if next > containerLast, next < sectors {
        judge.field(
          hard: true, "StartingLBA", at: linkOffset,
          .conflict(
            found: .number(UInt64(link.startingLBA)), expected: nil,
            relation:
              ": LBA \(next) is outside the extended partition (LBA \(containerFirst)-\(containerLast))",
            record: "the link to the next EBR"))
        break
      }
      ebrLBA = next
    }
    return logicals
  }

  /// The EBR at `ebrLBA` and its byte offset; nil, with a finding, when the link that leads
  /// to it loops back, points past the disk, or the record does not decode.
  static func readEBR(
    at ebrLBA: UInt64, linkOffset: Int64, visited: inout Set<UInt64>, source: any ByteSource, sectorSize: Int,
    sectors: UInt64, into judge: inout GPTTable.Judge
  ) throws -> (MBR, Int64)? {
    guard visited.insert(ebrLBA).inserted else {
      judge.other(
        hard: true, "ebrLoop",
        "the link at byte 0x\(String(linkOffset, radix: 16)) points back to the EBR at LBA \(ebrLBA): the chain loops",
        offset: linkOffset, lba: ebrLBA)
      return nil
    }
    guard ebrLBA < sectors, let base = Int64(exactly: ebrLBA * UInt64(sectorSize)),
      let sector = try source.bytesIfInside(at: base, count: MBR.size)
    else {
      judge.other(
        hard: true, "ebrPastEnd",
        "the link at byte 0x\(String(linkOffset, radix: 16)) points to an EBR at LBA \(ebrLBA), past the image's last LBA \(sectors &- 1)",
        offset: linkOffset, lba: ebrLBA)
      return nil
    }
    let ebr: MBR
    do {
      ebr = try MBR(parsing: sector.span, at: base, structure: "EBR")
    } catch {
      judge.usable = false
      judge.findings.append(Finding(.error, error, lba: ebrLBA))
      return nil
    }
    return (ebr, base)
  }

  /// The logical partition record 1 of the EBR at `ebrLBA` describes (its start is relative
  /// to that EBR), judged against the disk and the extended partition.
  static func logicalPartition(
    _ logical: MBRPartitionEntry, ebrLBA: UInt64, at: Int64, number: Int, containerFirst: UInt64,
    containerLast: UInt64, sectorSize: Int, sectors: UInt64, into judge: inout GPTTable.Judge
  ) -> Partition {
    let first = ebrLBA + UInt64(logical.startingLBA)
    let last = first + UInt64(logical.sizeInLBA) - 1
    if logical.startingLBA == 0 {
      judge.field(
        hard: false, "StartingLBA", at: at + Int64(MBRPartitionEntry.Offset.startingLBA),
        .conflict(
          found: .number(0), expected: nil, relation: ": the partition covers its own EBR",
          record: "partition \(number)"), partition: number)
    }
    if last >= sectors {
      judge.other(
        hard: true, "partitionPastEnd",
        "partition \(number) ends at LBA \(last), past the image's last LBA \(sectors &- 1): the image is shorter than the table claims",
        offset: at + Int64(MBRPartitionEntry.Offset.sizeInLBA), lba: last, partition: number)
    } else if last > containerLast {
      judge.field(
        hard: false, "SizeInLBA", at: at + Int64(MBRPartitionEntry.Offset.sizeInLBA),
        .invalid(
          "of partition \(number) makes it end at LBA \(last), outside the extended partition (LBA \(containerFirst)-\(containerLast))"
        ),
        partition: number)
    }
    return Partition(
      number: number, firstLBA: first, lastLBA: last, sectorSize: sectorSize, mbrType: logical.osType,
      typeName: PartitionType.name(forMBRType: logical.osType), bootable: logical.bootIndicator == 0x80,
      isLogical: true, entryOffset: at)
  }
}
