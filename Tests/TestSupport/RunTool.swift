import Foundation

/// What a finished process printed and returned.
public struct ToolResult: Sendable {
  public var status: Int32
  public var stdout: String
  public var stderr: String
}

/// A tool that exited non-zero where success was needed.
public struct ToolFailure: Error, CustomStringConvertible {
  public var command: String
  public var result: ToolResult
  public var description: String { "\(command) exited \(result.status): \(result.stderr)" }
}

/// Runs `executable` with `arguments` and waits, in the C locale; output is collected in full
/// (small outputs only).
public func runTool(_ executable: String, _ arguments: [String]) throws -> ToolResult {
  let result = try run(executable, arguments, environment: ["LC_ALL": "C"])
  return ToolResult(status: result.status, stdout: result.text, stderr: result.stderr)
}

/// The path of a tool in the usual system directories, or nil when it is not installed.
public func toolPath(_ name: String) -> String? {
  for directory in ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/bin"] {
    let path = directory + "/" + name
    if FileManager.default.isExecutableFile(atPath: path) { return path }
  }
  return nil
}
