import Foundation
import TestSupport
import Testing

@testable import BootBankCLI

/// `status|verify --format prometheus` and `--textfile`, held against promtool (Prometheus'
/// own checker) and against the same command's JSON; the contrib alert rules and textfile
/// script against promtool too.
@Suite("Prometheus metrics")
struct MetricsTests {
  static let promtool = hasTool("promtool")
  static let promtoolMissing = "promtool is not installed (Debian package prometheus; make test installs it)"

  /// The value of the sample `name{labels…}` whose labels include all of `labels`.
  static func value(_ text: String, _ name: String, _ labels: [String: String] = [:]) -> Double? {
    for line in text.split(separator: "\n") where !line.hasPrefix("#") {
      guard line.hasPrefix(name + "{") || line.hasPrefix(name + " ") else { continue }
      if labels.allSatisfy({ line.contains("\($0.key)=\"\($0.value)\"") }),
        let last = line.split(separator: " ").last
      {
        return Double(last)
      }
    }
    return nil
  }

  static func promtoolCheck(_ text: String) throws -> ProcessResult {
    try run("promtool", ["check", "metrics"], stdin: Data(text.utf8))
  }

  @Test(
    .enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)),
    .enabled(if: promtool, Comment(rawValue: promtoolMissing)), arguments: Scenarios.names)
  func everyScenarioPassesPromtoolAndAgreesWithJSON(image: String) throws {
    let path = Scenarios.path(image)
    for command in ["status", "verify"] {
      let result = try BootbankBinary.run([command, path, "--format", "prometheus"])
      let (jsonStatus, json) = try BootbankBinary.json([command, path])
      #expect(result.status == jsonStatus, "\(command) \(image): same exit status as with --json")
      guard result.status != 2 else { continue }
      let check = try Self.promtoolCheck(result.text)
      #expect(check.status == 0, "promtool check metrics on \(command) \(image): \(check.text) \(check.stderr)")
      #expect(
        Self.value(result.text, "bootbank_device_readable", ["device": path]) == 1, "\(command) \(image) readable")
      if command == "status" {
        let next = (json["next"] as? [String: Any])?["partition"] as? Int ?? -1
        #expect(Self.value(result.text, "bootbank_next_boot_partition") == Double(next), "\(image): next boot")
        let fallback = (json["fallback"] as? [String: Any])?["bootable"] as? Bool ?? false
        #expect(Self.value(result.text, "bootbank_fallback_bootable") == (fallback ? 1 : 0), "\(image): fallback")
        for bank in json["banks"] as? [[String: Any]] ?? [] where bank["uuid"] is String {
          guard let partition = bank["partition"] as? Int, let updated = bank["updated"] as? Int else { continue }
          #expect(
            Self.value(result.text, "bootbank_bank_updated", ["partition": String(partition)]) == Double(updated),
            "\(image): p\(partition) updated")
        }
      } else {
        let verdict = json["verdict"] as? String
        #expect(
          Self.value(result.text, "bootbank_verify_ok", ["scope": "device"]) == (verdict == "ok" ? 1 : 0),
          "\(image): device verdict \(verdict ?? "?")")
        for bank in json["banks"] as? [[String: Any]] ?? [] {
          guard let partition = bank["partition"] as? Int else { continue }
          #expect(
            Self.value(result.text, "bootbank_verify_ok", ["scope": "bank", "partition": String(partition)])
              == (bank["verdict"] as? String == "ok" ? 1 : 0), "\(image): bank \(partition) verdict")
        }
        let findings =
          (json["findings"] as? [[String: Any]] ?? [])
          + (json["banks"] as? [[String: Any]] ?? []).flatMap { $0["findings"] as? [[String: Any]] ?? [] }
        let errors = findings.filter { $0["severity"] as? String == "error" }.count
        #expect(Self.value(result.text, "bootbank_findings", ["severity": "error"]) == Double(errors), "\(image)")
      }
    }
  }

  @Test(
    .enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)),
    .enabled(if: promtool, Comment(rawValue: promtoolMissing)))
  func theTextfileIsWrittenWholeBesideTheNormalOutput() throws {
    let folder = try TestPaths.scratchDirectory("textfile")
    let file = folder.appendingPathComponent("bootbank-esxi7.prom")
    try Data("old content\n".utf8).write(to: file)
    let result = try BootbankBinary.run(["verify", Scenarios.path("esxi7.img"), "--textfile", file.path])
    #expect(result.status == 0)
    #expect(result.text.hasPrefix("Device: OK"), "the usual text goes to stdout")
    let text = try String(contentsOf: file, encoding: .utf8)
    #expect(!text.contains("old content"))
    #expect(try Self.promtoolCheck(text).status == 0)
    #expect(Self.value(text, "bootbank_verify_ok", ["scope": "device"]) == 1)
    #expect(Self.value(text, "bootbank_next_boot_partition") == 6)
    let stamp = try #require(Self.value(text, "bootbank_last_run_timestamp_seconds"))
    #expect(abs(stamp - Date().timeIntervalSince1970) < 600)
    // Nothing but the textfile is left in the folder (no temporary file), readable by others.
    let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
    #expect(names == ["bootbank-esxi7.prom"])
    let mode = try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int
    #expect(mode == 0o644)
  }

  @Test(.enabled(if: promtool, Comment(rawValue: promtoolMissing)))
  func anUnreadableDeviceStillWritesItsMetrics() throws {
    let folder = try TestPaths.scratchDirectory("textfile")
    let file = folder.appendingPathComponent("gone.prom")
    let missing = folder.appendingPathComponent("no-such-device.img").path
    for command in ["status", "verify"] {
      let result = try BootbankBinary.run([command, missing, "--textfile", file.path])
      #expect(result.status == 2)
      #expect(result.stderr.contains("no-such-device.img"))
      let text = try String(contentsOf: file, encoding: .utf8)
      #expect(try Self.promtoolCheck(text).status == 0)
      #expect(Self.value(text, "bootbank_device_readable", ["device": missing]) == 0)
      #expect(Self.value(text, "bootbank_last_run_timestamp_seconds", ["command": command]) != nil)
    }
  }

  @Test func aTextfileMustBeAPromFile() throws {
    let result = try BootbankBinary.run(["status", "x.img", "--textfile", "/tmp/metrics.txt"])
    #expect(result.status == 64)
    #expect(result.stderr.contains(".prom"))
  }

  @Test func labelValuesAreEscaped() throws {
    var metrics = Prometheus()
    metrics.add("bootbank_x", "help with \\ and\nnewline", 1, [("device", "a\"b\\c\nd")])
    #expect(
      metrics.render()
        == "# HELP bootbank_x help with \\\\ and\\nnewline\n# TYPE bootbank_x gauge\nbootbank_x{device=\"a\\\"b\\\\c\\nd\"} 1\n"
    )
    #expect(Prometheus.format(-1) == "-1")
    #expect(Prometheus.format(0.125) == "0.125")
  }

  @Test(.enabled(if: promtool, Comment(rawValue: promtoolMissing)))
  func theContribAlertRulesAreValidAndFireWhenTheyShould() throws {
    let folder = TestPaths.packageRoot.appendingPathComponent("contrib/prometheus")
    let check = try run("promtool", ["check", "rules", folder.appendingPathComponent("bootbank-alerts.yml").path])
    #expect(check.status == 0, "\(check.text) \(check.stderr)")
    #expect(check.text.contains("5 rules found"))
    // The unit tests beside the rules: each alert fires on a worn, a dead and a stopped host and
    // stays quiet on the healthy one.
    let test = try run(
      "sh", ["-c", "cd '\(folder.path)' && promtool test rules bootbank-alerts.test.yml"])
    #expect(test.status == 0, "\(test.text) \(test.stderr)")
  }

  @Test(
    .enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)),
    .enabled(if: promtool, Comment(rawValue: promtoolMissing)))
  func theContribScriptWritesOneFilePerDeviceAndDropsGoneOnes() throws {
    let binary = try #require(BootbankBinary.url)
    let folder = try TestPaths.scratchDirectory("collector")
    let stale = folder.appendingPathComponent("bootbank-sdz.prom")
    try Data("bootbank_device_readable{device=\"/dev/sdz\"} 1\n".utf8).write(to: stale)
    let unrelated = folder.appendingPathComponent("node_other.prom")
    try Data("x 1\n".utf8).write(to: unrelated)
    let script = TestPaths.packageRoot.appendingPathComponent("contrib/bootbank-textfile").path
    let devices = ["esxi7.img", "esxi7-upgrade-pending.img"].map(Scenarios.path)
    let result = try run(script, [folder.path] + devices, environment: ["BOOTBANK": binary.path])
    #expect(result.status == 0, "\(result.stderr)")
    let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
    let expected = devices.map { "bootbank-" + $0.replacingOccurrences(of: "/", with: "_") + ".prom" }
    #expect(names == (expected + ["node_other.prom"]).sorted())
    for name in expected {
      let text = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
      #expect(try Self.promtoolCheck(text).status == 0, "\(name)")
      #expect(Self.value(text, "bootbank_verify_ok", ["scope": "device"]) == 1, "\(name)")
    }
  }
}
