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

  /// A fresh scratch directory for one test.
  public static func scratchDirectory(_ label: String = "test") throws -> URL {
    let url = FileManager.default.temporaryDirectory
      .appendingPathComponent("bootbank-\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }
}
