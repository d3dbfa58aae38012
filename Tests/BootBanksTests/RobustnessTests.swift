import BootConfig
import TestSupport
import Testing

@testable import BootBanks

/// Hostile boot.cfg bytes never trap: the reader, writer view, lint, edits, serializer
/// and the replay all run on random mixtures of the grammar's tokens.
@Suite("robustness")
struct RobustnessTests {
  static let tokens: [[UInt8]] = [
    "bootstate", "BOOTSTATE", "updated", "build", "quickboot", "kernel", "modules", "prefix", "=", "==", " ", "\t",
    "\r", "\n", "\n\n", "#", "0", "1", "2", "3", "4", "7", "-", "99999999999999999999", "---", " --- ", "\\", "/", "x",
    "\u{0}", "\u{8}", "\u{A0}", "b", "u", "",
  ].map { Array($0.utf8) }

  @Test func randomFilesNeverTrap() {
    var rng = SplitMix64(state: 0x5EED)
    for round in 0..<800 {
      var bytes: [UInt8] = []
      for _ in 0..<Int.random(in: 0...120, using: &rng) {
        bytes += Self.tokens.randomElement(using: &rng) ?? []
      }
      if round % 7 == 0 {
        bytes += (0..<Int.random(in: 0...40, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
      }
      let config = BootConfig(bytes: bytes)
      _ = config.lint()
      _ = config.modules
      _ = config.kernelItem
      _ = config.serialized(bootstate: 0, updated: 1)
      _ = try? config.settingBootstateInPlace(3)
      _ = try? config.settingUpdatedInPlace(7)
      let candidates = [
        BankCandidate(partition: 5, uuid: Fixture.uuid(5), bootConfig: bytes),
        Fixture.bank(6, updated: "2"),
      ]
      let choice = LoaderReplay.run(candidates, rollbackRequested: round % 2 == 0)
      #expect(choice.nextPartition == nil || choice.next?.bootable == true)
      _ = BootSimulation.run(candidates, boots: 3, outcome: round % 3 == 0 ? .fails : .succeeds)
    }
  }

  @Test func theSerializerKeepsTheReadersView() {
    // What the serializer writes reads back with the requested state and counter, and the
    // writer can always write it.
    var rng = SplitMix64(state: 0xFEED)
    for _ in 0..<500 {
      var bytes: [UInt8] = []
      for _ in 0..<Int.random(in: 0...60, using: &rng) { bytes += Self.tokens.randomElement(using: &rng) ?? [] }
      let config = BootConfig(bytes: bytes)
      guard config.isBankConfig else { continue }
      let out = BootConfig(bytes: config.serialized(bootstate: 2, updated: 9))
      guard out.isBankConfig, let bank = out.bankOptions else { continue }
      #expect(out.writerView.valueOffset == 10)
      #expect(bank.updated == 9, "\(String(decoding: out.bytes, as: UTF8.self))")
      #expect(bank.bootstate == 2, "\(String(decoding: out.bytes, as: UTF8.self))")
    }
  }
}
