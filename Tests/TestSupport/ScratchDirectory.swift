import Foundation

/// A fresh temporary directory for one test, removed when the value is released.
public final class ScratchDirectory: @unchecked Sendable {
  public let url: URL

  public init(_ label: String = "test") throws {
    url = try TestPaths.scratchDirectory(label)
  }

  deinit { try? FileManager.default.removeItem(at: url) }

  /// A path inside the directory.
  public func path(_ name: String) -> String { url.appendingPathComponent(name).path }

  /// Creates a sparse file of `size` bytes (all zeros) and returns its path.
  public func sparseFile(_ name: String, size: Int64) throws -> String {
    let path = self.path(name)
    FileManager.default.createFile(atPath: path, contents: nil)
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    try handle.truncate(atOffset: UInt64(size))
    try handle.close()
    return path
  }
}
