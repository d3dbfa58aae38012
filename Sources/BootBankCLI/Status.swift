import ArgumentParser
import BootBanks
import DiskFormat
import PartitionTable

/// `bootbank status`: which bank the loader boots next, and why.
struct Status: ReportingCommand {
  var mode: OutputMode { OutputMode(json: output.json || metrics.format == .json, quiet: output.quiet) }

  static let configuration = CommandConfiguration(
    abstract: "Show which bank ESXi's boot loader will boot next, and why.",
    usage: "bootbank status <target> [--after <n>] [--rollback] [-v] [options]",
    discussion: """
      Replays the bank choice of VMware's boot loader on the device and answers first: the \
      partition and build that boot next and whether the fallback can boot. Then each bank: \
      its role once ESXi runs (/bootbank, /altbootbank), build, updated=, bootstate= now and \
      what the loader writes at the next boot, and why. Nothing is written: the loader's \
      writes are shown, not made.

      Examples:
        bootbank status /dev/sdb
        bootbank status disk.img --after 3 --json
        bootbank status disk.img --rollback

      \(ExitStatus.help(ok: "a bank boots next and the fallback can boot", findings: "no bank boots, the fallback cannot boot, or findings", unreadable: "the target cannot be read, or holds no partition table"))
      """)

  @OptionGroup var target: TargetOptions
  @OptionGroup var output: OutputOptions
  @OptionGroup var metrics: MetricsOptions

  @Option(
    name: .long, parsing: .unconditional,
    help: "Also show the next N boots, for a trial boot that succeeds and one that fails (1...64).")
  var after: Int?

  @Flag(name: .long, help: "Replay Shift+R at the boot prompt (roll back to the other bank).")
  var rollback = false

  @Flag(name: .shortAndLong, help: "Also list the partitions that are no banks (the ESP, OSData), and volume UUIDs.")
  var verbose = false

  func validate() throws {
    if let after, !(1...64).contains(after) { throw ValidationError("--after takes 1...64, not \(after)") }
  }

  func run() throws {
    let run = MetricsRun(command: "status", device: target.target)
    let status: BankStatus
    let interruptedRestore: Bool
    do {
      let device = try OpenedDevice.open(target)
      status = try BankStatus.read(from: device.target, layout: device.layout, rollbackRequested: rollback)
      interruptedRestore = RestoreMarker.isPresent(on: device.target)
    } catch {
      if metrics.wanted { try metrics.publish(run.unreadable()) }
      throw failure(error, path: target.target)
    }
    let report = StatusReport(status: status, after: after)
    if metrics.wanted {
      var exposition = Prometheus()
      Metrics.add(status, to: &exposition, device: target.target)
      Metrics.add(findings: status.layout.allFindings + status.findings, to: &exposition, device: target.target)
      run.finish(&exposition, readable: status.layout.type != .none || !status.layout.loader.volumes.isEmpty)
      try metrics.publish(exposition)
    }
    if metrics.format == .prometheus {
      // The metrics were the output.
    } else if output.json || metrics.format == .json {
      try printJSON(report)
    } else {
      emit(report.render(verbose: verbose))
    }
    if interruptedRestore && status.choice.next == nil {
      var error = CLIError(.notABootDevice, path: target.target, "not bootable: \(RestoreMarker.reason)")
      error.reportPrinted = true
      throw error
    }
    if status.layout.type == .none && status.layout.loader.volumes.isEmpty { throw CLIError.noTable(target.target) }
    let healthy = status.choice.next != nil && status.choice.fallback?.bootable == true
    throw (healthy && status.findings.isEmpty ? ExitStatus.ok : ExitStatus.findings).code
  }
}

/// `bootbank status --json`: the bank report, the findings, and the simulated boots.
struct StatusReport: Encodable {
  var status: BankStatusReport
  var findings: [Finding]
  var after: [String: [BootStep]]?
  /// See `BankChoice.tiedUpdated` (text only).
  var tiedUpdated: UInt32?

  struct BootStep: Encodable {
    var boot: Int
    @Nullable var partition: Int?
    @Nullable var build: String?
    var trial: Bool
    var outcome: String
    /// Each bank's bootstate on disk after this boot, by partition number.
    var bootstates: [String: Int32?]
  }

  init(status: BankStatus, after: Int?) {
    self.status = BankStatusReport(status.choice)
    self.findings = status.findings
    self.tiedUpdated = status.choice.tiedUpdated
    if let after {
      var simulated: [String: [BootStep]] = [:]
      for outcome in [BootSimulation.TrialOutcome.succeeds, .fails] {
        simulated["trial" + outcome.rawValue.prefix(1).uppercased() + outcome.rawValue.dropFirst()] = status.after(
          boots: after, outcome: outcome
        ).map { step in
          BootStep(
            boot: step.number, partition: step.choice.nextPartition, build: step.choice.next?.build, trial: step.trial,
            outcome: step.outcome,
            bootstates: Dictionary(uniqueKeysWithValues: step.bootstatesAfter.map { (String($0.key), $0.value) }))
        }
      }
      self.after = simulated
    }
  }

  /// The documented keys of `BankStatusReport` at the top level, plus findings and after.
  func encode(to encoder: any Encoder) throws {
    try status.encode(to: encoder)
    var container = encoder.container(keyedBy: Keys.self)
    try container.encode(findings, forKey: .findings)
    if let after { try container.encode(after, forKey: .after) }
  }

  enum Keys: String, CodingKey { case findings, after }

  /// The answer first (next boot and fallback), then the banks in a table that fits 80
  /// columns with a legend, then why each partition is or is not a bank. Partitions with no
  /// VMware FAT magic (the ESP, the OSData/VMFS-L ones) only with `verbose`.
  func render(verbose: Bool = false) -> String {
    var lines: [String] = []
    var answer: String
    if let next = status.next {
      answer = "Next boot: partition \(next.partition), build \(next.build ?? "?")"
    } else {
      answer = "Next boot: none: the loader stops with \"No hypervisor found.\""
    }
    if let fallback = status.fallback {
      answer += " — fallback partition \(fallback.partition): "
      answer += fallback.bootable ? "ok" : "BAD"
    } else if status.next != nil {
      answer += " — no fallback"
    }
    lines.append(answer)
    if let fallback = status.fallback, !fallback.bootable, status.next != nil {
      lines.append("The fallback cannot boot: a failed boot has no way back.")
    } else if status.fallback == nil, status.next != nil {
      lines.append("No other bank can boot: a failed boot has no way back.")
    }
    if let tie = tieNote { lines.append(tie) }
    lines.append("Rollback flag: \(status.rollback ? "set" : "not set")")
    for message in status.messages where message != "No hypervisor found." || status.next != nil {
      lines.append("Loader: \(message)")
    }
    let shown = status.banks.filter { verbose || $0.bootstateAfter != nil || $0.build != nil || $0.role != nil }
    lines.append("")
    if shown.isEmpty {
      let looked = status.banks.count
      lines.append(
        looked == 0
          ? "No partition of a FAT type: nothing for the loader to look at."
          : "No bank: none of the \(looked) FAT partition(s) holds a boot.cfg the loader accepts (--verbose lists them)."
      )
    } else {
      var rows = [["PART", "ROLE", "BUILD", "UPDATED", "STATE", "AFTER BOOT", "BOOTS"]]
      for bank in shown {
        rows.append([
          String(bank.partition), bank.role?.rawValue ?? "-", bank.build ?? "-", bank.updated.map(String.init) ?? "-",
          stateText(bank.bootstate, missing: bank.updated != nil),
          bank.bootstateAfter.map { stateText($0, missing: false) } ?? "-", bank.bootable ? "yes" : "no",
        ])
      }
      lines.append(renderTable(rows))
      lines.append("  ROLE: where ESXi mounts it. UPDATED: boot.cfg's updated=; the higher boots.")
      lines.append("  STATE: boot.cfg's bootstate= now (missing reads as valid). AFTER BOOT: what")
      lines.append("  the loader writes at the next boot. BOOTS: whether the loader can boot it.")
      lines.append("")
      for bank in shown {
        lines.append("partition \(bank.partition): \(bank.reason)")
        if verbose, let volumes = bank.volumesUUID { lines.append("  /vmfs/volumes/\(volumes)") }
      }
    }
    if !findings.isEmpty {
      lines.append("")
      lines.append("Findings:")
      for finding in findings {
        lines.append(
          "  \(finding.severity.rawValue): \(finding.partition.map { "partition \($0): " } ?? "")\(finding.message)")
      }
    }
    if let after {
      for key in ["trialSucceeds", "trialFails"] {
        guard let steps = after[key] else { continue }
        lines.append("")
        lines.append(
          key == "trialSucceeds" ? "Next boots if a trial boot succeeds:" : "Next boots if a trial boot fails:")
        for step in steps {
          let states = step.bootstates.keys.sorted { Int($0) ?? 0 < Int($1) ?? 0 }.map { p in
            "p\(p)=\(step.bootstates[p].flatMap { $0 }.map(String.init) ?? "-")"
          }.joined(separator: " ")
          lines.append("  boot \(step.boot): \(step.outcome)  [\(states)]")
        }
      }
    }
    return lines.flatMap { $0.split(separator: "\n", omittingEmptySubsequences: false) }.flatMap { wrap(String($0)) }
      .joined(separator: "\n")
  }

  /// The tie line, when the loader's rule rather than `updated` chose the bank.
  var tieNote: String? {
    tiedUpdated.map { "Tie on updated=\($0): the lower partition wins (the loader's rule)." }
  }

  /// A bootstate as boot.cfg's comment names it ("valid", "upgrading", "dirty", "invalid").
  func stateText(_ state: Int32?, missing: Bool) -> String {
    guard let state else { return missing ? "missing" : "-" }
    let names = [0: "valid", 1: "upgrading", 2: "dirty", 3: "invalid"]
    return names[Int(state)] ?? "\(state)?"
  }
}
