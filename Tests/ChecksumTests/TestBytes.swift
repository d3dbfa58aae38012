import Foundation
import Testing

/// Deterministic pseudo-random bytes (xorshift64*), so a failure can be reproduced.
func pseudoRandomBytes(count: Int, seed: UInt64) -> [UInt8] {
  var state = seed | 1
  var out = [UInt8]()
  out.reserveCapacity(count)
  while out.count < count {
    state ^= state >> 12
    state ^= state << 25
    state ^= state >> 27
    let value = state &* 0x2545_F491_4F6C_DD1D
    withUnsafeBytes(of: value) { out.append(contentsOf: $0.prefix(count - out.count)) }
  }
  return out
}

/// The path of an installed oracle tool, or `nil`.
func oraclePath(_ tool: String) -> String? {
  ["/usr/bin/\(tool)", "/bin/\(tool)", "/usr/local/bin/\(tool)"].first {
    FileManager.default.isExecutableFile(atPath: $0)
  }
}

/// Runs an oracle tool on `bytes` written to a temporary file and returns the first word it prints.
/// Tests that call it are `.enabled(if: oraclePath(tool) != nil)`.
func oracle(_ tool: String, _ arguments: [String] = [], on bytes: [UInt8]) throws -> String {
  let path = try #require(oraclePath(tool), "\(tool) is not installed")
  let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bootbank-checksum-\(UUID())")
  try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: directory) }
  let file = directory.appendingPathComponent("data.bin")
  try Data(bytes).write(to: file)
  let process = Process()
  process.executableURL = URL(fileURLWithPath: path)
  process.arguments = arguments + [file.path]
  let pipe = Pipe()
  process.standardOutput = pipe
  try process.run()
  let output = pipe.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  let text = String(decoding: output, as: UTF8.self)
  return text.split(whereSeparator: { $0 == " " || $0 == "\n" }).first.map { String($0).lowercased() } ?? ""
}
