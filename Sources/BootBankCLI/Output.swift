import ArgumentParser
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// How the command prints: text or JSON, and whether anything but errors.
struct OutputOptions: ParsableArguments {
  @Flag(name: .long, help: "Print JSON (stable keys, documented in the README) instead of text.")
  var json = false

  @Flag(name: .shortAndLong, help: "Print nothing but errors: the exit status is the answer.")
  var quiet = false
}

/// `--quiet` alone, for commands whose standard output is data (`cat`).
struct QuietOption: ParsableArguments {
  @Flag(name: .shortAndLong, help: "Print nothing but errors: the exit status is the answer.")
  var quiet = false
}

/// A command that prints reports; `start()` reads its mode before it runs.
protocol ReportingCommand: ParsableCommand {
  var mode: OutputMode { get }
}

/// What `--json` and `--quiet` asked for, read once before the command runs.
struct OutputMode: Sendable {
  var json = false
  var quiet = false

  /// The mode of the running command.
  nonisolated(unsafe) static var current = OutputMode()
}

/// Writes a line to standard error.
func printError(_ text: String) {
  FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// A warning on standard error, left out with `--quiet`.
func printWarning(_ text: String) {
  if !OutputMode.current.quiet { printError(text) }
}

/// Encodes `value` as stable, pretty JSON (sorted keys) and prints it.
func printJSON<T: Encodable>(_ value: T) throws {
  let encoder = JSONEncoder()
  encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
  let data = try encoder.encode(value)
  emit(String(decoding: data, as: UTF8.self))
}

/// Writes a line to standard output. A failed write is kept and reported when the command
/// ends (status 2), as coreutils does.
func emit(_ text: String) {
  var line = text + "\n"
  line.withUTF8 { bytes in try? StandardOutput.write(UnsafeRawBufferPointer(bytes)) }
}

/// Standard output, written with write(2) so every failure (a full disk, a closed pipe) is seen.
enum StandardOutput {
  /// How errors name it.
  static let name = "standard output"

  /// The first write that failed.
  nonisolated(unsafe) static var failure: CLIError?

  /// Writes `bytes` to standard output.
  ///
  /// - Throws: `CLIError` (`cannotWrite`, path "standard output") when the write fails.
  static func write(_ bytes: UnsafeRawBufferPointer) throws {
    var done = 0
    while done < bytes.count {
      let n = Glibc.write(1, bytes.baseAddress! + done, bytes.count - done)
      if n < 0 && errno == EINTR { continue }
      guard n > 0 else {
        let error = CLIError(.cannotWrite, path: name, String(cString: strerror(errno)))
        if failure == nil { failure = error }
        throw error
      }
      done += n
    }
  }

  /// The error when anything written to standard output was lost.
  static func finish() -> CLIError? { failure }

  /// Sends standard output to /dev/null (for `--quiet`).
  static func silence() {
    let null = open("/dev/null", O_WRONLY)
    if null >= 0 {
      dup2(null, 1)
      close(null)
    }
  }
}

/// A size in bytes as a short human string (binary units), e.g. "250.0 MiB".
func humanSize(_ bytes: Int64) -> String {
  let units = ["B", "KiB", "MiB", "GiB", "TiB"]
  var value = Double(bytes)
  var unit = 0
  while value >= 1024, unit < units.count - 1 {
    value /= 1024
    unit += 1
  }
  return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
}

/// Left-aligned text table with two spaces between columns.
func renderTable(_ rows: [[String]]) -> String {
  guard let width = rows.map(\.count).max() else { return "" }
  var widths = [Int](repeating: 0, count: width)
  for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
  return rows.map { row in
    row.enumerated().map { i, cell in
      i == row.count - 1 ? cell : pad(cell, widths[i])
    }.joined(separator: "  ")
  }.joined(separator: "\n")
}

/// `text` padded with spaces to `width` characters (never cut).
func pad(_ text: String, _ width: Int) -> String {
  text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}

extension OutputOptions {
  var mode: OutputMode { OutputMode(json: json, quiet: quiet) }
}

/// `text` broken at spaces into lines of at most `width` columns; continuation lines are
/// indented four columns more than the first. A word longer than a line stays whole.
func wrap(_ text: String, width: Int = 80) -> [String] {
  guard text.count > width else { return [text] }
  let indent = String(repeating: " ", count: text.prefix { $0 == " " }.count + 4)
  var lines: [String] = []
  var current = String(text.prefix { $0 == " " })
  for word in text.split(separator: " ") {
    let candidate = current.allSatisfy { $0 == " " } ? current + word : current + " " + word
    if candidate.count > width && !current.allSatisfy({ $0 == " " }) {
      lines.append(current)
      current = indent + word
    } else {
      current = candidate
    }
  }
  lines.append(current)
  return lines
}
