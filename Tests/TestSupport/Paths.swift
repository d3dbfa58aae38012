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

  /// `../shared/corpus` beside the checkout, or nil where it is absent (a user's fresh clone).
  public static let corpus: URL? = {
    let url = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/corpus")
    return FileManager.default.fileExists(atPath: url.appendingPathComponent("MANIFEST.json").path) ? url : nil
  }()

  /// Why corpus tests are skipped, printed once where the corpus is absent.
  public static let corpusSkipReason =
    "../shared/corpus is not beside this checkout (only CI and the project's machines have it); corpus tests skipped"

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
