import BootConfig
import Testing

@testable import BootBanks

@Suite("sync: the target's boot.cfg")
struct SyncBootConfigTests {
  @Test func sourceStaysDefault() throws {
    let banks = [Fixture.bank(5, updated: "3"), Fixture.bank(6, "3", updated: "2")]
    let bytes = try SyncBootConfig.plan(banks, source: 5, target: 6)
    let config = BootConfig(bytes: bytes)
    #expect(config.bankOptions?.updated == 2)
    #expect(config.bankOptions?.bootstate == 0)
    #expect(bytes.starts(with: Array("bootstate=0\n".utf8)))
    #expect(config.lint().isEmpty, "\(config.lint())")
  }

  @Test func targetBecomesDefault() throws {
    let banks = [Fixture.bank(5, updated: "3"), Fixture.bank(6, "3", updated: "2")]
    let bytes = try SyncBootConfig.plan(banks, source: 5, target: 6, targetBecomesDefault: true)
    #expect(BootConfig(bytes: bytes).bankOptions?.updated == 4)
  }

  @Test func counterOneUsesTheTieRuleOrRefuses() throws {
    let up = [Fixture.bank(5, updated: "1"), Fixture.bank(6, "3", updated: "1")]
    #expect(BootConfig(bytes: try SyncBootConfig.plan(up, source: 5, target: 6)).bankOptions?.updated == 1)
    let down = [Fixture.bank(5, "3", updated: "1"), Fixture.bank(6, updated: "1")]
    #expect(throws: SyncBootConfig.PlanError.self) { try SyncBootConfig.plan(down, source: 6, target: 5) }
  }

  @Test func aThirdBankThatWouldWinIsCaught() {
    let banks = [Fixture.bank(2, updated: "9"), Fixture.bank(5, updated: "3"), Fixture.bank(6, "3", updated: "2")]
    #expect(throws: SyncBootConfig.PlanError.self) { try SyncBootConfig.plan(banks, source: 5, target: 6) }
  }
}
