import BootBanks
import Foundation
import TestSupport
import Testing

@testable import BootBankCLI

/// The JSON shape of `status --json`, built in the CLI from BootBanks' choice.
@Suite("status report JSON")
struct BankStatusReportTests {
  @Test(.enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)))
  func shapeForScripts() throws {
    let device = try OpenedDevice.open(path: Scenarios.path("esxi7-upgrade-pending.img"), sectorSize: nil)
    let status = try BankStatus.read(from: device.target, layout: device.layout)
    let report = BankStatusReport(status.choice)
    #expect(report.next == .init(partition: 5, build: "7.0.3-0.65.20842708"))
    #expect(report.fallback == .init(partition: 6, bootable: true))
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    let json = String(decoding: try encoder.encode(report), as: UTF8.self)
    #expect(json.contains("\"bootstateAfter\":2"))  // UPGRADING becomes DIRTY at the trial boot
    #expect(json.contains("\"bootstate\":null"))  // the ESP: keys kept, values null
    #expect(json.contains("\"role\":\"/bootbank\""))
    let back = try JSONDecoder().decode(BankStatusReport.self, from: Data(json.utf8))
    #expect(back == report)
  }
}
