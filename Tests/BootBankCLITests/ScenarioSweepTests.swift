import Foundation
import TestSupport
import Testing

/// Every bank command on every generated scenario, human and JSON output: a documented exit
/// status, JSON that parses with its documented top-level keys, and text that says something.
/// (What each scenario must say is checked in the per-command suites.)
@Suite("every command on every scenario")
struct ScenarioSweepTests {
  static let commands: [(name: String, keys: [String])] = [
    ("info", ["target", "table", "partitions"]),
    ("status", ["banks", "next", "rollback", "fallback"]),
    ("verify", ["verdict", "summary", "banks", "findings"]),
    ("diff", ["equal", "differences"]),
  ]

  @Test(.enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)), arguments: Scenarios.names)
  func everyCommand(image: String) throws {
    for command in Self.commands {
      let text = try BootbankBinary.run([command.name, Scenarios.path(image)])
      #expect([0, 1, 2].contains(text.status), "\(command.name) \(image): status \(text.status) \(text.stderr)")
      #expect(!(text.text + text.stderr).isEmpty, "\(command.name) \(image): no output")
      let json = try BootbankBinary.run([command.name, Scenarios.path(image), "--json"])
      #expect(json.status == text.status, "\(command.name) \(image): text and JSON disagree on the status")
      let object = (try? JSONSerialization.jsonObject(with: json.stdout)) as? [String: Any]
      #expect(object != nil, "\(command.name) \(image): JSON does not parse")
      // An error (status 2) is one line on stderr and `{"error": {"kind", "message", "path"}}`.
      if json.status == 2, let error = object?["error"] as? [String: Any] {
        #expect(json.stderr.hasPrefix("bootbank: error:"), "\(command.name) \(image)")
        #expect(["kind", "message", "path"].allSatisfy { error[$0] != nil }, "\(command.name) \(image)")
        continue
      }
      for key in command.keys { #expect(object?[key] != nil, "\(command.name) \(image): no \(key)") }
    }
  }
}
