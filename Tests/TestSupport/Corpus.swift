import Foundation

/// The shared corpus of real images (`<package root>/../shared/corpus`), when present.
public enum Corpus {
  /// The package root, found from this file's path (Tests/TestSupport/Corpus.swift).
  public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  /// The corpus directory, or nil when it is absent (tests then skip with a printed reason).
  public static var root: URL? {
    let candidates = [packageRoot.appendingPathComponent("../shared/corpus").standardizedFileURL]
    return candidates.first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("MANIFEST.json").path) }
  }

  /// The manifest's `images` array, parsed with JSONSerialization (the values vary too much
  /// for a Codable model).
  public static func manifestImages() throws -> [[String: Any]] {
    guard let root else { return [] }
    let data = try Data(contentsOf: root.appendingPathComponent("MANIFEST.json"))
    let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
    return object?["images"] as? [[String: Any]] ?? []
  }

  /// A decompressed, sparse copy of a corpus file, cached under /tmp for the test run.
  ///
  /// `.xz` and `.gz` files expand to up to 1 GiB, almost all zeros: they go through
  /// `xz -dc`/`gzip -dc` into `cp --sparse=always`, never into memory.
  public static func decompressed(_ relativePath: String) throws -> URL {
    guard let root else { throw CocoaError(.fileNoSuchFile) }
    let source = root.appendingPathComponent(relativePath)
    let tool: String
    switch source.pathExtension {
    case "xz": tool = "xz"
    case "gz": tool = "gzip"
    default: return source
    }
    let cache = URL(fileURLWithPath: "/tmp/bootbank-corpus-cache", isDirectory: true)
    try FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true)
    let name = relativePath.replacingOccurrences(of: "/", with: "__")
    let target = cache.appendingPathComponent((name as NSString).deletingPathExtension)
    if FileManager.default.fileExists(atPath: target.path) { return target }
    let partial = cache.appendingPathComponent(
      name + ".\(ProcessInfo.processInfo.processIdentifier).\(UUID().uuidString).part")
    let result = try runTool(
      "/bin/sh", ["-c", "\(tool) -dc \"$1\" | cp --sparse=always /dev/stdin \"$2\"", "sh", source.path, partial.path])
    guard result.status == 0 else {
      try? FileManager.default.removeItem(at: partial)
      throw ToolFailure(command: "\(tool) -dc \(relativePath)", result: result)
    }
    // Another test may have finished the same file first; either copy is the same bytes.
    if (try? FileManager.default.moveItem(at: partial, to: target)) == nil {
      try? FileManager.default.removeItem(at: partial)
    }
    return target
  }
}
