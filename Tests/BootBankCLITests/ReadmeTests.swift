import Foundation
import TestSupport
import Testing

/// README.md's examples are real output: each one is re-run and compared.
@Suite("README examples")
struct ReadmeTests {
  @Test(
    .enabled(if: Scenarios.available && BootbankBinary.url != nil, "needs images/ (make images) and the built binary"))
  func everyExampleIsCurrent() throws {
    let script = TestPaths.packageRoot.appendingPathComponent("scripts/readme-examples.py").path
    let result = try run("python3", [script, try #require(BootbankBinary.url).path, "--check"])
    #expect(result.status == 0, "\(result.text)\(result.stderr)")
  }
}
