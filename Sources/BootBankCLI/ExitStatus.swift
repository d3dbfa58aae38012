import ArgumentParser
import DiskFormat
import DiskIO

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

  static let helpText = """
    Exit status:
      0   all checks passed (for diff: equal)
      1   findings reported (for diff: different)
      2   the target cannot be read or decoded, or is not a boot device
      64  usage error
    """

  var code: ExitCode { ExitCode(rawValue) }

  /// The status for a set of findings: 1 when any is an error or warning, else 0.
  static func forFindings(_ findings: [Finding]) -> ExitStatus {
    findings.isEmpty ? .ok : .findings
  }
}

/// Turns a failure from the layers below into a message on stderr and exit status 2.
func failure(_ error: any Error, path: String? = nil) -> ExitCode {
  let message: String
  switch error {
  case let e as DiskIOError: message = e.description
  case let e as ReadError: message = e.description
  case let e as FormatError: message = e.description
  case let e as CustomStringConvertible: message = e.description
  default: message = "\(error)"
  }
  if let path, !message.contains(path) {
    printError("bootbank: error: \(path): \(message)")
  } else {
    printError("bootbank: error: \(message)")
  }
  return ExitStatus.unreadable.code
}
