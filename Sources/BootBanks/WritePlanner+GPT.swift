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
  public static func repairGPT(
    _ source: any ByteSource, layout: DiskLayout, from requested: GPTCopy? = nil, force: Bool = false
  ) throws -> WritePlan {
    let device = try Device(source, layout: layout)
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
        return try finish(
          command: "repair-gpt", device: device, steps: [], force: force,
          notes: ["both GPT copies are valid and agree: nothing to write"])
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
    return try finish(
      command: "repair-gpt", device: device, steps: steps, force: force,
      notes: ["the \(goodCopy.rawValue) copy (LBA \(good.myLBA)) is read, never written"])
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
