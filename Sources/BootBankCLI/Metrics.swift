import BootBanks
import DiskFormat
import Foundation

/// The metrics `status` and `verify` expose for node_exporter's textfile collector.
///
/// Names follow Prometheus' conventions: a `bootbank_` prefix, base units (`_seconds`),
/// `_info` for a constant 1 carrying descriptive labels. Every sample carries the `device`
/// label, so one textfile per device can sit beside the others in the collector's folder.
enum Metrics {
  /// What one run measured, for the run metrics.
  struct Run {
    var command: String
    var device: String
    var started: Date
    var duration: Duration
  }

  /// The bank metrics of a replayed loader choice: every partition with the magic and a
  /// boot.cfg the loader reads, counted or dropped from the scan (then never bootable).
  static func add(_ status: BankStatus, to metrics: inout Prometheus, device: String) {
    for bank in status.choice.banks where bank.config != nil {
      let partition = String(bank.partition)
      metrics.add(
        "bootbank_bank_info", "A bank: its UUID, build and role (/bootbank boots next, /altbootbank is the other).", 1,
        [
          ("device", device), ("partition", partition), ("uuid", bank.uuid?.kernelForm ?? ""),
          ("build", bank.build ?? ""), ("role", bank.role?.rawValue ?? ""),
        ])
      metrics.add(
        "bootbank_bank_bootable", "1 when the loader would boot this bank if it were chosen (its new state is 0 or 2).",
        bank.bootable ? 1 : 0, [("device", device), ("partition", partition)])
      metrics.add(
        "bootbank_bank_updated", "The bank's updated= counter in boot.cfg (the highest bootable one boots).",
        Double(bank.updated ?? 0), [("device", device), ("partition", partition)])
      if let state = bank.bootstateBefore {
        metrics.add(
          "bootbank_bank_bootstate",
          "The bank's bootstate= on the medium (0 valid, 1 upgrading, 2 dirty, 3 invalid) before the loader's scan.",
          Double(state), [("device", device), ("partition", partition)])
      }
    }
    metrics.add(
      "bootbank_next_boot_partition", "The partition the loader boots next, -1 when none boots.",
      Double(status.choice.nextPartition ?? -1), [("device", device)])
    metrics.add(
      "bootbank_fallback_bootable", "1 when a second bootable bank exists to fall back to.",
      status.choice.fallback?.bootable == true ? 1 : 0, [("device", device)])
  }

  /// The verdicts of `verify`: one for the device, one per bank.
  static func add(_ verification: Verification, to metrics: inout Prometheus, device: String) {
    let help = "1 when verify's verdict is ok; scope device or bank."
    metrics.add(
      "bootbank_verify_ok", help, verification.verdict == .ok ? 1 : 0,
      [("device", device), ("scope", "device"), ("partition", "")])
    for bank in verification.banks {
      metrics.add(
        "bootbank_verify_ok", help, bank.verdict == .ok ? 1 : 0,
        [("device", device), ("scope", "bank"), ("partition", String(bank.partition))])
    }
  }

  /// Findings counted by severity (both severities always present, 0 when none).
  static func add(findings: [Finding], to metrics: inout Prometheus, device: String) {
    for severity in [Finding.Severity.error, .warning] {
      metrics.add(
        "bootbank_findings", "Findings of the last run, by severity.",
        Double(findings.filter { $0.severity == severity }.count),
        [("device", device), ("severity", severity.rawValue)])
    }
  }

  /// Whether the device could be read, and when and how long the run was.
  static func add(run: Run, readable: Bool, to metrics: inout Prometheus) {
    let labels = [("device", run.device), ("command", run.command)]
    metrics.add(
      "bootbank_device_readable", "1 when the device and its partition table could be read.", readable ? 1 : 0,
      [("device", run.device)])
    metrics.add(
      "bootbank_last_run_timestamp_seconds", "When this run started, in seconds since the Unix epoch.",
      run.started.timeIntervalSince1970.rounded(), labels)
    let seconds =
      Double(run.duration.components.seconds) + Double(run.duration.components.attoseconds) / 1e18
    metrics.add(
      "bootbank_run_duration_seconds", "How long this run took.", (seconds * 1000).rounded() / 1000, labels)
  }
}

/// The clock of one run of a command that exposes metrics.
struct MetricsRun {
  var command: String
  var device: String
  let started = Date()
  let start = ContinuousClock.now

  init(command: String, device: String) {
    self.command = command
    self.device = device
  }

  /// Adds the run metrics (readable, timestamp, duration) to `metrics`.
  func finish(_ metrics: inout Prometheus, readable: Bool) {
    Metrics.add(
      run: Metrics.Run(command: command, device: device, started: started, duration: ContinuousClock.now - start),
      readable: readable, to: &metrics)
  }

  /// The metrics of a run that could not read the device: only the run metrics.
  func unreadable() -> Prometheus {
    var metrics = Prometheus()
    finish(&metrics, readable: false)
    return metrics
  }
}
