import Foundation

/// Locations the tests read from, found from this file's path (no bundle resources needed).
public enum TestPaths {
  /// The package root (the folder holding Package.swift).
  public static let packageRoot: URL = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }  // Tests/TestSupport/Paths.swift
    return url
  }()

  /// The project's own fixtures, made by `make images`.
  public static var images: URL { packageRoot.appendingPathComponent("images") }

  /// A project fixture in `images/`, or nil when `make images` has not made it.
  public static func fixture(_ name: String) -> URL? {
    let url = images.appendingPathComponent(name)
    return FileManager.default.fileExists(atPath: url.path) ? url : nil
  }

  /// One folder per test process under the temporary directory, removed when the process exits:
  /// every scratch directory lives in it, so no test leaves files behind.
  public static let runRoot: URL = {
    let url = FileManager.default.temporaryDirectory
      .appendingPathComponent("bootbank-tests-\(ProcessInfo.processInfo.processIdentifier)")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(at: TestPaths.runRoot) }
    return url
  }()

  /// A fresh scratch directory for one test (removed with `runRoot` when the process exits).
  public static func scratchDirectory(_ label: String = "test") throws -> URL {
    let url = runRoot.appendingPathComponent("\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }
}
