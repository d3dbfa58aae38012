import ArgumentParser
import BootBanks
import DiskFormat
import DiskIO
import Foundation
import PartitionTable

#if canImport(Glibc)
  import Glibc
#endif

/// The exit statuses of the writing commands.
enum WriteExitStatus: Int32 {
  case written = 0
  case problemAfter = 1
  case refused = 2
  case stoppedPartWay = 3
  case usage = 64

  static let helpText = """
    Exit status:
      0   written and read back (or nothing to write)
      1   written, but the read-back or the check after found a problem
      2   refused: nothing written (also every --dry-run whose plan is refused)
      3   stopped part-way: what was written and the undo file are printed
      64  usage error
    """

  /// The same block in the root command's help, beside the reading commands' statuses.
  static let rootHelpText = helpText.replacingOccurrences(
    of: "Exit status:", with: "Exit status of mark, set-next, rollback, sync, repair-gpt, undo and restore:")

  var code: ExitCode { ExitCode(rawValue) }
}

/// Options every writing command takes.
struct WriteOptions: ParsableArguments {
  @Flag(name: .long, help: "Print the plan and write nothing.")
  var dryRun = false

  @Flag(name: .long, help: "Write without asking (needed when standard input is not a terminal).")
  var yes = false

  @Flag(name: .long, help: "Write a plan after which no bank would boot.")
  var force = false

  @Option(
    name: .long,
    help:
      "Where to save the undo file (default: /var/lib/bootbank/undo/ as root, else $XDG_STATE_HOME/bootbank/undo/).")
  var undo: String?

  @Flag(name: .long, help: "Print JSON (the plan, the outcome and the status after) instead of text.")
  var json = false

  @Flag(name: .shortAndLong, help: "Print nothing but errors and the prompt: the exit status is the answer.")
  var quiet = false

  var mode: OutputMode { OutputMode(json: json, quiet: quiet) }
}

/// The undo file a run writes: `UndoSink` on a `DurableFile.Writer`.
final class UndoFile: UndoSink {
  let path: String
  var writer: DurableFile.Writer?

  init(path: String) { self.path = path }

  func begin(_ header: UndoRecord) throws {
    let writer = try DurableFile.Writer(creating: path)
    self.writer = writer
    try writer.append(try header.header())
  }
  func append(_ bytes: [UInt8]) throws { try writer?.append(bytes) }
  func commit() throws { try writer?.finish() }
  func abandon() {
    writer?.discard()
    writer = nil
  }
}

/// The one write path of the CLI: plan, show, confirm, execute, read back, show the status.
enum WriteSession {
  typealias Planner = (any ByteSource, DiskLayout) throws -> WritePlan

  /// Runs a writing command; never returns (throws the exit status).
  ///
  /// - Parameter beforeWriting: Runs once the plan is confirmed, before the first write (restore's
  ///   backup image); a failure refuses with nothing written.
  static func run(
    _ given: TargetOptions, _ options: WriteOptions, beforeWriting: (() throws -> Void)? = nil, planner: Planner
  ) throws -> Never {
    // The canonical path (symlinks resolved) names the target in the plan and the undo file.
    var target = given
    target.target = WritableTarget.canonicalPath(given.target) ?? given.target
    // The table's sector size, found read-only (an image file may be 4Kn).
    let detected: OpenedDevice
    do { detected = try OpenedDevice.open(target) } catch { throw refuse(error, path: target.target) }
    if options.dryRun {
      let plan: WritePlan
      do { plan = try planner(detected.target, detected.layout) } catch { throw refuse(error, path: target.target) }
      if options.json {
        try printJSON(WriteReport(plan: plan, dryRun: true))
      } else {
        emit(render(plan))
        emit("")
        emit("Dry run: nothing written.")
      }
      throw (plan.refusal == nil ? WriteExitStatus.written : .refused).code
    }

    let sectorSize = detected.target.kind == .file ? detected.layout.sectorSize : nil
    let device: WritableTarget
    let plan: WritePlan
    do {
      device = try WritableTarget(path: target.target, sectorSize: sectorSize)
      let layout = try PartitionTable.read(from: device, sectorSize: device.sectorSize)
      plan = try planner(device, layout)
    } catch { throw refuse(error, path: target.target) }
    var report = WriteReport(plan: plan, dryRun: false)
    if !options.json { emit(render(plan)) }
    if plan.refusal != nil || plan.isEmpty {
      if options.json { try printJSON(report) }
      throw (plan.refusal == nil ? WriteExitStatus.written : .refused).code
    }

    guard confirm(plan, options) else {
      report.outcome = "refused"
      report.problems = [confirmRefusal(options)]
      if options.json { try printJSON(report) } else { printError("bootbank: \(confirmRefusal(options))") }
      throw WriteExitStatus.refused.code
    }

    if let beforeWriting {
      do { try beforeWriting() } catch {
        report.outcome = "refused"
        let error = failure(error, path: target.target)
        report.problems = ["\(error.path.map { "\($0): " } ?? "")\(error.message): nothing written"]
        if options.json { try printJSON(report) } else { printError("bootbank: error: \(report.problems[0])") }
        throw WriteExitStatus.refused.code
      }
    }
    let undoPath = options.undo ?? defaultUndoPath(command: plan.command, target: target.target)
    report.undoFile = undoPath
    let result = WritePlanExecutor.run(plan, on: device, undo: UndoFile(path: undoPath))
    report.outcome = "\(result.outcome)"
    report.problems = result.problems
    report.writesIssued = result.writesIssued.compactMap { plan.steps[$0].lba }
    if result.undo == nil { report.undoFile = nil }

    var status = WriteExitStatus.written
    switch result.outcome {
    case .refused: status = .refused
    case .stopped: status = .stoppedPartWay
    case .readBackFailed: status = .problemAfter
    case .written: break
    }
    // The check after: the loader replayed on what the device now holds.
    var now: BankStatus?
    if result.outcome != .refused {
      do {
        let layout = try PartitionTable.read(from: device, sectorSize: device.sectorSize)
        now = try BankStatus.read(from: device, layout: layout)
        if result.outcome == .written, now?.choice.nextPartition != plan.after.next {
          let found = now?.choice.nextPartition.map { "partition \($0)" } ?? "no bank"
          report.problems.append(
            "the check after: the loader now boots \(found), the plan said \(plan.after.next.map { "partition \($0)" } ?? "no bank")"
          )
          status = .problemAfter
        }
      } catch {
        report.problems.append("the check after: cannot read the device again: \(error)")
        if status == .written { status = .problemAfter }
      }
    }
    report.status = now.map { BankStatusReport($0.choice) }
    if options.json {
      try printJSON(report)
    } else {
      emit("")
      emit(renderOutcome(result, plan: plan, undoPath: report.undoFile, problems: report.problems))
      if let now {
        emit("")
        emit("Status now:")
        emit(StatusReport(status: now, after: nil).render())
      }
    }
    throw status.code
  }

  /// A failure before anything was written: message on stderr, status 2.
  /// The error line on standard error and, with `--json`, the `{"error": …}` object every
  /// command prints on status 2.
  static func refuse(_ error: any Error, path: String) -> ExitCode {
    let error = failure(error, path: path)
    printError(error.description)
    if OutputMode.current.json && !OutputMode.current.quiet {
      try? printJSON(BootBankCommand.ErrorReport(error: error))
    }
    return WriteExitStatus.refused.code
  }

  static func confirm(_ plan: WritePlan, _ options: WriteOptions) -> Bool {
    if options.yes { return true }
    guard isatty(STDIN_FILENO) == 1 else { return false }
    let sectors = plan.writes.reduce(0) { $0 + ($1.sectorCount ?? 0) }
    FileHandle.standardError.write(
      Data("Write \(sectors) sector\(sectors == 1 ? "" : "s") to \(plan.target.path)? [y/N] ".utf8))
    guard let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased() else { return false }
    return answer == "y" || answer == "yes"
  }

  static func confirmRefusal(_ options: WriteOptions) -> String {
    isatty(STDIN_FILENO) == 1
      ? "not confirmed: nothing written" : "standard input is not a terminal to confirm on: give --yes to write"
  }

  static func defaultUndoPath(command: String, target: String) -> String {
    let environment = ProcessInfo.processInfo.environment
    let directory: String
    if geteuid() == 0 {
      directory = "/var/lib/bootbank/undo"
    } else if let state = environment["XDG_STATE_HOME"], state.hasPrefix("/") {
      directory = state + "/bootbank/undo"
    } else {
      directory = (environment["HOME"] ?? NSHomeDirectory()) + "/.local/state/bootbank/undo"
    }
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
    let base = target.split(separator: "/").last.map(String.init) ?? "target"
    return "\(directory)/\(command)-\(base)-\(formatter.string(from: Date()))-\(getpid()).undo"
  }

  // MARK: Rendering

  static func render(_ plan: WritePlan) -> String {
    var lines: [String] = []
    let guid = plan.target.diskGUID.map { ", disk GUID \($0)" } ?? ""
    lines.append(
      "Plan: \(plan.command) on \(plan.target.path) (\(plan.target.sizeBytes) bytes, \(plan.target.sectorSize)-byte sectors\(guid))"
    )
    if plan.steps.isEmpty { lines.append("  (no steps)") }
    for (index, step) in plan.steps.enumerated() {
      switch step.kind {
      case .write:
        let count = step.sectorCount ?? 0
        lines.append(
          "  \(index + 1). write LBA \(step.lba ?? 0) (\(count) sector\(count == 1 ? "" : "s"), byte \(step.offset ?? 0)): \(step.reason)"
        )
        lines.append(
          "       expects SHA-256 \((step.expectedSHA256 ?? "").prefix(16))…, writes \((step.newSHA256 ?? "").prefix(16))…"
        )
      case .barrier:
        lines.append("  \(index + 1). barrier (fdatasync): \(step.reason)")
      }
    }
    lines.append("Loader's choice before: \(plan.before.summary)")
    lines.append("Loader's choice after:  \(plan.after.summary)")
    for note in plan.notes { lines.append("Note: \(note)") }
    if let refusal = plan.refusal { lines.append("Refused: \(refusal)") }
    return lines.joined(separator: "\n")
  }

  static func renderOutcome(
    _ result: WritePlanExecutor.Report, plan: WritePlan, undoPath: String?, problems: [String]
  ) -> String {
    var lines: [String] = []
    if let undoPath { lines.append("Undo file: \(undoPath)") }
    switch result.outcome {
    case .written:
      lines.append("Written: \(result.writesIssued.count) write(s), each read back from the medium and equal.")
    case .readBackFailed:
      lines.append("Written, but the read-back found a problem.")
    case .refused:
      lines.append("Refused: nothing written.")
    case .stopped:
      lines.append("STOPPED PART-WAY. Writes issued (the last may be partial):")
      for index in result.writesIssued {
        let step = plan.steps[index]
        lines.append("  LBA \(step.lba ?? 0) (\(step.sectorCount ?? 0) sectors): \(step.reason)")
      }
      if let undoPath { lines.append("Put the old bytes back with: bootbank undo \(undoPath) \(plan.target.path)") }
    }
    for problem in problems { lines.append("Problem: \(problem)") }
    return lines.joined(separator: "\n")
  }
}

/// `--json` of a writing command.
struct WriteReport: Encodable {
  var plan: WritePlan
  var dryRun: Bool
  /// written, readBackFailed, refused, stopped (nil for a dry run or a plan refused or empty).
  @Nullable var outcome: String? = nil
  var problems: [String] = []
  @Nullable var undoFile: String? = nil
  /// LBAs of the writes issued.
  var writesIssued: [UInt64] = []
  /// What `status` says now (after a write).
  @Nullable var status: BankStatusReport? = nil

  init(plan: WritePlan, dryRun: Bool) {
    self.plan = plan
    self.dryRun = dryRun
  }
}
