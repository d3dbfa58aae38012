/// A problem `BootConfig.lint()` found: not an error that stops anything, a fact to report.
///
/// BootConfig has no dependencies, so this is its own small value; `BootBanks` turns it
/// into a `DiskFormat.Finding` (same severity names, same lowerCamelCase kinds).
public struct LintIssue: Hashable, Sendable, CustomStringConvertible {
  public enum Severity: String, Hashable, Sendable, Comparable {
    case warning, error
    public static func < (a: Severity, b: Severity) -> Bool { a == .warning && b == .error }
  }

  public var severity: Severity
  /// Stable, machine-readable, lowerCamelCase (`bootstateMissing`, `unknownKey`, ...).
  public var kind: String
  public var message: String
  /// 1-based line number, where one applies.
  public var line: Int?
  /// Byte offset in boot.cfg, where one applies.
  public var byteOffset: Int?

  public init(_ severity: Severity, _ kind: String, _ message: String, line: Int? = nil, byteOffset: Int? = nil) {
    self.severity = severity
    self.kind = kind
    self.message = message
    self.line = line
    self.byteOffset = byteOffset
  }

  public var description: String {
    var place = ""
    if let line { place += " (line \(line)" + (byteOffset.map { ", byte \($0)" } ?? "") + ")" }
    return "\(severity.rawValue): \(kind): \(message)\(place)"
  }
}
