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

/// Runs `executable` with `arguments` and waits; output is collected in full (small outputs only).
public func runTool(_ executable: String, _ arguments: [String]) throws -> ToolResult {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: executable)
  process.arguments = arguments
  var environment = ProcessInfo.processInfo.environment
  environment["LC_ALL"] = "C"
  process.environment = environment
  let out = Pipe()
  let err = Pipe()
  process.standardOutput = out
  process.standardError = err
  try process.run()
  // Read both pipes to the end before waiting, so a chatty tool cannot block on a full pipe.
  let stderrBox = DataBox()
  let group = DispatchGroup()
  group.enter()
  let errHandle = err.fileHandleForReading
  DispatchQueue.global().async {
    stderrBox.data = errHandle.readDataToEndOfFile()
    group.leave()
  }
  let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
  group.wait()
  process.waitUntilExit()
  return ToolResult(
    status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
    stderr: String(decoding: stderrBox.data, as: UTF8.self))
}

/// The path of a tool in the usual system directories, or nil when it is not installed.
public func toolPath(_ name: String) -> String? {
  for directory in ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/bin"] {
    let path = directory + "/" + name
    if FileManager.default.isExecutableFile(atPath: path) { return path }
  }
  return nil
}

/// Holds bytes a background reader fills in before the group it leaves is waited on.
private final class DataBox: @unchecked Sendable {
  var data = Data()
}
