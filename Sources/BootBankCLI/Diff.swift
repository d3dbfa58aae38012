import ArgumentParser
import BootBanks
import DiskFormat
import DiskIO
import PartitionTable

/// `bootbank diff`: bank against bank, by payload.
struct Diff: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Compare the two banks of a device, or the banks of two devices, by payload.",
    discussion: """
      With one target, compares the bank that boots next (/bootbank) with the other one
      (/altbootbank). With two, compares each device's /bootbank, then each /altbootbank.
      Payloads are matched through each bank's image profile and compared by their digests;
      the differences sound banks have anyway (boot.cfg bootstate/updated/kernelopt, state.tgz,
      useropts/jumpstrt/features.gz, onetime.tgz, the bank UUID) are listed apart as "expected".
      --raw also compares every file byte for byte and the allocated clusters as a whole.

      Exit status: 0 equal (only expected differences), 1 different, 2 unreadable, 64 usage.
      """)

  @Argument(help: "An image file or a block device.")
  var target: String

  @Argument(help: "A second image or device to compare against (default: the other bank of TARGET).")
  var other: String?

  @Option(name: .long, help: "Logical sector size of image files: 512 or 4096.")
  var sectorSize: Int?

  @Flag(name: .long, help: "Also compare files byte for byte and the allocated clusters.")
  var raw = false

  @OptionGroup var output: OutputOptions

  struct Report: Encodable {
    var equal: Bool
    var differences: [BankComparison.Difference]
    var comparisons: [BankComparison]
  }

  func run() throws {
    var comparisons: [BankComparison] = []
    do {
      let left = try banks(of: target)
      if let other {
        let right = try banks(of: other)
        for (a, b) in zip(left, right) {
          comparisons.append(BankComparer.compare(a, b, raw: raw))
        }
        if left.count != right.count {
          throw ValidationError("\(target) has \(left.count) bootable banks and \(other) has \(right.count)")
        }
      } else {
        guard left.count == 2 else {
          throw DiffError(
            message:
              "\(target): \(left.count) bank(s) with a boot.cfg the loader accepts; diff needs two (or give OTHER)")
        }
        comparisons.append(BankComparer.compare(left[0], left[1], raw: raw))
      }
    } catch let error as ValidationError {
      throw error
    } catch { throw failure(error, path: target) }
    let report = Report(
      equal: comparisons.allSatisfy(\.equal), differences: comparisons.flatMap(\.differences), comparisons: comparisons)
    if output.json {
      try printJSON(report)
    } else {
      for comparison in comparisons { print(render(comparison)) }
    }
    throw (report.equal ? ExitStatus.ok : ExitStatus.findings).code
  }

  struct DiffError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
  }

  /// The banks of a device: /bootbank first, then /altbootbank, then any other counted bank.
  func banks(of path: String) throws -> [BankContent] {
    let options = try TargetOptions.parse([path] + (sectorSize.map { ["--sector-size", String($0)] } ?? []))
    let device = try OpenedDevice.open(options)
    let status = try BankStatus.read(from: device.target, layout: device.layout)
    let order: (BankVerdict) -> Int = { $0.role == .bootbank ? 0 : $0.role == .altbootbank ? 1 : 2 }
    var out: [BankContent] = []
    for verdict in status.choice.banks.filter({ $0.isCounted && $0.config != nil }).sorted(by: { order($0) < order($1) }
    ) {
      guard let partition = device.layout.loaderVolume(verdict.partition), let config = verdict.config else { continue }
      let side = BankComparison.Side(
        device: path, partition: verdict.partition, build: verdict.build, uuid: verdict.uuid?.kernelForm)
      out.append(try BankContent.read(device.source(of: partition), side: side, config: config, raw: raw))
    }
    return out
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
