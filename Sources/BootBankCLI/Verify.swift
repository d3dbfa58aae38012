import ArgumentParser
import BootBanks
import DiskFormat
import Foundation
import PartitionTable

/// `bootbank verify`: one verdict for the device and one per bank.
struct Verify: ReportingCommand {
  var mode: OutputMode { OutputMode(json: output.json || metrics.format == .json, quiet: output.quiet) }

  static let configuration = CommandConfiguration(
    abstract: "Check a boot device the way ESXi's loader reads it: table, banks, boot.cfg, payloads.",
    usage: "bootbank verify <target> [--manifest <file>] [options]",
    discussion: """
      Checks the partition table (the loader reads only the primary GPT), replays the bank \
      choice, and for each bank: the FAT volume to fsck.fat depth, boot.cfg, every kernel= and \
      modules= file, each payload against the bank's own manifest (imgdb.tgz: SHA-256 of the \
      decompressed payload, with ESXi's own per-host exceptions; SHA-1 only where a payload \
      has no SHA-256, or with --all-digests), the files no manifest covers by gzip and tar \
      integrity, and, with --manifest, every region and file against digests saved earlier by \
      `bootbank checksum --manifest` (banks or not). An unreadable sector is reported by LBA \
      with the file it hurts. A partition shaped like a bank whose volume is destroyed is named.

      The verdict is ok, degraded (the next boot works but something is wrong, e.g. no sound \
      fallback) or broken (the next boot fails or boots a damaged bank).

      Examples:
        bootbank verify /dev/sdb
        bootbank verify disk.img --manifest saved.json --json

      \(ExitStatus.help(ok: "the verdict is ok and nothing was found", findings: "degraded or broken, or findings", unreadable: "the target or the manifest cannot be read, or there is no table"))
      """)

  @OptionGroup var target: TargetOptions
  @OptionGroup var output: OutputOptions
  @OptionGroup var metrics: MetricsOptions

  @Option(name: .long, help: "A manifest saved by `bootbank checksum --manifest`: report every file changed since.")
  var manifest: String?

  @Flag(
    name: .long,
    help: "Also check each payload's SHA-1 where imgdb.tgz gives a SHA-256 too (ESXi 6.7's own check; slower).")
  var allDigests = false

  func run() throws {
    let run = MetricsRun(command: "verify", device: target.target)
    let json = output.json || metrics.format == .json
    let result: Verification
    do {
      let device = try OpenedDevice.open(target)
      let saved = try manifest.map { try ChecksumManifestFile.load($0) }
      result = try BankVerifier.verify(device.target, layout: device.layout, saved: saved, allDigests: allDigests)
      if metrics.wanted {
        let status = try BankStatus.read(from: device.target, layout: device.layout)
        var exposition = Prometheus()
        Metrics.add(status, to: &exposition, device: target.target)
        Metrics.add(result, to: &exposition, device: target.target)
        Metrics.add(findings: result.allFindings, to: &exposition, device: target.target)
        run.finish(&exposition, readable: device.layout.type != .none || !device.layout.loader.volumes.isEmpty)
        try metrics.publish(exposition)
      }
      if device.layout.type == .none && device.layout.loader.volumes.isEmpty {
        try show(result, json: json)
        throw CLIError.noTable(target.target)
      }
    } catch let error as CLIError {
      throw error
    } catch {
      if metrics.wanted { try metrics.publish(run.unreadable()) }
      throw failure(error, path: target.target)
    }
    try show(result, json: json)
    throw (result.verdict == .ok && result.allFindings.isEmpty ? ExitStatus.ok : ExitStatus.findings).code
  }

  /// Prints the result as text or JSON (nothing when the metrics are the output).
  func show(_ result: Verification, json: Bool) throws {
    guard metrics.format != .prometheus else { return }
    if json { try printJSON(VerifyReport(result)) } else { emit(render(result)) }
  }

  /// "12 files: 9 checked against imgdb.tgz, 2 by gzip/tar integrity, 1 only present (nothing
  /// to check it by)": every file counted once.
  func fileCounts(_ checks: [String]) -> String {
    let count = { (kind: String) in checks.filter { $0 == kind }.count }
    var parts = ["\(count("manifest")) checked against imgdb.tgz", "\(count("integrity")) by gzip/tar integrity"]
    let present = count("present")
    if present > 0 { parts.append("\(present) only present (nothing to check it by)") }
    let other = checks.count - count("manifest") - count("integrity") - present
    if other > 0 { parts.append("\(other) otherwise") }
    return "\(checks.count) files: " + parts.joined(separator: ", ")
  }

  func render(_ result: Verification) -> String {
    var lines = ["Device: \(result.verdict.rawValue.uppercased()): \(VerifyReport.summary(result))"]
    for finding in result.findings { lines.append("  \(finding.severity.rawValue): \(finding.message)") }
    for bank in result.banks {
      lines.append("")
      let role = bank.role.map { " (\($0))" } ?? ""
      lines.append(
        "Bank partition \(bank.partition)\(role), build \(bank.build ?? "?"): \(bank.verdict.rawValue.uppercased())")
      lines.append("  " + fileCounts(bank.files.map(\.check)))
      for finding in bank.findings {
        lines.append("  \(finding.severity.rawValue): \(finding.message)")
      }
    }
    return lines.joined(separator: "\n")
  }
}

/// `verify --json`: the verdicts, the one-line summary and every finding.
struct VerifyReport: Encodable {
  var result: Verification
  init(_ result: Verification) { self.result = result }

  enum CodingKeys: String, CodingKey { case verdict, summary, banks, findings }

  func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(result.verdict, forKey: .verdict)
    try container.encode(Self.summary(result), forKey: .summary)
    try container.encode(result.banks, forKey: .banks)
    try container.encode(result.findings, forKey: .findings)
  }

  /// One line: a bank destroyed first, then what happens at the next boot, whether the
  /// fallback is sound, and every other bank the loader looks at.
  static func summary(_ result: Verification) -> String {
    var parts = result.shapes.filter { $0.finding != nil }.map(phrase)
    if let next = result.next {
      parts.append("next boot: partition \(next.partition), build \(next.build ?? "?"): \(next.verdict.rawValue)")
    } else {
      parts.append("next boot: none: the loader stops with \"No hypervisor found.\"")
    }
    switch result.fallback {
    case .bank(let bank):
      parts.append("fallback partition \(bank.partition), build \(bank.build ?? "?"): \(bank.verdict.rawValue)")
    case .notBootable(let partition, let bootstate):
      let state = bootstate.map { "\(BankState.name($0)), bootstate=\($0)" } ?? "not bootable"
      parts.append("fallback bank \(partition): \(state): a failed boot now has no way back")
    case .none:
      if result.next != nil { parts.append("no fallback bank: a failed boot now has no way back") }
    }
    parts += result.otherBanks.map { "partition \($0.partition): \($0.reason)" }
    parts += result.shapes.filter { $0.finding == nil }.map(phrase)
    return parts.joined(separator: "; ")
  }

  /// A partition shaped like a bank that the loader skips, in a phrase.
  static func phrase(_ shape: BankShape) -> String {
    switch shape.remains {
    case .empty: "partition \(shape.partition): an empty bank"
    case .volumeUnreadable, .noBootConfig: "partition \(shape.partition): a bank destroyed, the loader skips it"
    }
  }
}

/// Reading a saved checksum manifest.
enum ChecksumManifestFile {
  /// - Throws: `CLIError` (`badManifest`, naming `path`) when the file cannot be read or is no
  ///   bootbank checksum manifest.
  static func load(_ path: String) throws -> ChecksumManifest {
    let data: Data
    do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
      throw CLIError(.badManifest, path: path, "cannot read the manifest: \(failure(error, path: path).message)")
    }
    let manifest: ChecksumManifest
    do { manifest = try JSONDecoder().decode(ChecksumManifest.self, from: data) } catch {
      throw CLIError(
        .badManifest, path: path, "not a bootbank checksum manifest: it \(failure(error, path: path).message)")
    }
    guard manifest.format == ChecksumManifest.formatName else {
      throw CLIError(
        .badManifest, path: path, "manifest format is \(manifest.format), expected \(ChecksumManifest.formatName)")
    }
    return manifest
  }
}
