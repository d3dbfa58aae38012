import BootConfig
import DiskFormat
import FAT
import PartitionTable

extension WritePlanner {
  /// What `bootbank sync` is asked to do.
  public struct SyncRequest: Hashable, Sendable {
    /// The source bank (default: the bank that boots next; with another source device, its
    /// bank that boots next).
    public var from: BankSelector?
    /// The target bank (default: the other bank of the target device).
    public var to: BankSelector?
    /// The target boots next (bootstate 0).
    public var makeNext: Bool
    /// The target boots next once (bootstate 1); the current bank stays the fallback.
    public var trial: Bool
    public var force: Bool

    public init(
      from: BankSelector? = nil, to: BankSelector? = nil, makeNext: Bool = false, trial: Bool = false,
      force: Bool = false
    ) {
      self.from = from
      self.to = to
      self.makeNext = makeNext
      self.trial = trial
      self.force = force
    }
  }

  /// Where a write's bytes come from, for executors that copy from the source device.
  public struct SyncCopy: Hashable, Sendable {
    /// Byte offset on the target device.
    public var offset: Int64
    /// Byte range on the source device.
    public var source: Range<Int64>
  }

  /// `bootbank sync`: the target bank made a file-level copy of the source bank, its boot.cfg
  /// written as ESXi writes it with `updated`/`bootstate` chosen for the asked-for choice.
  ///
  /// The order holds against a power cut at any instant:
  /// 1. (only when the numbers leave no room) the bank that must stay next gets its `updated`
  ///    raised by one digit in place; barrier.
  /// 2. The target is hidden from the loader: the "VMWARE FAT16" signature in its second
  ///    sector cleared, the UUID kept (one sector); barrier.
  /// 3. File data, contiguous in the source's order; then the directories, every FAT copy and
  ///    FSInfo (only the sectors that change); barrier.
  /// 4. The commit: the signature restored with the same UUID (one sector); barrier.
  /// Before step 4 the loader ignores the target; after it the target is complete.
  ///
  /// - Parameters:
  ///   - target: The device written.
  ///   - other: The device the source bank is read from, when it is not `target`.
  public static func sync(
    _ target: any ByteSource, layout: DiskLayout, from other: (source: any ByteSource, layout: DiskLayout)? = nil,
    _ request: SyncRequest
  ) throws -> WritePlan {
    let device = try Device(target, layout: layout)
    let sourceDevice = try other.map { try Device($0.source, layout: $0.layout) } ?? device
    let sameDevice = other == nil
    var notes: [String] = []
    func refuse(_ why: String) throws -> WritePlan {
      try refused(command: "sync", device: device, why, notes: notes)
    }

    // The source bank.
    let sourceVerdict: BankVerdict
    if let from = request.from {
      sourceVerdict = try sourceDevice.resolve(from)
    } else {
      guard let next = sourceDevice.status.choice.next, next.uuid != nil, next.config != nil else {
        return try refuse(
          "no bank boots next on \(sourceDevice.source.name): name the source bank with --from")
      }
      sourceVerdict = next
    }
    let sourceNumber = sourceVerdict.partition
    let sourceName =
      sameDevice ? "partition \(sourceNumber)" : "partition \(sourceNumber) of \(sourceDevice.source.name)"

    // The target bank.
    let targetNumber: Int
    switch request.to {
    case .partition(let n)?: targetNumber = n
    case .bootbank?, .altbootbank?: targetNumber = try device.resolve(request.to!).partition
    case nil:
      if sameDevice {
        let others = bankPartitions(device).filter { $0 != sourceNumber }
        guard let first = others.first else {
          return try refuse("there is no other bank on this device than \(sourceName): name the target with --to")
        }
        targetNumber =
          device.status.choice.altbootbank.map(\.partition).flatMap { others.contains($0) ? $0 : nil }
          ?? first
      } else {
        targetNumber = device.status.choice.altbootbank?.partition ?? sourceNumber
      }
    }
    if isSystemPartition(device, targetNumber) {
      return try refuse("partition \(targetNumber) is the EFI system partition, not a bank")
    }
    if sameDevice && targetNumber == sourceNumber {
      return try refuse("the source and the target are the same partition (\(sourceNumber))")
    }
    guard let targetPartition = layout.loaderVolume(targetNumber) ?? layout.partition(targetNumber) else {
      return try refuse("partition \(targetNumber) is not in the partition table")
    }
    let targetStart = Int64(clamping: targetPartition.offsetBytes)
    let targetSlice = target.slice(targetStart..<(targetStart &+ Int64(clamping: targetPartition.sizeBytes)))

    // Refusals --force overrides: a source that does not verify, a target that boots next.
    var overridden: [String] = []
    let verification = try BankVerifier.verify(sourceDevice.source, layout: sourceDevice.layout)
    let sourceResult = verification.banks.first { $0.partition == sourceNumber }
    if sourceResult?.verdict != .ok {
      let why = sourceResult?.findings.first { $0.severity == .error }?.message ?? "it does not verify"
      overridden.append("the source (\(sourceName)) does not verify: \(why)")
    }
    if device.status.choice.nextPartition == targetNumber {
      overridden.append("the target (partition \(targetNumber)) is the bank that boots next")
    }
    if !overridden.isEmpty && !request.force {
      return try refuse(overridden.joined(separator: "; ") + " (--force writes it anyway)")
    }
    notes += overridden.map { "forced: \($0)" }

    // The source tree, and the target's FAT volume.
    let sourcePartition = try sourcePartitionSlice(sourceDevice, sourceNumber)
    let sourceVolume = try FATVolume(source: sourcePartition)
    var tree = try sourceVolume.writeTree()
    // The target's FAT volume; a target without one (zeroed, or its boot sector destroyed) is
    // formatted with the source's geometry, a serial of its own and the source's label.
    var formatWrites: [(offset: Int64, bytes: [UInt8], reason: String)] = []
    let writer: FATVolumeWriter
    if let targetVolume = try? FATVolume(source: targetSlice) {
      writer = try FATVolumeWriter(target: targetVolume)
    } else {
      let boot = sourceVolume.bootSector
      guard boot.bytesPerSector == target.sectorSize, UInt64(boot.volumeByteCount) <= targetPartition.sizeBytes else {
        return try refuse(
          "partition \(targetNumber) holds no FAT volume, and the source's (\(boot.volumeByteCount) bytes in \(boot.bytesPerSector)-byte sectors) does not fit it (\(targetPartition.sizeBytes) bytes in \(target.sectorSize)-byte sectors): format it first"
        )
      }
      var fresh = boot
      fresh.hiddenSectors = UInt32(clamping: targetPartition.firstLBA)
      let serial = derivedUUID(device: device, partition: targetNumber, sourceUUID: Array("serial".utf8))
      fresh.volumeID = UInt32(serial[0]) | UInt32(serial[1]) << 8 | UInt32(serial[2]) << 16 | UInt32(serial[3]) << 24
      var sector0 = try sourcePartition.read(at: 0, count: target.sectorSize)
      sector0.replaceSubrange(0..<BootSector.size, with: fresh.encoded())
      formatWrites.append(
        (0, sector0, "boot sector (the target had none: the source's geometry, serial \(fresh.serial))"))
      if fresh.type == .fat32, fresh.backupBootSector != 0, Int(fresh.backupBootSector) < fresh.reservedSectors {
        formatWrites.append(
          (Int64(fresh.backupBootSector) * Int64(target.sectorSize), sector0, "backup boot sector"))
      }
      writer = FATVolumeWriter(
        bootSector: fresh, labelEntry: (try? sourceVolume.rootLabelEntry()) ?? nil, badClusters: [], fsInfoSector: nil)
      notes.append(
        "partition \(targetNumber) holds no FAT volume: it is formatted with the source's geometry (\(fresh.type), \(fresh.bytesPerCluster)-byte clusters) and serial \(fresh.serial)"
      )
    }
    let targetBoot = writer.bootSector
    guard targetBoot.bytesPerSector == target.sectorSize else {
      return try refuse(
        "partition \(targetNumber): its FAT has \(targetBoot.bytesPerSector)-byte sectors, the device \(target.sectorSize): the loader cannot open it"
      )
    }
    if targetBoot.type == .fat32 && targetBoot.fsInfoSector == 1 {
      return try refuse("partition \(targetNumber): its FSInfo sector is sector 1, where the VMware signature belongs")
    }

    // boot.cfg: the source's, as ESXi writes it, with the state and counter the choice needs.
    guard let sourceConfig = sourceVerdict.config, let sourceOptions = sourceConfig.bankOptions else {
      return try refuse("\(sourceName): the loader rejects its boot.cfg")
    }
    guard let bootIndex = tree.firstIndex(where: { !$0.isDirectory && $0.entry.rawName == Array("BOOT    CFG".utf8) })
    else { return try refuse("\(sourceName) has no /boot.cfg") }
    let others = device.status.choice.countedBanks.filter { $0.partition != targetNumber && $0.bootable }
    let highest = others.compactMap(\.updated).max() ?? 0
    // The bank that must stay next by default: the source on its own device, else the target
    // device's own bank that boots next.
    let keeper =
      sameDevice ? sourceVerdict : device.status.choice.next.flatMap { $0.partition == targetNumber ? nil : $0 }
    var stages: [(partition: Int, old: [UInt8], new: [UInt8], reason: String)] = []
    let bootstate: Int
    let updated: UInt32
    if request.makeNext || request.trial || keeper == nil {
      guard highest < UInt32.max else { return try refuse("another bank has updated=\(highest): nothing is higher") }
      bootstate = request.trial ? Int(BankState.upgrading) : Int(BankState.valid)
      updated = max(highest + 1, 1)
    } else if let keeper, let keeperUpdated = keeper.updated {
      bootstate = Int(BankState.valid)
      if keeperUpdated > 1 {
        updated = keeperUpdated - 1
      } else if targetNumber > keeper.partition {
        updated = keeperUpdated  // a tie keeps the first scanned: the keeper
      } else {
        // updated=1 and the target is scanned first: the keeper's counter goes up by one digit.
        guard let keeperConfig = keeper.config, keeperUpdated < 9 else {
          return try refuse(
            "partition \(keeper.partition) has updated=\(keeperUpdated) and the target is scanned first: no value keeps partition \(keeper.partition) the bank that boots next"
          )
        }
        let raised = try keeperConfig.settingUpdatedInPlace(keeperUpdated + 1)
        stages.append(
          (
            keeper.partition, keeperConfig.bytes, raised.bytes,
            "partition \(keeper.partition): updated \(keeperUpdated) → \(keeperUpdated + 1), in place, so that it stays the bank that boots next (the target, scanned first, would win a tie)"
          ))
        notes.append(
          "partition \(keeper.partition) has updated=\(keeperUpdated) and the target (partition \(targetNumber)) is scanned first: its updated is raised to \(keeperUpdated + 1) by a one-digit in-place write first"
        )
        updated = keeperUpdated
      }
    } else {
      return try refuse("partition \(keeper?.partition ?? 0) has no updated value to order the banks by")
    }
    let newBootConfig = BootConfig(bytes: sourceConfig.bytes).serialized(bootstate: bootstate, updated: updated)
    tree[bootIndex].content = .bytes(newBootConfig)

    // The FAT layout.
    let fat: FATVolumeLayout
    do { fat = try writer.layout(tree) } catch { return try refuse("partition \(targetNumber): \(error)") }

    // Steps.
    var steps: [WritePlan.Step] = []
    let planned = OverlayDisk(base: target)
    for stage in stages {
      let writes = try inPlaceWrites(
        planned, layout: layout, partition: stage.partition, old: stage.old, new: stage.new, reason: stage.reason)
      for write in writes { planned.apply(write.bytes, at: write.offset ?? 0) }
      steps += writes
      steps.append(.barrier("\(stage.reason): on the medium before the target is touched"))
    }
    let sectorSize = target.sectorSize
    let magicOffset = targetStart + Int64(sectorSize)
    let sector1 = try target.read(at: magicOffset, count: sectorSize)
    let signature = VMwareFATMagic.signature
    let hasMagic = Array(sector1.prefix(signature.count)) == signature
    var committed = sector1
    if hasMagic {
      var hidden = sector1
      hidden.replaceSubrange(0..<signature.count, with: [UInt8](repeating: 0, count: signature.count))
      steps.append(
        .write(
          offset: magicOffset, old: sector1, new: hidden, sectorSize: sectorSize,
          reason:
            "partition \(targetNumber): the \"VMWARE FAT16\" signature cleared (UUID kept), so the loader ignores the target until it is complete"
        ))
      steps.append(.barrier("the target is hidden before any of it is rewritten"))
    } else {
      let fresh = derivedUUID(device: device, partition: targetNumber, sourceUUID: sourceVerdict.uuid?.bytes ?? [])
      committed.replaceSubrange(signature.count..<(signature.count + 16), with: fresh)
      notes.append(
        "partition \(targetNumber) has no \"VMWARE FAT16\" signature: the loader ignores it until the commit writes one, with UUID \(VMwareFATMagic.kernelForm(fresh))"
      )
    }
    committed.replaceSubrange(0..<signature.count, with: signature)
    let hiddenNow =
      hasMagic ? Array([UInt8](repeating: 0, count: signature.count) + sector1.dropFirst(signature.count)) : sector1

    var dataBytes: Int64 = 0
    var metadataBytes: Int64 = 0
    let volumeWrites =
      fat.writes.filter(\.isData)
      + formatWrites.map { FATVolumeWrite(offset: $0.offset, content: .bytes($0.bytes), what: .bootSector) }
      + fat.writes.filter { !$0.isData }
    for write in volumeWrites {
      let offset = targetStart + write.offset
      let reason = "partition \(targetNumber): \(write.what)"
      switch write.content {
      case .bytes(let bytes):
        // Metadata and small files: only the runs of sectors that change.
        let old = try target.read(at: offset, count: write.count)
        for run in changedRuns(old, bytes, sectorSize: sectorSize) {
          let range = run.lowerBound..<run.upperBound
          steps.append(
            .write(
              offset: offset + Int64(run.lowerBound), old: Array(old[range]), new: Array(bytes[range]),
              sectorSize: sectorSize, reason: reason))
          if write.isData { dataBytes += Int64(run.count) } else { metadataBytes += Int64(run.count) }
        }
      case .source(let ranges):
        var bytes: [UInt8] = []
        for range in ranges { bytes += try sourceDevice.source.read(range) }
        bytes += [UInt8](repeating: 0, count: write.count - bytes.count)
        let old = try target.read(at: offset, count: write.count)
        steps.append(.write(offset: offset, old: old, new: bytes, sectorSize: sectorSize, reason: reason))
        dataBytes += Int64(write.count)
      }
    }
    steps.append(
      .barrier("partition \(targetNumber): every file, directory and FAT copy on the medium before the commit"))
    steps.append(
      .write(
        offset: magicOffset, old: hiddenNow, new: committed, sectorSize: sectorSize,
        reason:
          "partition \(targetNumber): the commit: the \"VMWARE FAT16\" signature written back with UUID \(VMwareFATMagic.kernelForm(Array(committed[16..<32])))"
      ))
    steps.append(.barrier("the commit on the medium"))

    let inUse = Int64(fat.clustersUsed) * Int64(targetBoot.bytesPerCluster)
    notes.append(
      "copies \(fat.fileCount) files and \(fat.directoryCount) directories (\(fat.fileBytes) bytes) from \(sourceName) to partition \(targetNumber), file by file; writes \(dataBytes + metadataBytes + Int64(2 * sectorSize)) bytes (\(dataBytes) of file data, \(metadataBytes) of FAT and directories) for \(inUse) bytes in use"
    )
    notes.append(
      "the target keeps its boot sector (serial \(targetBoot.serial)), its UUID and its volume label; its boot.cfg gets bootstate=\(bootstate) and updated=\(updated)"
    )
    notes.append(
      sameDevice
        ? "state.tgz and the per-host files (useropts.gz, jumpstrt.gz, features.gz) come from the source bank"
        : "host configuration (state.tgz, useropts.gz, jumpstrt.gz, features.gz) is copied from \(sourceName)")
    if let oldBuild = device.status.choice.verdict(for: targetNumber)?.build, oldBuild != sourceOptions.build {
      notes.append("the target's build \(oldBuild) is replaced by \(sourceOptions.build ?? "none")")
    }

    var plan = try finish(command: "sync", device: device, steps: steps, force: request.force, notes: notes)
    if plan.refusal == nil {
      let wanted: Int? = request.makeNext || request.trial || keeper == nil ? targetNumber : keeper?.partition
      if plan.after.next != wanted {
        plan.refusal =
          "after this plan the loader would boot \(plan.after.next.map { "partition \($0)" } ?? "no bank"), not partition \(wanted ?? 0) as asked"
      }
    }
    return plan
  }

  /// The partitions of a device shaped like banks: counted banks, and the slots the loader
  /// scans that hold a FAT volume or once held one (magic, boot.cfg), in partition order.
  static func bankPartitions(_ device: Device) -> [Int] {
    let counted = device.status.choice.banks.filter { $0.config != nil && !isSystemPartition(device, $0.partition) }
      .map(\.partition)
    if counted.count >= 2 { return counted }
    // A damaged or zeroed bank: the ESXi layout's bank slots are partitions 5 and 6.
    let slots = [5, 6].filter { device.layout.partition($0) != nil && !isSystemPartition(device, $0) }
    return Array(Set(counted + slots)).sorted()
  }

  /// True for the EFI system partition (by GPT type or MBR type 0xEF): never a sync target.
  static func isSystemPartition(_ device: Device, _ number: Int) -> Bool {
    guard let partition = device.layout.partition(number) else { return false }
    return partition.typeGUID?.description.uppercased() == PartitionType.efiSystem || partition.mbrType == 0xEF
  }

  static func sourcePartitionSlice(_ device: Device, _ number: Int) throws -> SourceSlice {
    guard let partition = device.layout.loaderVolume(number) ?? device.layout.partition(number) else {
      throw PlanError("partition \(number) is not in the partition table of \(device.source.name)")
    }
    let start = Int64(clamping: partition.offsetBytes)
    return device.source.slice(start..<(start &+ Int64(clamping: partition.sizeBytes)))
  }

  /// Ranges of `new` (whole sectors, merged) that differ from `old`.
  static func changedRuns(_ old: [UInt8], _ new: [UInt8], sectorSize: Int) -> [Range<Int>] {
    var runs: [Range<Int>] = []
    var at = 0
    while at < new.count {
      let end = min(at + sectorSize, new.count)
      if old[at..<end] != new[at..<end] {
        if let last = runs.last, last.upperBound == at {
          runs[runs.count - 1] = last.lowerBound..<end
        } else {
          runs.append(at..<end)
        }
      }
      at = end
    }
    return runs
  }

  /// A UUID for a target that has none: 16 bytes of SHA-256 over the device identity, the
  /// partition and the source's UUID (so no two banks share one, and a re-plan gives the same).
  static func derivedUUID(device: Device, partition: Int, sourceUUID: [UInt8]) -> [UInt8] {
    let seed = Array("\(device.identity.path)|\(device.identity.diskGUID ?? "")|\(partition)|".utf8) + sourceUUID
    let hex = sha256Hex(seed)
    var out: [UInt8] = []
    var index = hex.startIndex
    for _ in 0..<16 {
      let next = hex.index(index, offsetBy: 2)
      out.append(UInt8(hex[index..<next], radix: 16) ?? 0)
      index = next
    }
    return out
  }
}
