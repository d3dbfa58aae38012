import BootConfig
import DiskFormat
import PartitionTable

extension WritePlanner {
  /// `bootbank mark`: the bank's bootstate digit written in place, where the loader's own writer
  /// finds it (`bootstate` at the start of a line, `=`, a digit 0–3, in the first 512 bytes).
  ///
  /// Where the writer finds no such digit the bank is refused (the loader would drop it), unless
  /// `rewrite`: boot.cfg is then rewritten through its FAT with `bootstate=` as its first line
  /// and every other line byte for byte (`BootConfig.rewritingBootstateFirst`).
  ///
  /// - Parameter state: 0 (valid), 1 (upgrading) or 3 (invalid).
  public static func mark(
    _ source: any ByteSource, layout: DiskLayout, bank: BankSelector, state: Int32, rewrite: Bool = false,
    force: Bool = false
  ) throws -> WritePlan {
    let device = try Device(source, layout: layout)
    let verdict = try device.resolve(bank)
    let config = verdict.config!
    let name = "\(BankState.name(state)) (\(state))"
    guard case .writable(let at, let digit) = config.writerView.outcome else {
      guard rewrite else {
        return try refused(
          command: "mark", device: device,
          "partition \(verdict.partition): the loader's writer finds no 'bootstate=' with a digit 0-3 in the first \(BootstateWriterView.window) bytes of boot.cfg, so the loader would drop this bank (--rewrite rewrites boot.cfg with 'bootstate=' first)"
        )
      }
      let edited = try config.rewritingBootstateFirst(Int(state))
      return try plan(
        command: "mark", device: device,
        stages: [
          (
            verdict.partition, config.bytes, edited.bytes,
            "partition \(verdict.partition): boot.cfg rewritten with bootstate=\(state), \(name), as its first line (\(config.bytes.count) → \(edited.bytes.count) bytes; every other line kept)"
          )
        ], force: force)
    }
    if digit == 0x30 + UInt8(state) {
      return try finish(
        command: "mark", device: device, steps: [], force: force,
        notes: [
          "partition \(verdict.partition) already has bootstate=\(state) at byte \(at) of boot.cfg: nothing to write"
        ])
    }
    let edited = try config.settingBootstateInPlace(Int(state))
    let old = String(UnicodeScalar(digit))
    return try plan(
      command: "mark", device: device,
      stages: [
        (
          verdict.partition, config.bytes, edited.bytes,
          "partition \(verdict.partition): bootstate \(old) → \(state), \(name), byte \(at) of boot.cfg"
        )
      ], force: force)
  }

  /// `bootbank rollback`: the offline Shift+R, as `LoaderReplay` replays it: every write the
  /// loader makes at a boot where Shift+R is pressed (its scans, then the default bank written
  /// as INVALID), in scan order.
  public static func rollback(_ source: any ByteSource, layout: DiskLayout, force: Bool = false) throws -> WritePlan {
    let device = try Device(source, layout: layout)
    let replay = LoaderReplay.run(device.status.candidates, rollbackRequested: true)
    if let message = replay.messages.first(where: { $0 == BankChoice.noAlternate || $0 == BankChoice.rollbackFailed }) {
      return try refused(command: "rollback", device: device, "the loader says: \(message)")
    }
    guard replay.rollback else {
      return try refused(command: "rollback", device: device, "the loader would not roll back on this device")
    }
    // The default bank the loader kills: written INVALID by the kill, not by a scan.
    let killed = replay.banks.first { $0.reason.contains("Shift+R") }?.partition
    var stages: [(partition: Int, old: [UInt8], new: [UInt8], reason: String)] = []
    for verdict in replay.banks {
      guard let new = replay.writtenBootConfigs[verdict.partition], let old = verdict.config?.bytes, new != old else {
        continue
      }
      let before = BootConfig(bytes: old).bankOptions?.bootstate ?? 0
      let after = BootConfig(bytes: new).bankOptions?.bootstate ?? 0
      let why =
        verdict.partition == killed
        ? "Shift+R: the default bank written as INVALID"
        : "the loader's scan: \(BankState.name(before)) → \(BankState.name(after))"
      stages.append(
        (verdict.partition, old, new, "partition \(verdict.partition): bootstate \(before) → \(after), \(why)"))
    }
    return try plan(
      command: "rollback", device: device, stages: stages, force: force,
      notes: [
        "at a real Shift+R the loader also boots the other bank at once with its rollback flag set; offline, the next boot chooses it by these writes alone"
      ])
  }

  /// `bootbank set-next`: the bank becomes the one the loader boots next, by raising its
  /// `updated` above every other bootable bank's (in place: the number of digits must stay),
  /// and its bootstate set to 0 (valid) or, for a trial, 1 (upgrading: it boots once, and
  /// the current bank boots again when that boot does not commit).
  public static func setNext(
    _ source: any ByteSource, layout: DiskLayout, bank: BankSelector, trial: Bool = false, force: Bool = false
  ) throws -> WritePlan {
    let device = try Device(source, layout: layout)
    let verdict = try device.resolve(bank)
    let config = verdict.config!
    guard let options = config.bankOptions else {
      return try refused(
        command: "set-next", device: device, "partition \(verdict.partition): the loader rejects its boot.cfg")
    }
    let others = device.status.choice.countedBanks.filter { $0.partition != verdict.partition && $0.bootable }
    let highest = others.compactMap(\.updated).max() ?? 0
    var updated = options.updated
    if updated <= highest {
      guard highest < UInt32.max else {
        return try refused(
          command: "set-next", device: device, "another bank has updated=\(highest): there is no higher value")
      }
      updated = highest + 1
    }
    let state: Int32 = trial ? BankState.upgrading : BankState.valid
    var stages: [(partition: Int, old: [UInt8], new: [UInt8], reason: String)] = []
    var current = config
    let bootstateNow: Int32? = options.bootstatePresent ? options.bootstate : nil
    let setsBootstate = bootstateNow != state && !(bootstateNow == nil && state == BankState.valid)
    // A new bootstate the writer cannot put in place, or an `updated` with more digits: one
    // rewrite of boot.cfg through its FAT carries both edits (a single commit).
    let bootstateInPlace = config.writerView.isWritable
    let updatedInPlace = String(updated).utf8.count == String(options.updated).utf8.count
    if (setsBootstate && !bootstateInPlace) || (updated != options.updated && !updatedInPlace) {
      var edited = setsBootstate || !bootstateInPlace ? try config.rewritingBootstateFirst(Int(state)) : config
      var what: [String] = []
      if setsBootstate || !bootstateInPlace {
        what.append("bootstate=\(state) (\(BankState.name(state))) as its first line")
      }
      if updated != options.updated {
        edited = try edited.settingUpdatedInPlace(updated)
        what.append("updated \(options.updated) → \(updated), above every other bootable bank (\(highest))")
      }
      stages.append(
        (
          verdict.partition, config.bytes, edited.bytes,
          "partition \(verdict.partition): boot.cfg rewritten with \(what.joined(separator: " and ")) (\(config.bytes.count) → \(edited.bytes.count) bytes; every other line kept)"
        ))
      return try finishSetNext(
        plan(command: "set-next", device: device, stages: stages, force: force), partition: verdict.partition,
        source: source, layout: layout)
    }
    if setsBootstate {
      guard case .writable(let at, _) = config.writerView.outcome else {
        throw PlanError("partition \(verdict.partition): the loader's writer finds no 'bootstate='")
      }
      let edited = try current.settingBootstateInPlace(Int(state))
      stages.append(
        (
          verdict.partition, current.bytes, edited.bytes,
          "partition \(verdict.partition): bootstate \(bootstateNow.map(String.init) ?? "-") → \(state), \(BankState.name(state)), byte \(at) of boot.cfg"
        ))
      current = edited
    }
    if updated != options.updated {
      let edited = try current.settingUpdatedInPlace(updated)
      stages.append(
        (
          verdict.partition, current.bytes, edited.bytes,
          "partition \(verdict.partition): updated \(options.updated) → \(updated), above every other bootable bank (\(highest))"
        ))
    }
    var plan = try plan(command: "set-next", device: device, stages: stages, force: force)
    if stages.isEmpty {
      plan.notes.append("partition \(verdict.partition) already is what set-next asks: nothing to write")
    }
    return try finishSetNext(plan, partition: verdict.partition, source: source, layout: layout)
  }

  /// A set-next plan after which the loader does not boot the bank asked for is refused.
  static func finishSetNext(
    _ plan: WritePlan, partition: Int, source: any ByteSource, layout: DiskLayout
  ) throws -> WritePlan {
    var plan = plan
    if plan.refusal == nil, plan.after.next != partition {
      let reason = plan.after.next.map { "partition \($0)" } ?? "no bank"
      let why = (try? BankStatus.read(from: planned(plan, on: source), layout: layout))?.choice.verdict(
        for: partition)?.reason
      plan.refusal =
        "after this plan the loader would boot \(reason), not partition \(partition)\(why.map { ": \($0)" } ?? "")"
    }
    return plan
  }

  /// `source` with the plan's writes applied, in memory.
  public static func planned(_ plan: WritePlan, on source: any ByteSource) -> OverlayDisk {
    let overlay = OverlayDisk(base: source)
    for step in plan.writes { overlay.apply(step) }
    return overlay
  }
}
