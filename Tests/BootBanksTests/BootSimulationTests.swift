import BootConfig
import DiskFormat
import Foundation
import Testing

@testable import BootBanks

@Suite("after N boots")
struct BootSimulationTests {
  /// Just after an upgrade: bank 5 holds the new image (UPGRADING, updated 3), bank 6 the old.
  let upgraded = [Fixture.esp(), Fixture.bank(5, "1", updated: "3"), Fixture.bank(6, updated: "2")]

  @Test func aSuccessfulTrialKeepsTheNewImage() {
    let steps = BootSimulation.run(upgraded, boots: 3, outcome: .succeeds)
    #expect(steps.map(\.choice.nextPartition) == [5, 5, 5])
    #expect(steps.map(\.trial) == [true, false, false])
    #expect(steps[0].bootstatesAfter[5] == .some(0))  // tag-boot-bank set it VALID
    #expect(steps[2].bootstatesAfter[6] == .some(0))
  }

  @Test func aFailedTrialFallsBackToTheOldImage() {
    let steps = BootSimulation.run(upgraded, boots: 3, outcome: .fails)
    #expect(steps.map(\.choice.nextPartition) == [5, 6, 6])
    #expect(steps[0].bootstatesAfter[5] == .some(2))  // DIRTY: nobody tagged it
    #expect(steps[1].choice.verdict(for: 5)?.reason.contains("DIRTY → INVALID") == true)
    #expect(steps[1].bootstatesAfter[5] == .some(3))
    #expect(!steps[1].choice.rollback)
  }

  @Test func aMediumThatRefusesWritesRetriesTheTrialForever() {
    // The loader's 1 → 2 never reaches the disk, so every boot is a first trial again.
    let banks = [Fixture.bank(5, "1", updated: "3", writesFail: true), Fixture.bank(6, updated: "2")]
    let steps = BootSimulation.run(banks, boots: 3, outcome: .fails)
    #expect(steps.map(\.choice.nextPartition) == [5, 5, 5])
    #expect(steps.allSatisfy { $0.bootstatesAfter[5] == .some(1) })
  }

  @Test func aReaderWriterMismatchKeepsTheBankUpgrading() {
    // The reader takes the last bootstate line (1), the writer changes the first (0 → 2):
    // the loader sees UPGRADING at every boot.
    let text = Fixture.bootCfg(bootstate: "0", updated: "3") + "bootstate=1\n"
    let banks = [BankCandidate(partition: 5, uuid: Fixture.uuid(5), bootConfig: text), Fixture.bank(6, updated: "2")]
    let steps = BootSimulation.run(banks, boots: 2, outcome: .fails)
    #expect(steps.map(\.choice.nextPartition) == [5, 5])
    #expect(steps.allSatisfy { $0.trial })
  }

  @Test func zeroBootsIsEmpty() {
    #expect(BootSimulation.run(upgraded, boots: 0, outcome: .fails).isEmpty)
  }
}

@Suite("bank UUID renderings")
struct BankUUIDTests {
  // Expected strings from Python: struct.unpack("<IIH6s", b) printed
  // f"{a:08x}-{b:08x}-{c:04x}-{d.hex()}", as ESXi's installer and dissect.target do.
  @Test func bothForms() throws {
    let uuid = try #require(BankUUID(bytes: Array(0..<16)))
    #expect(uuid.kernelForm == "000102030405060708090a0b0c0d0e0f")
    #expect(uuid.volumesForm == "03020100-07060504-0908-0a0b0c0d0e0f")
  }

  @Test func aRealLookingBank() throws {
    let bytes: [UInt8] = [
      0x5f, 0x5a, 0x70, 0x50, 0xe2, 0xe2, 0x8c, 0xb0, 0xa1, 0xb8, 0xbc, 0x56, 0x25, 0x82, 0x53, 0xad,
    ]
    let uuid = try #require(BankUUID(bytes: bytes))
    #expect(uuid.volumesForm == "50705a5f-b08ce2e2-b8a1-bc56258253ad")
    #expect(uuid.kernelForm == "5f5a7050e2e28cb0a1b8bc56258253ad")
  }

  @Test func fromTheSecondSector() {
    var sector = Array("VMWARE FAT16    ".utf8) + Array(repeating: UInt8(0xAB), count: 16)
    sector += Array(repeating: 0, count: 480)
    #expect(BankUUID(sector: sector)?.kernelForm == String(repeating: "ab", count: 16))
    sector[0] = UInt8(ascii: "v")
    #expect(BankUUID(sector: sector) == nil)
    #expect(BankUUID(sector: Array(sector.prefix(31))) == nil)
    #expect(BankUUID(bytes: [1, 2]) == nil)
  }
}

@Suite("lint as findings")
struct LintFindingTests {
  @Test func carriesPartitionPathAndLine() {
    let findings = Fixture.bank(5, nil, updated: "3").bootConfig.map { BootConfigFindingsProbe.findings($0) } ?? []
    let missing = findings.first { $0.kind == "bootstateMissing" }
    #expect(missing?.partition == 5)
    #expect(missing?.path == "/boot.cfg")
    #expect(missing?.severity == .warning)
  }
}

enum BootConfigFindingsProbe {
  static func findings(_ bytes: [UInt8]) -> [Finding] { BootConfig(bytes: bytes).findings(partition: 5) }
}

@Suite("bank roles")
struct BankRoleTests {
  /// The /altbootbank is the fallback shown, bootable or not, so a missing way back shows.
  @Test func theAltbootbankIsShownEvenWhenItCannotBoot() throws {
    let choice = LoaderReplay.run([
      Fixture.esp(), Fixture.bank(5, "1", updated: "3"), Fixture.bank(6, "3", updated: "2"),
    ])
    #expect(choice.next?.partition == 5)
    #expect(choice.next?.build == "7.0.3")
    #expect(choice.altbootbank?.partition == 6)
    #expect(choice.altbootbank?.bootable == false)
    #expect(choice.verdict(for: 5)?.bootstateAfter == 2)
  }

  /// Equal `updated`: the first scanned (lower) partition boots, and the choice says it tied.
  @Test func aTieOnUpdatedIsNamed() {
    let tie = LoaderReplay.run([Fixture.bank(5, "0", updated: "2"), Fixture.bank(6, "0", updated: "2")])
    #expect(tie.next?.partition == 5)
    #expect(tie.tiedUpdated == 2)
    let clear = LoaderReplay.run([Fixture.bank(5, "0", updated: "1"), Fixture.bank(6, "0", updated: "2")])
    #expect(clear.tiedUpdated == nil)
  }
}
