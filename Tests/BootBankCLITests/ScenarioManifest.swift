import Foundation
import TestSupport

/// `images/manifest-of-scenarios.json`: what the image generator put in each fixture, from its
/// own inputs (not from reading the images back).
enum Scenarios {
  nonisolated(unsafe) static let manifest: [String: Any]? = {
    guard let url = TestPaths.fixture("manifest-of-scenarios.json"), let data = try? Data(contentsOf: url) else {
      return nil
    }
    return try? JSONSerialization.jsonObject(with: data) as? [String: Any]
  }()

  static var images: [String: [String: Any]] { manifest?["images"] as? [String: [String: Any]] ?? [:] }

  /// Image names whose file `make images` has made.
  static let names: [String] = images.keys.filter { TestPaths.fixture($0) != nil }.sorted()

  static let available = !names.isEmpty
  static let skipReason = "images/ has no fixtures: run `make images` (make test does)"

  static func path(_ name: String) -> String { TestPaths.images.appendingPathComponent(name).path }
}
