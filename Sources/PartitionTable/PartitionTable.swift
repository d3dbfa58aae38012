import DiskFormat

/// Reads a disk's partition table the way ESXi's boot loader does, and the way Linux does.
public enum PartitionTable {
  /// Reads the MBR, EBR chain or GPT of a disk and judges every structure.
  ///
  /// ESXi's loader (`bootlib/volume.c`, `bootlib/gpt.c`) takes the disk as GPT only when MBR
  /// record 1 is protective (type 0xEE, StartingLBA 1, BootIndicator 0); otherwise it reads an MBR
  /// with its EBR chain. It reads only the primary GPT and never falls back to the backup. Linux
  /// (sgdisk, libblkid) takes GPT when any record is 0xEE or a GPT header is at LBA 1. Where the
  /// two differ, `type` and `linuxType` say so and `findings` carries an error.
  ///
  /// - Parameters:
  ///   - source: The disk: an image file, a block device, or bytes in memory.
  ///   - sectorSize: The logical sector size; nil to decide from the bytes (see
  ///     `detectSectorSize(of:)`). Pass a block device's BLKSSZGET here.
  /// - Returns: The layout; problems are findings in it, not errors.
  /// - Throws: `FormatError` when the source is shorter than one 512-byte sector or the sector
  ///   size is not a power of two in 512...65536; `ReadError` when the medium fails.
  public static func read(from source: any ByteSource, sectorSize: Int? = nil) throws -> DiskLayout {
    var layout = try readTable(from: source, sectorSize: sectorSize)
    if layout.loader.scheme == .mbr {
      // Sector 0 is no protective MBR: the loader walks MBR records and EBRs by its own rules
      // (no 0x55AA or BootIndicator check on sector 0), whatever Linux makes of it.
      // Never "cannot read" where the loader's walk gives it a volume to scan: its problems
      // (a broken EBR, a GPT Linux reads instead) are findings. Where Linux sees no table or
      // a GPT, records count only when one is a FAT partition the loader can reach (a boot
      // sector's code read as records is no table).
      switch layout.linuxType {
      case .mbr: layout.esxiBootable = !layout.loader.volumes.isEmpty
      case .gpt, .none: layout.esxiBootable = layout.loader.hasFATVolume(within: layout.sectorCount)
      }
      layout.findings += layout.loader.findings
    }
    return layout
  }

  static func readTable(from source: any ByteSource, sectorSize: Int?) throws -> DiskLayout {
    let size = source.byteCount
    guard size >= Int64(MBR.size) else {
      throw FormatError(
        structure: "MBR", field: "Signature", offset: 0,
        kind: .truncated(needed: MBR.size, available: Int(max(0, size))))
    }
    let detection: SectorSizeDetection
    if let sectorSize {
      detection = SectorSizeDetection(sectorSize: sectorSize, reason: .explicit)
    } else {
      detection = try detectSectorSize(of: source)
    }
    let ss = detection.sectorSize
    guard ss >= 512, ss <= 65536, ss.nonzeroBitCount == 1 else {
      throw FormatError(
        structure: "disk", field: "sectorSize", offset: 0,
        kind: .outOfRange(value: UInt64(max(0, ss)), allowed: 512...65536))
    }
    let sectors = UInt64(size / Int64(ss))
    var layout = DiskLayout(
      source: source.name, sizeBytes: size, sectorSize: ss, sectorSizeReason: detection.reason,
      sectorCount: sectors, type: .none, linuxType: .none, esxiBootable: false, structures: [], partitions: [],
      linuxPartitions: nil, findings: [], diskGUID: nil, mbrDiskSignature: nil)

    layout.loader = try LoaderTable.read(from: source, sectorSize: ss)
    let sector0 = try source.read(at: 0, count: MBR.size)
    let hint = BootSectorHint(sector0.span)
    let gptAtLBA1 = try hasGPTSignature(source, at: Int64(ss))

    let mbr: MBR
    do {
      mbr = try MBR(parsing: sector0.span, at: 0)
    } catch {
      var findings = [Finding(.error, error)]
      findings.append(Finding(.error, "noPartitionTable", "sector 0 is not an MBR: no partition table", offset: 0))
      layout.structures = [StructureVerdict(name: StructureVerdict.mbr, ok: false, findings: findings)]
      if gptAtLBA1 { try addLinuxGPT(to: &layout, from: source, why: "there is no MBR at all") }
      try addSectorSizeHint(to: &layout, from: source)
      return layout
    }
    layout.mbrDiskSignature = mbr.diskSignature

    if mbr.isProtectiveForESXi {
      try readGPT(into: &layout, mbr: mbr, from: source)
      return layout
    }

    // Not GPT for ESXi. Is sector 0 a partition table at all?
    if let reason = notATable(mbr, hint: hint, sectors: sectors) {
      layout.structures = [StructureVerdict(name: StructureVerdict.mbr, ok: false, findings: reason)]
      if gptAtLBA1 || mbr.hasGPTEntry {
        try addLinuxGPT(to: &layout, from: source, why: "sector 0 is not a valid MBR")
      }
      try addSectorSizeHint(to: &layout, from: source)
      return layout
    }
    var extra = [Finding]()
    if case .fat = hint {
      extra.append(
        Finding(
          .warning, "ambiguousMBRvsFAT",
          "MBR: sector 0 is both an MBR and \(hint.description); Linux (sfdisk) reads the table, libblkid reports a whole-disk FAT file system",
          offset: 0))
    }
    let table = try MBRTable.read(mbr: mbr, from: source, sectorSize: ss, extraFindings: extra)
    layout.type = .mbr
    layout.linuxType = .mbr
    layout.partitions = table.partitions
    layout.structures = table.verdicts
    layout.esxiBootable = table.verdicts.allSatisfy(\.ok)
    if gptAtLBA1 || mbr.hasGPTEntry {
      try addLinuxGPT(to: &layout, from: source, why: protectiveRuleFailure(mbr))
    }
    return layout
  }

  /// The disk as GPT (ESXi's loader rule holds).
  static func readGPT(into layout: inout DiskLayout, mbr: MBR, from source: any ByteSource) throws {
    let gpt = try GPTTable.read(from: source, sectorSize: layout.sectorSize)
    layout.type = .gpt
    layout.linuxType = .gpt
    layout.structures = [protectiveVerdict(mbr, sectors: layout.sectorCount)] + gpt.verdicts
    // The loader's own checks alone decide (see `DiskLayout.esxiBootable`).
    let loaderReads = layout.loader.scheme == .gpt
    layout.esxiBootable = loaderReads || layout.loader.hasFATVolume
    // When the loader reads no table, the findings below say so already.
    if layout.loader.scheme != .none { layout.findings += layout.loader.findings }
    layout.partitions = gpt.primaryPartitions ?? []
    if gpt.primaryPartitions == nil, let backup = gpt.backupPartitions { layout.linuxPartitions = backup }
    if gpt.primaryPartitions == nil, gpt.backupPartitions == nil { layout.linuxType = .none }
    layout.diskGUID = (gpt.primaryPartitions != nil ? gpt.primaryHeader : gpt.backupHeader)?.diskGUID
    layout.gpt = gpt
    if !gpt.primaryOK, loaderReads {
      layout.findings.append(
        Finding(
          gpt.backupOK ? .warning : .error, gpt.backupOK ? "primaryGPTBadForUEFI" : "noSoundGPT",
          (gpt.backupOK
            ? "the primary GPT fails checks UEFI firmware and Linux make, and the backup GPT is good: they use the backup"
            : "neither the primary nor the backup GPT is sound by the checks UEFI firmware and Linux make")
            + "; ESXi's loader checks only the primary's Signature, MyLBA and two CRCs, and reads it",
          lba: 1))
    } else if !gpt.primaryOK, !layout.loader.hasFATVolume {
      if gpt.backupOK {
        layout.findings.append(
          Finding(
            .error, "primaryGPTBadBackupGood",
            "the primary GPT is bad and the backup GPT is good: readable on Linux, NOT bootable by ESXi (its loader reads only the primary GPT)",
            lba: 1))
      } else {
        layout.findings.append(
          Finding(
            .error, "noSoundGPT",
            "neither the primary nor the backup GPT is sound: NOT bootable by ESXi",
            lba: 1))
      }
      if gpt.primaryPartitions == nil, gpt.backupPartitions == nil {
        layout.findings.append(
          Finding(
            .error, "noUsableGPT",
            "neither the primary nor the backup GPT can be read: the protective MBR covers a disk with no readable partition table",
            lba: 1))
        try addSectorSizeHint(to: &layout, from: source)
      }
    }
  }

  /// Where ESXi reads MBR (or nothing) but Linux would read a GPT.
  static func addLinuxGPT(to layout: inout DiskLayout, from source: any ByteSource, why: String) throws {
    let gpt = try GPTTable.read(from: source, sectorSize: layout.sectorSize)
    guard let linux = gpt.primaryPartitions ?? gpt.backupPartitions else { return }
    layout.gpt = gpt
    layout.linuxType = .gpt
    layout.linuxPartitions = linux
    layout.esxiBootable = false
    let sector0 = try source.read(at: 0, count: MBR.size)
    if let mbr = try? MBR(parsing: sector0.span, at: 0) {
      layout.structures.insert(protectiveVerdict(mbr, sectors: layout.sectorCount), at: 0)
    }
    layout.structures += gpt.verdicts
    layout.diskGUID = (gpt.primaryPartitions != nil ? gpt.primaryHeader : gpt.backupHeader)?.diskGUID
    layout.findings.append(
      Finding(
        .error, "esxiSeesMBR",
        "ESXi's loader does not read this disk as GPT (\(why)); Linux and sgdisk read its GPT with \(linux.count) partition(s)",
        offset: Int64(MBR.entryOffset(0))))
  }

  /// The verdict on sector 0 of a GPT disk.
  static func protectiveVerdict(_ mbr: MBR, sectors: UInt64) -> StructureVerdict {
    var judge = GPTTable.Judge(StructureVerdict.protectiveMBR, .error)
    typealias O = MBRPartitionEntry.Offset
    let record = mbr.entries[0]
    let at = Int64(MBR.entryOffset(0))
    if record.osType != 0xEE {
      let elsewhere = mbr.entries.firstIndex { $0.osType == 0xEE }.map { "; 0xEE is in record \($0 + 1)" } ?? ""
      judge.field(
        hard: true, "OSType", at: at + Int64(O.osType),
        .conflict(
          found: .text(hex2(record.osType)), expected: .hex(0xEE), relation: ", ESXi's loader needs ",
          consequence: elsewhere, record: "record 1"))
    }
    if record.startingLBA != 1 {
      judge.field(
        hard: true, "StartingLBA", at: at + Int64(O.startingLBA),
        .conflict(
          found: .number(UInt64(record.startingLBA)), expected: .number(1), relation: ", ESXi's loader needs ",
          record: "record 1"))
    }
    if record.bootIndicator != 0 {
      judge.field(
        hard: true, "BootIndicator", at: at + Int64(O.bootIndicator),
        .conflict(
          found: .text(hex2(record.bootIndicator)), expected: .text("0x00"), relation: ", ESXi's loader needs ",
          record: "record 1"))
    }
    let expected = UInt32(clamping: sectors &- 1)
    if record.osType == 0xEE, record.sizeInLBA != expected, record.sizeInLBA != UInt32.max {
      judge.field(
        hard: false, "SizeInLBA", at: at + Int64(O.sizeInLBA),
        .conflict(
          found: .number(UInt64(record.sizeInLBA)), expected: .number(UInt64(expected)), relation: ", expected ",
          consequence: " (the disk size less one)", record: "record 1"))
    }
    // Every record that describes a partition, wherever the 0xee record is.
    let others = mbr.entries.enumerated().filter { !$0.element.isEmpty && $0.element.osType != 0xEE }
    if !others.isEmpty {
      let list = others.map { "\($0.offset + 1) (\(hex2($0.element.osType)))" }.joined(separator: ", ")
      judge.other(
        hard: false, "hybridMBR",
        "hybrid MBR: besides the 0xee record, record(s) \(list) describe partitions; ESXi reads the GPT, legacy BIOS tools read the MBR",
        offset: at)
    }
    return judge.verdict
  }

  /// Why ESXi's rule failed, in words.
  static func protectiveRuleFailure(_ mbr: MBR) -> String {
    let r = mbr.entries[0]
    return
      "MBR record 1 has OSType \(hex2(r.osType)), StartingLBA \(r.startingLBA), BootIndicator \(hex2(r.bootIndicator)); the loader needs 0xee, 1, 0x00"
  }

  /// Findings when sector 0 ends in 0x55AA but is not a partition table; nil when it is one.
  ///
  /// Linux rejects the table when a BootIndicator is not 0x00 or 0x80. A plausible FAT boot
  /// sector with no records, or with records that run past the disk (boot code read as records),
  /// is a whole-disk file system, as libblkid reports it.
  static func notATable(_ mbr: MBR, hint: BootSectorHint, sectors: UInt64) -> [Finding]? {
    let what = hint == .none ? "" : " Sector 0 is \(hint.description): a whole-disk file system."
    for (slot, entry) in mbr.entries.enumerated() where entry.bootIndicator != 0 && entry.bootIndicator != 0x80 {
      let offset = Int64(MBR.entryOffset(slot) + MBRPartitionEntry.Offset.bootIndicator)
      return [
        .field(
          .error, structure: "MBR", field: "BootIndicator", offset: offset,
          .conflict(
            found: .text(hex2(entry.bootIndicator)), expected: .text("0x00 or 0x80"), relation: ", expected ",
            consequence: ": not a partition table.\(what)", record: "record \(slot + 1)"))
      ]
    }
    guard hint != .none else { return nil }
    let used = mbr.entries.filter { !$0.isEmpty }
    if used.isEmpty {
      return [Finding(.error, "wholeDiskFilesystem", "MBR: no partition records.\(what)", offset: 0)]
    }
    if used.contains(where: { UInt64($0.startingLBA) + UInt64($0.sizeInLBA) > sectors }) {
      return [
        Finding(
          .error, "wholeDiskFilesystem", "MBR: its records run past the end of the disk, so they are boot code.\(what)",
          offset: Int64(MBR.Offset.partitionRecord))
      ]
    }
    return nil
  }

  /// When no table was read with this sector size but "EFI PART" sits where another size puts LBA 1.
  static func addSectorSizeHint(to layout: inout DiskLayout, from source: any ByteSource) throws {
    for size in SectorSizeDetection.candidates where size != layout.sectorSize {
      if try hasGPTSignature(source, at: Int64(size)) {
        layout.findings.append(
          Finding(
            .warning, "gptAtOtherSectorSize",
            "a GPT header is at byte \(size): read this disk with \(size)-byte sectors", offset: Int64(size), lba: 1))
      }
    }
  }
}
