import Foundation

/// The `bootbank` executable `swift build` put beside the test bundle.
public enum BootbankBinary {
  public static let url: URL? = {
    // The test bundle lives in the products directory (.build/<triple>/debug/…xctest).
    var dir = Bundle.main.bundleURL
    for _ in 0..<3 {
      let candidate = dir.appendingPathComponent("bootbank")
      var isDirectory: ObjCBool = false
      if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue {
        return candidate
      }
      dir.deleteLastPathComponent()
    }
    let fallback = TestPaths.packageRoot.appendingPathComponent(".build/debug/bootbank")
    return FileManager.default.fileExists(atPath: fallback.path) ? fallback : nil
  }()

  /// Runs the built `bootbank` with `arguments`.
  public static func run(_ arguments: [String]) throws -> ProcessResult {
    guard let url else {
      throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "the bootbank binary is not built"])
    }
    return try TestSupport.run(url.path, arguments)
  }

  /// Runs `bootbank … --json` and decodes its output as a JSON object.
  public static func json(_ arguments: [String]) throws -> (status: Int32, object: [String: Any]) {
    let result = try run(arguments + ["--json"])
    let object = (try? JSONSerialization.jsonObject(with: result.stdout)) as? [String: Any] ?? [:]
    return (result.status, object)
  }
}
