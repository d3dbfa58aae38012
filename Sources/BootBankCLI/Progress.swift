import ArgumentParser
import DiskFormat
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// `--progress`: how long work shows where it stands, on standard error.
enum ProgressStyle: String, ExpressibleByArgument, CaseIterable, Sendable {
  /// A line redrawn a few times a second when standard error is a terminal; nothing otherwise.
  case auto
  /// One JSON object a line per update (ProgressSnapshot's keys), terminal or not.
  case json
  case none

  /// The style of the running command.
  nonisolated(unsafe) static var current = ProgressStyle.auto
}

/// The `--progress` option of the commands that do long work.
struct ProgressOptions: ParsableArguments {
  @Option(
    name: .long,
    help: ArgumentHelp(
      "Progress on standard error: auto (a line when it is a terminal), json (a JSON line per update: phase, done, total, bytesPerSecond, etaSeconds, elapsedSeconds, finished) or none. --quiet shows none.",
      valueName: "style"))
  var progress: ProgressStyle = .auto

  /// Makes this the style of the running command.
  func apply() { ProgressStyle.current = progress }
}

/// Renders a `ProgressTracker`'s snapshots on standard error in the running command's style.
final class ProgressMeter: @unchecked Sendable {
  let tracker: ProgressTracker?

  init(total: Int64, phase: String = "read") {
    let style = OutputMode.current.quiet ? ProgressStyle.none : ProgressStyle.current
    switch style {
    case .none:
      tracker = nil
    case .auto:
      guard isatty(2) == 1 else {
        tracker = nil
        return
      }
      tracker = ProgressTracker(phase: phase, total: total) { snapshot in
        let text = snapshot.finished ? "\r\u{1B}[K" : "\r" + ProgressMeter.line(snapshot) + "\u{1B}[K"
        FileHandle.standardError.write(Data(text.utf8))
      }
    case .json:
      tracker = ProgressTracker(phase: phase, total: total) { snapshot in
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(snapshot) else { return }
        FileHandle.standardError.write(data + Data("\n".utf8))
      }
    }
  }

  func advance(_ bytes: Int64) { tracker?.advance(bytes) }

  func finish() { tracker?.finish() }

  /// The line for `done` of `total` after `elapsed` seconds.
  static func line(done: Int64, total: Int64, elapsed: Double) -> String {
    line(ProgressTracker.snapshot(phase: "", done: done, total: total, elapsed: elapsed, finished: false))
  }

  /// "verify image  42.0%  105.0 MiB of 250.0 MiB  80.1 MiB/s  ETA 2s".
  static func line(_ snapshot: ProgressSnapshot) -> String {
    var text =
      (snapshot.phase.isEmpty ? "" : "\(snapshot.phase) ") + String(format: "%5.1f%%", 100 * snapshot.fraction)
      + "  \(humanSize(snapshot.done)) of \(humanSize(snapshot.total))"
    if let rate = snapshot.bytesPerSecond, let eta = snapshot.etaSeconds {
      text += "  \(humanSize(Int64(rate)))/s  ETA " + String(format: "%.0fs", eta)
    }
    return text
  }
}
