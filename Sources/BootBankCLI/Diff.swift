import ArgumentParser
import BootBanks
import DiskFormat
import DiskIO
import PartitionTable

/// `bootbank diff`: bank against bank, by payload.
struct Diff: ReportingCommand {
  var mode: OutputMode { output.mode }

  static let configuration = CommandConfiguration(
    abstract: "Compare the two banks of a device, or the banks of two devices, by payload.",
    usage: "bootbank diff <target> [<other>] [--raw] [options]",
    discussion: """
      With one target, compares the bank that boots next (/bootbank) with the other one \
      (/altbootbank). With two, compares each device's /bootbank, then each /altbootbank. \
      Payloads are matched through each bank's image profile and compared by their digests; \
      the differences sound banks have anyway (boot.cfg bootstate/updated/kernelopt, state.tgz, \
      useropts/jumpstrt/features.gz, onetime.tgz, the bank UUID) are listed apart as "expected". \
      --raw also compares every file byte for byte and the allocated clusters as a whole.

      Examples:
        bootbank diff /dev/sdb
        bootbank diff /dev/sdb backup.img --raw --json

      \(ExitStatus.help(ok: "equal: only the differences sound banks have anyway", findings: "different (including a different number of banks)", unreadable: "a target cannot be read, or has no two banks to compare"))
      """)

  @OptionGroup var target: TargetOptions

  @Argument(
    help: "A second image or device to compare against (default: the other bank of TARGET).",
    completion: .file())
  var other: String?

  @Flag(name: .long, help: "Also compare files byte for byte and the allocated clusters.")
  var raw = false

  @OptionGroup var output: OutputOptions

  func run() throws {
    let left = try banks(of: target.target)
    let report: DeviceComparison
    if let other {
      let right = try banks(of: other)
      report = DeviceComparison.compare(left, of: target.target, with: right, of: other, raw: raw)
    } else {
      guard left.count == 2 else {
        throw CLIError(
          .notABootDevice, path: target.target,
          "\(left.count) bank(s) with a boot.cfg the loader accepts; diff needs two (or give OTHER)")
      }
      report = DeviceComparison.compare(left[0], left[1], raw: raw)
    }
    if output.json {
      try printJSON(report)
    } else {
      for comparison in report.comparisons { emit(render(comparison)) }
      let unmatched = report.differences.filter {
        $0.path == nil && $0.payload == nil && $0.kind != .changed && $0.kind != .expected
      }
      for d in unmatched { emit("\(d.kind.rawValue): \(d.detail)") }
    }
    throw (report.equal ? ExitStatus.ok : ExitStatus.findings).code
  }

  /// The banks of a device, in the order `diff` pairs them.
  func banks(of path: String) throws -> [BankContent] {
    do {
      let device = try OpenedDevice.open(path: path, sectorSize: target.sectorSize)
      let status = try BankStatus.read(from: device.target, layout: device.layout)
      // No table Linux reads and no bank the loader finds through its own reading of sector 0.
      if device.layout.type == .none && status.choice.countedBanks.isEmpty {
        throw CLIError(.notABootDevice, path: path, "no MBR or GPT: not a boot device")
      }
      return try status.comparableBanks.compactMap { verdict in
        guard let partition = device.layout.loaderVolume(verdict.partition), let config = verdict.config else {
          return nil
        }
        let side = BankComparison.Side(
          device: path, partition: verdict.partition, build: verdict.build, uuid: verdict.uuid?.kernelForm)
        return try BankContent.read(device.source(of: partition), side: side, config: config, raw: raw)
      }
    } catch { throw failure(error, path: path) }
  }

  func render(_ comparison: BankComparison) -> String {
    let l = comparison.left
    let r = comparison.right
    var lines = [
      "Comparing \(l.device == r.device ? "" : l.device + " ")partition \(l.partition) (build \(l.build ?? "?")) with \(l.device == r.device ? "" : r.device + " ")partition \(r.partition) (build \(r.build ?? "?")): \(comparison.equal ? "SAME IMAGE" : "DIFFERENT")"
    ]
    let real = comparison.differences.filter { $0.kind != .expected }
    let expected = comparison.differences.filter { $0.kind == .expected }
    if !real.isEmpty {
      lines.append("Differences:")
      for d in real {
        lines.append("  \(d.kind.rawValue.padding(8)) \(d.path ?? "") \(d.payload.map { "[\($0)] " } ?? "")\(d.detail)")
      }
    }
    if !expected.isEmpty {
      lines.append("Expected differences (sound banks have these):")
      for d in expected { lines.append("  \(d.path.map { $0 + ": " } ?? "")\(d.detail)") }
    }
    return lines.joined(separator: "\n")
  }
}

extension String {
  func padding(_ width: Int) -> String { pad(self, width) }
}
