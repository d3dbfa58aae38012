import ArgumentParser
import DiskFormat

/// The documented exit statuses, in one place.
public enum ExitStatus: Int32, Sendable {
  /// Everything checked is good.
  case ok = 0
  /// The command ran and reports findings (or differences).
  case findings = 1
  /// The target cannot be read or decoded, or is not a boot device.
  case unreadable = 2
  /// The command line is wrong (ArgumentParser's ValidationError status).
  case usage = 64

  /// The root command's block: what each status means across commands.
  static let helpText = help([
    (.ok, "all checks passed (for diff: equal)"),
    (.findings, "findings reported (for diff: different)"),
    (.unreadable, "the target cannot be read or decoded, or is not a boot device"),
  ])

  /// An "Exit status:" block with the statuses a command can return, and 64 for usage errors.
  static func help(_ statuses: [(ExitStatus, String)]) -> String {
    let lines = (statuses + [(.usage, "usage error")]).map { status, meaning in
      "  " + pad(String(status.rawValue), 3) + " " + meaning
    }
    return (["Exit status:"] + lines).joined(separator: "\n")
  }

  /// The block of a command that reads a target and reports findings.
  static func help(ok: String, findings: String, unreadable: String = "the target cannot be read or decoded")
    -> String
  {
    help([(.ok, ok), (.findings, findings), (.unreadable, unreadable)])
  }

  var code: ExitCode { ExitCode(rawValue) }

  /// The status for a set of findings: 1 when any is an error or warning, else 0.
  static func forFindings(_ findings: [Finding]) -> ExitStatus {
    findings.isEmpty ? .ok : .findings
  }
}
