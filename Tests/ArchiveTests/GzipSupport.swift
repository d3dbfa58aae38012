import Archive
import Foundation
import TestSupport

/// Helpers shared by the archive tests: running oracle tools and decoding in one call.
enum ArchiveTestSupport {
  /// Deterministic pseudo-random bytes (xorshift), compressible when `text` is set.
  static func sample(count: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15, text: Bool = true) -> [UInt8] {
    var state = seed
    var out = [UInt8]()
    out.reserveCapacity(count)
    let words: [[UInt8]] = ["esxi ", "bootbank ", "altbootbank ", "vmkernel ", "payload ", "\n", "s.v00 "]
      .map { Array($0.utf8) }
    while out.count < count {
      state ^= state << 13
      state ^= state >> 7
      state ^= state << 17
      if text {
        out.append(contentsOf: words[Int(state % UInt64(words.count))])
        if state & 0x30 == 0 { out.append(UInt8(truncatingIfNeeded: state >> 40)) }
      } else {
        out.append(UInt8(truncatingIfNeeded: state >> 24))
      }
    }
    return Array(out.prefix(count))
  }

  /// `program arguments…` with `input` on stdin; its stdout.
  static func pipe(_ program: String, _ arguments: [String], _ input: [UInt8]) throws -> [UInt8] {
    let result = try run(program, arguments, stdin: Data(input))
    guard result.status == 0 else {
      throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "\(program) failed: \(result.stderr)"])
    }
    return [UInt8](result.stdout)
  }

  static func gzipN(_ data: [UInt8], level: Int = 6) throws -> [UInt8] {
    try pipe("gzip", ["-n", "-\(level)", "-c"], data)
  }

  /// Compression through Python's gzip module (writes FNAME when given a name, MTIME set).
  static func pythonGzip(_ data: [UInt8], name: String? = nil) throws -> [UInt8] {
    let script: String
    if let name {
      script = """
        import gzip, io, sys
        buf = io.BytesIO()
        with gzip.GzipFile(filename=\(pyString(name)), mode='wb', fileobj=buf, mtime=1234567890) as f:
            f.write(sys.stdin.buffer.read())
        sys.stdout.buffer.write(buf.getvalue())
        """
    } else {
      script = "import gzip, sys; sys.stdout.buffer.write(gzip.compress(sys.stdin.buffer.read(), mtime=0))"
    }
    return try pipe("python3", ["-c", script], data)
  }

  static func pyString(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "\\'") + "'" }

  /// Decodes `input` split at `splits` (sorted offsets) and returns output and summary.
  static func decode(
    _ input: [UInt8], backend: InflateBackend, splits: [Int] = [], maxOutput: Int64? = nil
  ) throws -> ([UInt8], GzipSummary) {
    let decoder = GzipDecoder(backend: backend, maxOutput: maxOutput)
    var output = [UInt8]()
    var start = 0
    for split in splits + [input.count] where split >= start {
      let chunk = Array(input[start..<min(split, input.count)])
      try decoder.feed(chunk) { span in
        for i in 0..<span.count { output.append(span[i]) }
      }
      start = min(split, input.count)
    }
    let summary = try decoder.finish()
    return (output, summary)
  }

  /// The verdict of decoding `input`: nil for success, else the error.
  static func verdict(_ input: [UInt8], backend: InflateBackend, splits: [Int] = []) -> GzipError? {
    do {
      _ = try decode(input, backend: backend, splits: splits)
      return nil
    } catch let error as GzipError {
      return error
    } catch {
      return GzipError(.corruptDeflate("unexpected \(error)"), member: -1, field: "?", offset: -1)
    }
  }
}
