import ArgumentParser
import BootBanks
import DiskFormat
import PartitionTable

/// `bootbank status`: which bank the loader boots next, and why.
struct Status: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show which bank ESXi's boot loader will boot next, and why.",
    discussion: """
      Replays the bank choice of VMware's loader (esx-boot safeboot/bootbank.c) on the device:
      each bank's bootstate before and after the scan, the bank that boots, its role
      (/bootbank), the fallback (/altbootbank), the rollback flag, or "No hypervisor found.".
      Nothing is written: the loader's writes are shown, not made.

      \(ExitStatus.helpText)
      Here 1 also means: no bank boots, or there is no bootable fallback.
      """)

  @OptionGroup var target: TargetOptions
  @OptionGroup var output: OutputOptions

  @Option(name: .long, help: "Also show the next N boots, for a trial boot that succeeds and one that fails (1...64).")
  var after: Int?

  @Flag(name: .long, help: "Replay Shift+R at the boot prompt (roll back to the other bank).")
  var rollback = false

  func validate() throws {
    if let after, !(1...64).contains(after) { throw ValidationError("--after takes 1...64, not \(after)") }
  }

  func run() throws {
    let status: BankStatus
    do {
      let device = try OpenedDevice.open(target)
      status = try BankStatus.read(from: device.target, layout: device.layout, rollbackRequested: rollback)
    } catch { throw failure(error, path: target.target) }
    let report = StatusReport(status: status, after: after)
    if output.json {
      try printJSON(report)
    } else {
      print(report.render())
    }
    if status.layout.type == .none && status.layout.loader.volumes.isEmpty { throw ExitStatus.unreadable.code }
    let healthy = status.choice.next != nil && status.choice.fallback?.bootable == true
    throw (healthy && status.findings.isEmpty ? ExitStatus.ok : ExitStatus.findings).code
  }
}

/// `bootbank status --json`: the bank report, the findings, and the simulated boots.
struct StatusReport: Encodable {
  var status: BankStatusReport
  var findings: [Finding]
  var after: [String: [BootStep]]?

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
    self.status = status.report
    self.findings = status.findings
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

  func render() -> String {
    var lines: [String] = []
    var rows = [["PART", "ROLE", "UUID", "BUILD", "UPDATED", "BOOTSTATE", "AFTER SCAN", "BOOTABLE"]]
    for bank in status.banks {
      rows.append([
        String(bank.partition), bank.role?.rawValue ?? "-", bank.uuid ?? "-", bank.build ?? "-",
        bank.updated.map(String.init) ?? "-", stateText(bank.bootstate, missing: bank.updated != nil),
        bank.bootstateAfter.map { stateText($0, missing: false) } ?? "-", bank.bootable ? "yes" : "no",
      ])
    }
    lines.append(renderTable(rows))
    lines.append("")
    for bank in status.banks {
      lines.append("partition \(bank.partition): \(bank.reason)")
      if let volumes = bank.volumesUUID { lines.append("  /vmfs/volumes/\(volumes)") }
    }
    lines.append("")
    if let next = status.next {
      lines.append("Next boot: partition \(next.partition), build \(next.build ?? "?")")
    } else {
      lines.append("Next boot: none. The loader stops with \"No hypervisor found.\"")
    }
    lines.append("Rollback flag: \(status.rollback ? "set" : "not set")")
    if let fallback = status.fallback {
      lines.append(
        "Fallback: partition \(fallback.partition), \(fallback.bootable ? "bootable" : "NOT bootable: a failed boot now has no way back")"
      )
    } else {
      lines.append("Fallback: none: a failed boot now has no way back")
    }
    for message in status.messages where message != "No hypervisor found." || status.next != nil {
      lines.append("Loader: \(message)")
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
    return lines.joined(separator: "\n")
  }

  func stateText(_ state: Int32?, missing: Bool) -> String {
    guard let state else { return missing ? "missing (read as 0)" : "-" }
    let names = [0: "VALID", 1: "UPGRADING", 2: "DIRTY", 3: "INVALID"]
    return "\(state) \(names[Int(state)] ?? "unknown")"
  }
}
