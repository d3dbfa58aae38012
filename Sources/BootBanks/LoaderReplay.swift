import BootConfig

/// A pure replay of the ESXi boot loader's bank choice (`get_boot_bank()`,
/// `bank_scan()` and `bank_auto_select()` in vmware/esx-boot `safeboot/bootbank.c`).
///
/// For each candidate in scan order, stopping once three banks are counted:
/// 1. No magic, a FAT volume the loader's FAT library cannot open, no `BOOT.CFG` in its root
///    directory, or a boot.cfg the reader rejects: not a bank.
/// 2. `updated` = 0 or an empty `build`: invalid. If the state was 1 or 2 as well, the
///    upgrade failed: the state becomes 3 and the `rollback` flag is set.
/// 3. State 1 becomes 2 (trial boot); 2 becomes 3 (the trial failed); 0 and 3 stay; any
///    other value becomes 3 (invalid); `quickboot` ≠ 0 makes it 3 (one-shot bank).
/// 4. A new state is written in place by the writer (`BootstateWriterView`); when the
///    writer finds no `bootstate=` and digit 0–3 in the first 512 bytes the bank is
///    dropped from the scan. A write the medium refuses is ignored.
/// 5. A bank is bootable when its new state is 0 or 2 and nothing above invalidated it.
/// Among bootable banks the strictly highest `updated` wins; a tie keeps the first scanned.
///
/// Where u-root's port (`pkg/boot/esxi/esxi.go`) differs, this follows the loader: u-root
/// reads a missing `bootstate` as INVALID (the loader reads 0, VALID), matches keys
/// exactly, ignores `updated` = 0, empty `build` and `quickboot`, and looks only at
/// partitions 5 and 6.
public enum LoaderReplay {
  /// `BOOTBANKS_NR`: the loader keeps at most three banks.
  public static let maximumBanks = 3

  /// Replays one boot.
  ///
  /// - Parameters:
  ///   - candidates: The partitions in the loader's scan order.
  ///   - rollbackRequested: Shift+R at the boot prompt (the user confirms the rollback). As
  ///     `main()` in `safeboot/safeboot.c` does: the first scan writes its new states and mboot
  ///     starts; Shift+R interrupts it and safeboot loops, so `get_boot_bank()` scans again over
  ///     what the first scan wrote (writing again: a bank in state 1 goes 1→2→3 in this one
  ///     boot), and only then `bank_kill()` writes the default bank INVALID, which needs another
  ///     valid bank ("No alternate hypervisor to roll back to.").
  public static func run(_ candidates: [BankCandidate], rollbackRequested: Bool = false) -> BankChoice {
    var pass = scanAll(candidates)
    if rollbackRequested {
      var again = candidates
      for i in again.indices {
        if let bytes = pass.written[again[i].partition] { again[i].bootConfig = bytes }
      }
      let second = scanAll(again)
      pass = merge(first: pass, second: second)
    }
    var verdicts = pass.verdicts
    var written = pass.written
    var rollback = pass.rollback

    var messages: [String] = []
    var next = select(verdicts)
    if rollbackRequested, let chosen = next {
      let valid = verdicts.filter { $0.isCounted && $0.bootable }.count
      if valid < 2 {
        messages.append(BankChoice.noAlternate)
        rollback = false
      } else if let config = verdicts[chosen].config,
        let killed = try? (written[verdicts[chosen].partition].map(BootConfig.init(bytes:)) ?? config)
          .settingBootstateInPlace(Int(BankState.invalid))
      {
        if !candidates[chosen].writesFail { written[verdicts[chosen].partition] = killed.bytes }
        verdicts[chosen].bootable = false
        verdicts[chosen].bootstateAfter = BankState.invalid
        verdicts[chosen].bootstateWritten = BankState.invalid
        verdicts[chosen].writePersisted = !candidates[chosen].writesFail
        verdicts[chosen].reason += "; Shift+R: written as INVALID to roll back"
        rollback = true
      } else {
        messages.append(BankChoice.rollbackFailed)
        rollback = false
      }
      next = select(verdicts)
    }
    if next == nil { messages.append(BankChoice.noHypervisor) }

    let fallback = select(verdicts, excluding: next)
    if let next {
      verdicts[next].role = .bootbank
      let alternate = fallback ?? verdicts.indices.first { $0 != next && verdicts[$0].isCounted }
      if let alternate { verdicts[alternate].role = .altbootbank }
    }
    return BankChoice(
      banks: verdicts, nextPartition: next.map { verdicts[$0].partition }, rollback: rollback,
      fallbackPartition: fallback.map { verdicts[$0].partition }, messages: messages, writtenBootConfigs: written)
  }

  /// One `get_boot_bank()` scan: every candidate's verdict, the boot.cfg bytes its writes left
  /// on the medium, and the `rollback` flag.
  struct Pass {
    var verdicts: [BankVerdict]
    var written: [Int: [UInt8]]
    var rollback: Bool
  }

  static func scanAll(_ candidates: [BankCandidate]) -> Pass {
    var pass = Pass(verdicts: [], written: [:], rollback: false)
    var counted = 0
    for candidate in candidates {
      if counted >= maximumBanks {
        pass.verdicts.append(
          verdict(candidate, .notScanned, reason: "not scanned: the loader already found \(maximumBanks) banks"))
        continue
      }
      let (verdict, bytes) = scan(candidate, rollback: &pass.rollback)
      if let bytes { pass.written[candidate.partition] = bytes }
      if verdict.isCounted { counted += 1 }
      pass.verdicts.append(verdict)
    }
    return pass
  }

  /// The second scan after Shift+R, told as the sequel of the first: each bank keeps its state
  /// from before the boot, its reason tells both scans, and the writes of both are kept (the
  /// second's win).
  static func merge(first: Pass, second: Pass) -> Pass {
    var merged = second
    merged.rollback = first.rollback || second.rollback
    merged.written = first.written.merging(second.written) { _, later in later }
    for i in merged.verdicts.indices {
      guard let before = first.verdicts.first(where: { $0.partition == merged.verdicts[i].partition }) else {
        continue
      }
      merged.verdicts[i].bootstateBefore = before.bootstateBefore
      if merged.verdicts[i].bootstateWritten == nil { merged.verdicts[i].bootstateWritten = before.bootstateWritten }
      merged.verdicts[i].writePersisted = merged.verdicts[i].writePersisted || before.writePersisted
      merged.verdicts[i].setsRollback = merged.verdicts[i].setsRollback || before.setsRollback
      if before.reason != merged.verdicts[i].reason || before.bootstateWritten != nil {
        merged.verdicts[i].reason =
          "first scan: \(before.reason); Shift+R, second scan: \(merged.verdicts[i].reason)"
      }
    }
    return merged
  }

  /// `bank_auto_select()`: the bootable bank with the strictly highest `updated`; a tie
  /// keeps the first scanned. Returns an index into `verdicts`.
  static func select(_ verdicts: [BankVerdict], excluding excluded: Int? = nil) -> Int? {
    var best: Int?
    var maxUpdated: UInt32 = 0
    for (i, v) in verdicts.enumerated() where v.isCounted && v.bootable && i != excluded {
      let updated = v.updated ?? 0
      if maxUpdated == 0 || updated > maxUpdated {
        maxUpdated = updated
        best = i
      }
    }
    return best
  }

  static func verdict(_ candidate: BankCandidate, _ status: BankVerdict.Status, reason: String) -> BankVerdict {
    BankVerdict(
      partition: candidate.partition, uuid: candidate.uuid, status: status, config: nil, build: nil, updated: nil,
      bootstateBefore: nil, bootstateAfter: nil, bootstateWritten: nil, writePersisted: false, upgrading: false,
      setsRollback: false, bootable: false, loadProblem: nil, role: nil, reason: reason)
  }

  /// What `parse_config()` in `mboot/config.c` would refuse in a boot.cfg.
  static func loadProblem(_ config: BootConfig) -> String? {
    if let failure = config.mbootParse.failure { return "\(failure)" }
    if (config.mbootParse["skip"]?.integer ?? 0) != 0 { return "skip=1: \"Skipping boot from this configuration\"" }
    if config.kernel == nil { return "\"kernel=<FILEPATH> must be set\"" }
    return nil
  }

  /// `bank_scan()` for one partition: its verdict, and its boot.cfg bytes after a write
  /// that reached the medium.
  static func scan(_ candidate: BankCandidate, rollback: inout Bool) -> (BankVerdict, [UInt8]?) {
    let config: BootConfig
    let options: BankOptions
    switch admit(candidate) {
    case .notABank(let verdict): return (verdict, nil)
    case .bank(let c, let o): (config, options) = (c, o)
    }
    var v = verdict(candidate, .bank, reason: "")
    v.config = config
    v.build = options.build.flatMap { $0.isEmpty ? nil : $0 }
    v.updated = options.updated
    v.bootstateBefore = options.bootstatePresent ? options.bootstate : nil
    var reasons: [String] = []
    var valid = true
    let state = options.bootstate
    if !options.bootstatePresent { reasons.append("no bootstate= line, read as VALID") }
    if options.updated == 0 {
      valid = false
      reasons.append("updated=0: invalid update counter")
    }
    if v.build == nil {
      valid = false
      reasons.append("build= missing or empty: invalid build number")
    }
    let newState = nextState(options, verdict: &v, valid: &valid, reasons: &reasons, rollback: &rollback)

    var persisted: [UInt8]?
    if newState != state {
      v.bootstateWritten = newState
      guard let edited = try? config.settingBootstateInPlace(Int(newState)) else {
        v.status = .dropped(config.writerView.outcome)
        reasons.append(
          "dropped: the loader must write bootstate=\(newState) but finds no 'bootstate=' with a digit 0-3 in the first \(BootstateWriterView.window) bytes"
        )
        v.reason = reasons.joined(separator: "; ")
        return (v, nil)
      }
      if candidate.writesFail {
        reasons.append("the write fails on the medium (ignored: the new state holds for this boot)")
      } else {
        persisted = edited.bytes
        v.writePersisted = true
      }
    }
    v.bootstateAfter = newState
    if newState != BankState.valid && newState != BankState.dirty { valid = false }
    v.bootable = valid
    v.loadProblem = loadProblem(config)
    if valid {
      reasons.append("bootable, updated=\(options.updated)")
      if let problem = v.loadProblem { reasons.append("but the kernel loader will stop: \(problem)") }
    }
    v.reason = reasons.joined(separator: "; ")
    return (v, persisted)
  }

  /// Whether `bank_scan()` counts the partition as a bank at all.
  enum Admission {
    case notABank(BankVerdict)
    case bank(BootConfig, BankOptions)
  }

  /// The magic, the volume and a boot.cfg the loader's reader accepts: the partition is a bank.
  static func admit(_ candidate: BankCandidate) -> Admission {
    guard candidate.uuid != nil else {
      return .notABank(
        verdict(candidate, .notABank(.noMagic), reason: "not a bank: no VMware FAT magic in its second sector"))
    }
    if let problem = candidate.volumeProblem {
      return .notABank(
        verdict(
          candidate, .notABank(.volumeUnreadable(problem)),
          reason: "not a bank: the loader cannot read its FAT volume: \(problem)"))
    }
    guard let bytes = candidate.bootConfig else {
      return .notABank(verdict(candidate, .notABank(.noBootConfig), reason: "not a bank: no /boot.cfg"))
    }
    let config = BootConfig(bytes: bytes)
    guard let options = config.bankOptions else {
      var v = verdict(candidate, .notABank(.noBootConfig), reason: "not a bank: the loader rejects /boot.cfg")
      if let failure = config.safebootParse.failure {
        v.status = .notABank(.bootConfigRejected(failure))
        v.reason = "not a bank: the loader rejects /boot.cfg, \(failure)"
      }
      v.config = config
      return .notABank(v)
    }
    return .bank(config, options)
  }

  /// The bootstate the loader writes back: a trial boot moves UPGRADING to DIRTY and DIRTY to
  /// INVALID; an unknown state, a quickboot bank and a failed upgrade become INVALID (the
  /// last sets the rollback flag).
  static func nextState(
    _ options: BankOptions, verdict v: inout BankVerdict, valid: inout Bool, reasons: inout [String],
    rollback: inout Bool
  ) -> Int32 {
    let state = options.bootstate
    var newState: Int32
    switch state {
    case BankState.upgrading:
      v.upgrading = true
      newState = BankState.dirty
      reasons.append("UPGRADING → DIRTY: trial boot of an upgraded image")
    case BankState.dirty:
      v.upgrading = true
      newState = BankState.invalid
      reasons.append("DIRTY → INVALID: its trial boot never completed")
    case BankState.valid:
      newState = state
    case BankState.invalid:
      newState = state
      reasons.append("INVALID: ignored")
    default:
      valid = false
      newState = BankState.invalid
      reasons.append("bootstate=\(state) is not a loader state (\(BankState.name(state))): written as INVALID")
    }
    if options.quickboot {
      valid = false
      v.upgrading = false
      newState = BankState.invalid
      reasons.append("quickboot: a one-shot bank, written as INVALID")
    }
    if v.upgrading && !valid {
      rollback = true
      v.setsRollback = true
      newState = BankState.invalid
      reasons.append("the upgrade failed: written as INVALID, rollback flag set")
    }
    return newState
  }
}
