import Checksum
import DiskFormat
import PartitionTable

extension WritePlanner {
  /// One of the two GPT copies.
  public enum GPTCopy: String, Hashable, Sendable, CaseIterable {
    case primary, backup
  }

  /// `bootbank repair-gpt`: the damaged GPT copy rewritten from the good one. The entry array is
  /// copied sector for sector, then the header is written with its own MyLBA, AlternateLBA and
  /// PartitionEntryLBA and both CRCs (a barrier between, so a valid header never points at
  /// entries not yet written). The good copy is never written.
  ///
  /// Refused when neither copy is valid, when both are valid but differ, when `from` names a
  /// copy that is not valid, or when the good copy is not where a disk of this size keeps it.
  ///
  /// With `fixPMBR`, a damaged protective MBR (one the loader does not take for GPT: record 1
  /// not type 0xEE at LBA 1 with boot flag 0; or no 0x55AA) is rewritten last, in one sector:
  /// record 1 protective over the whole disk, the other records empty, boot code and disk
  /// signature kept. Refused when sector 0 holds MBR records and no 0xEE one (it may be the
  /// disk's real table).
  public static func repairGPT(
    _ source: any ByteSource, layout: DiskLayout, from requested: GPTCopy? = nil, fixPMBR: Bool = false,
    force: Bool = false
  ) throws -> WritePlan {
    let device = try Device(source, layout: layout)
    let pmbr = try protectiveMBRRepair(source)
    /// The GPT steps followed by the protective MBR's, or a note on it.
    func finishWithPMBR(_ steps: [WritePlan.Step], notes: [String]) throws -> WritePlan {
      guard let pmbr else {
        return try finish(command: "repair-gpt", device: device, steps: steps, force: force, notes: notes)
      }
      guard fixPMBR else {
        return try finish(
          command: "repair-gpt", device: device, steps: steps, force: force,
          notes: notes + ["\(pmbr.problem): --fix-pmbr writes one the loader accepts"])
      }
      if let refusal = pmbr.refusal {
        return try refused(command: "repair-gpt", device: device, refusal, notes: notes)
      }
      let step = WritePlan.Step.write(
        offset: 0, old: pmbr.old, new: pmbr.new, sectorSize: source.sectorSize,
        reason:
          "protective MBR: \(pmbr.problem); record 1 written as type 0xEE, LBA 1, boot flag 0, \(pmbr.sectors) sectors")
      return try finish(
        command: "repair-gpt", device: device,
        steps: steps + [step, .barrier("the protective MBR on the medium")], force: force,
        notes: notes.filter { !$0.contains("nothing to write") } + pmbr.notes)
    }
    let sectorSize = source.sectorSize
    let sectors = UInt64(source.byteCount) / UInt64(sectorSize)
    let table = try GPTTable.read(from: source, sectorSize: sectorSize)
    func problems(_ names: [String]) -> String {
      let findings = table.verdicts.filter { names.contains($0.name) }.flatMap(\.findings).map(\.message)
      return findings.isEmpty ? "not valid" : findings.prefix(3).joined(separator: "; ")
    }
    // A copy valid on its own (its header CRC, its entries' CRC) that the reader still finds bad
    // disagrees with the other copy: two valid copies that differ, which bootbank will not judge.
    var primary = table.primaryOK ? table.primaryHeader : nil
    var backup = table.backupOK ? table.backupHeader : nil
    if primary == nil, let header = table.primaryHeader, selfConsistent(source, header) { primary = header }
    if backup == nil, let header = table.backupHeader, selfConsistent(source, header) { backup = header }
    if primary == nil && backup == nil {
      return try refused(
        command: "repair-gpt", device: device,
        "neither GPT copy is valid: primary: \(problems([StructureVerdict.primaryHeader, StructureVerdict.primaryEntries])); backup: \(problems([StructureVerdict.backupHeader, StructureVerdict.backupEntries]))"
      )
    }
    if let primary, let backup {
      let p = try entryArray(source, primary)
      let b = try entryArray(source, backup)
      let agree =
        p == b && primary.diskGUID == backup.diskGUID && primary.firstUsableLBA == backup.firstUsableLBA
        && primary.lastUsableLBA == backup.lastUsableLBA && primary.alternateLBA == backup.myLBA
        && backup.alternateLBA == primary.myLBA
      if agree {
        return try finishWithPMBR([], notes: ["both GPT copies are valid and agree: nothing to write"])
      }
      return try refused(
        command: "repair-gpt", device: device,
        "both GPT copies are valid but differ (primary at LBA \(primary.myLBA): disk GUID \(primary.diskGUID), entries CRC 0x\(String(CRC32.checksum(p), radix: 16)); backup at LBA \(backup.myLBA): disk GUID \(backup.diskGUID), entries CRC 0x\(String(CRC32.checksum(b), radix: 16))): bootbank will not choose between them"
      )
    }
    let goodCopy: GPTCopy = requested ?? (primary != nil ? .primary : .backup)
    guard let good = goodCopy == .primary ? primary : backup else {
      return try refused(
        command: "repair-gpt", device: device, "--from \(goodCopy.rawValue): the \(goodCopy.rawValue) copy is not valid"
      )
    }
    let entries = try entryArray(source, good)
    let entrySectors = UInt64((entries.count + sectorSize - 1) / sectorSize)
    let last = sectors - 1
    var header = good
    switch goodCopy {
    case .primary:
      guard good.alternateLBA == last else {
        return try refused(
          command: "repair-gpt", device: device,
          "the primary header's AlternateLBA is \(good.alternateLBA), not the disk's last LBA \(last) (the disk changed size): not repaired"
        )
      }
      header.myLBA = last
      header.alternateLBA = good.myLBA
      header.partitionEntryLBA = last - entrySectors
    case .backup:
      guard good.myLBA == last, good.alternateLBA == 1 else {
        return try refused(
          command: "repair-gpt", device: device,
          "the backup header is at LBA \(good.myLBA) and names LBA \(good.alternateLBA) as the primary; a disk of \(sectors) sectors keeps them at \(last) and 1: not repaired"
        )
      }
      header.myLBA = 1
      header.alternateLBA = last
      header.partitionEntryLBA = 2
    }
    // What is written must not touch the good copy or any partition.
    let written = header.partitionEntryLBA..<(header.partitionEntryLBA + entrySectors)
    let goodRanges = [good.myLBA..<(good.myLBA + 1), good.partitionEntryLBA..<(good.partitionEntryLBA + entrySectors)]
    let usable = good.firstUsableLBA..<(good.lastUsableLBA + 1)
    for range in goodRanges + [usable] where range.overlaps(written) || range.contains(header.myLBA) {
      return try refused(
        command: "repair-gpt", device: device,
        "the \(goodCopy == .primary ? "backup" : "primary") copy would overlap LBA \(range.lowerBound)-\(range.upperBound - 1) (the good copy or the partitions): not repaired"
      )
    }
    // The entry sectors as the good copy holds them, padding after the last entry included.
    let padded = try source.read(
      at: Int64(good.partitionEntryLBA) * Int64(sectorSize), count: Int(entrySectors) * sectorSize)
    var headerSector = header.encoded(entryArray: entries)
    headerSector += [UInt8](repeating: 0, count: max(0, sectorSize - headerSector.count))
    let damaged = goodCopy == .primary ? "backup" : "primary"
    let entryOffset = Int64(header.partitionEntryLBA) * Int64(sectorSize)
    let headerOffset = Int64(header.myLBA) * Int64(sectorSize)
    let steps: [WritePlan.Step] = [
      .write(
        offset: entryOffset, old: try source.read(at: entryOffset, count: padded.count), new: padded,
        sectorSize: sectorSize,
        reason:
          "\(damaged) GPT entries: \(header.numberOfPartitionEntries) × \(header.sizeOfPartitionEntry) bytes copied from the \(goodCopy.rawValue)"
      ),
      .barrier("the \(damaged) entries on the medium before the header that points at them"),
      .write(
        offset: headerOffset, old: try source.read(at: headerOffset, count: sectorSize), new: headerSector,
        sectorSize: sectorSize,
        reason:
          "\(damaged) GPT header: MyLBA \(header.myLBA), AlternateLBA \(header.alternateLBA), PartitionEntryLBA \(header.partitionEntryLBA), both CRCs"
      ),
      .barrier("the \(damaged) header on the medium"),
    ]
    return try finishWithPMBR(
      steps, notes: ["the \(goodCopy.rawValue) copy (LBA \(good.myLBA)) is read, never written"])
  }

  /// What a damaged protective MBR is and what replaces it.
  struct ProtectiveMBRRepair {
    var problem: String
    var old: [UInt8]
    var new: [UInt8]
    var sectors: UInt32
    var notes: [String]
    /// Why it must not be written.
    var refusal: String?
  }

  /// Sector 0 as the loader must find it on a GPT disk, or nil when it already does (record 1
  /// type 0xEE at LBA 1, boot flag 0, and the 0x55AA signature Linux and sgdisk look for).
  static func protectiveMBRRepair(_ source: any ByteSource) throws -> ProtectiveMBRRepair? {
    let sectorSize = source.sectorSize
    guard sectorSize >= MBR.size else { return nil }
    let old = try source.read(at: 0, count: sectorSize)
    let signature = old.littleEndian(UInt16.self, at: MBR.Offset.signature) ?? 0
    let records = (0..<4).map { slot in
      let at = MBR.entryOffset(slot)
      return (
        flag: old[at], type: old[at + MBRPartitionEntry.Offset.osType],
        start: old.littleEndian(UInt32.self, at: at + MBRPartitionEntry.Offset.startingLBA) ?? 0,
        size: old.littleEndian(UInt32.self, at: at + MBRPartitionEntry.Offset.sizeInLBA) ?? 0
      )
    }
    let first = records[0]
    let loaderTakesGPT = first.type == 0xEE && first.start == 1 && first.flag == 0
    if loaderTakesGPT && signature == MBR.signature { return nil }
    var problems: [String] = []
    if signature != MBR.signature { problems.append("no 0x55AA signature (0x\(String(signature, radix: 16)))") }
    if first.type != 0xEE { problems.append("record 1 has type 0x\(String(first.type, radix: 16)), not 0xEE") }
    if first.start != 1 { problems.append("record 1 starts at LBA \(first.start), not 1") }
    if first.flag != 0 { problems.append("record 1 has boot flag 0x\(String(first.flag, radix: 16))") }
    let problem =
      "the protective MBR is damaged (\(problems.joined(separator: ", ")))"
      + (loaderTakesGPT ? "" : ": the loader reads no GPT, so it finds no bank")
    let sectors = UInt32(clamping: UInt64(source.byteCount) / UInt64(sectorSize) - 1)
    var new = old
    let entries = [
      MBRPartitionEntry(
        bootIndicator: 0, startingCHS: [0x00, 0x02, 0x00], osType: 0xEE, endingCHS: [0xFF, 0xFF, 0xFF],
        startingLBA: 1, sizeInLBA: sectors)
    ]
    for slot in 0..<4 {
      let bytes = slot < entries.count ? entries[slot].encoded() : [UInt8](repeating: 0, count: MBRPartitionEntry.size)
      new.replaceSubrange(MBR.entryOffset(slot)..<(MBR.entryOffset(slot) + MBRPartitionEntry.size), with: bytes)
    }
    new.storeLittleEndian(MBR.signature, at: MBR.Offset.signature)
    let others = records.enumerated().filter { $0.offset > 0 && $0.element.size != 0 }
    var notes = ["sector 0: boot code and disk signature kept"]
    if !others.isEmpty {
      notes.append(
        "MBR records dropped (a hybrid MBR): "
          + others.map {
            "record \($0.offset + 1) type 0x\(String($0.element.type, radix: 16)) at LBA \($0.element.start), \($0.element.size) sectors"
          }
          .joined(separator: "; "))
    }
    var refusal: String?
    if signature == MBR.signature, !records.contains(where: { $0.type == 0xEE }),
      records.contains(where: { $0.size != 0 })
    {
      refusal =
        "sector 0 holds an MBR partition table with no 0xEE record: it may be the disk's real table rather than a damaged protective MBR; not overwritten"
    }
    return ProtectiveMBRRepair(problem: problem, old: old, new: new, sectors: sectors, notes: notes, refusal: refusal)
  }

  /// Whether a header's own CRC and its entry array's CRC hold.
  static func selfConsistent(_ source: any ByteSource, _ header: GPTHeader) -> Bool {
    guard header.computedHeaderCRC32 == header.headerCRC32, let entries = try? entryArray(source, header) else {
      return false
    }
    return CRC32.checksum(entries) == header.partitionEntryArrayCRC32
  }

  /// The entry array a header names (exactly NumberOfPartitionEntries × SizeOfPartitionEntry bytes).
  static func entryArray(_ source: any ByteSource, _ header: GPTHeader) throws -> [UInt8] {
    guard let bytes = header.entryArrayBytes, bytes <= GPTTable.maxEntryArrayBytes else {
      throw PlanError("the GPT header at LBA \(header.myLBA) names an entry array too large to copy")
    }
    return try source.read(at: Int64(header.partitionEntryLBA) * Int64(source.sectorSize), count: Int(bytes))
  }
}
