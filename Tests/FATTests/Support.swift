import DiskFormat
import Foundation
import Testing

/// A read-only file as a `ByteSource` (tests only; the product's file source lives in DiskIO).
final class FileSource: ByteSource, @unchecked Sendable {
  let handle: FileHandle
  let name: String
  let byteCount: Int64
  let sectorSize: Int
  private let lock = NSLock()

  init(path: String, sectorSize: Int = 512) throws {
    handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
    name = path
    byteCount = Int64(try handle.seekToEnd())
    self.sectorSize = sectorSize
  }

  deinit { try? handle.close() }

  func withBytes<R>(in range: Range<Int64>, _ body: (Span<UInt8>) throws -> R) throws -> R {
    guard range.lowerBound >= 0, range.upperBound <= byteCount else {
      throw ReadError(
        source: name, offset: range.lowerBound, count: Int(range.upperBound &- range.lowerBound),
        sectorSize: sectorSize, kind: .outOfRange(size: byteCount))
    }
    let data: Data = try lock.withLock {
      try handle.seek(toOffset: UInt64(range.lowerBound))
      return try handle.read(upToCount: Int(range.upperBound - range.lowerBound)) ?? Data()
    }
    guard data.count == Int(range.upperBound - range.lowerBound) else {
      throw ReadError(
        source: name, offset: range.lowerBound, count: Int(range.upperBound - range.lowerBound),
        sectorSize: sectorSize, kind: .shortRead(got: data.count))
    }
    let bytes = [UInt8](data)
    return try body(bytes.span)
  }
}

/// Paths of the package and of the shared corpus.
enum Paths {
  static let packageRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
  /// `<package root>/../shared/corpus`; from a worktree under `wt/`, one level further up.
  static let corpus: URL = {
    let parent = packageRoot.deletingLastPathComponent()
    for base in [parent, parent.deletingLastPathComponent()] {
      let candidate = base.appendingPathComponent("shared/corpus")
      if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("MANIFEST.json").path) {
        return candidate
      }
    }
    return parent.appendingPathComponent("shared/corpus")
  }()
  static var corpusPresent: Bool {
    FileManager.default.fileExists(atPath: corpus.appendingPathComponent("MANIFEST.json").path)
  }
  static let cache = URL(fileURLWithPath: "/tmp/bootbank-fat-test-cache")
}

/// Runs a program; returns (status, stdout, stderr).
@discardableResult
func run(_ program: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (
  status: Int32, out: Data, err: String
) {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: program)
  process.arguments = arguments
  var env = ProcessInfo.processInfo.environment
  env["MTOOLS_SKIP_CHECK"] = "1"
  env["LC_ALL"] = "C.UTF-8"
  env["TZ"] = "UTC"
  for (k, v) in environment { env[k] = v }
  process.environment = env
  let out = Pipe()
  // stderr goes to a file, so the two streams cannot block each other.
  let errPath = NSTemporaryDirectory() + "fat-test-stderr-\(UUID().uuidString)"
  _ = FileManager.default.createFile(atPath: errPath, contents: nil)
  defer { try? FileManager.default.removeItem(atPath: errPath) }
  let errHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
  process.standardOutput = out
  process.standardError = errHandle
  try process.run()
  let outData = out.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  try? errHandle.close()
  let errData = FileManager.default.contents(atPath: errPath) ?? Data()
  return (process.terminationStatus, outData, String(decoding: errData, as: UTF8.self))
}

/// Which program path to use: the first that exists.
func tool(_ name: String) -> String? {
  for dir in ["/usr/sbin", "/usr/bin", "/sbin", "/bin"] {
    let path = dir + "/" + name
    if FileManager.default.isExecutableFile(atPath: path) { return path }
  }
  return nil
}

/// Decompresses a corpus image sparsely into the cache (once per cache), returning its path.
func cachedImage(_ relative: String) throws -> String {
  let source = Paths.corpus.appendingPathComponent(relative).path
  let fm = FileManager.default
  try fm.createDirectory(at: Paths.cache, withIntermediateDirectories: true)
  let flat = relative.replacingOccurrences(of: "/", with: "__")
  if !(relative.hasSuffix(".xz") || relative.hasSuffix(".gz")) { return source }
  let target = Paths.cache.appendingPathComponent(flat).path + ".img"
  if fm.fileExists(atPath: target) { return target }
  let temp = target + ".part.\(UUID().uuidString)"
  let decompressor = relative.hasSuffix(".xz") ? "xz -dc" : "gzip -dc"
  let (status, _, err) = try run(
    "/bin/sh", ["-c", "\(decompressor) \"$1\" | cp --sparse=always /dev/stdin \"$2\"", "sh", source, temp])
  guard status == 0 else {
    try? fm.removeItem(atPath: temp)
    throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "decompress \(relative): \(err)"])
  }
  if !fm.fileExists(atPath: target) {
    try? fm.moveItem(atPath: temp, toPath: target)
  }
  try? fm.removeItem(atPath: temp)
  return target
}
