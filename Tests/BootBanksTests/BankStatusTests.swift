import BootConfig
import DiskFormat
import PartitionTable
import Testing

@testable import BootBanks

@Suite("bank status of a whole device", .enabled(if: ESXiImage.toolsAvailable, "needs sgdisk, mkfs.fat and mtools"))
struct BankStatusTests {
  @Test func twoValidBanks() throws {
    let bytes = try ESXiImage.build([
      .init(number: 1, bootCfg: nil),
      .init(number: 5, bootCfg: Fixture.bootCfg(updated: "2")),
      .init(number: 6, bootCfg: Fixture.bootCfg(updated: "1")),
    ])
    let status = try BankStatus.read(from: MemoryImage(bytes, name: "esxi.img"))
    #expect(status.layout.esxiBootable)
    #expect(status.discovered.map(\.candidate.partition) == [1, 5, 6, 7])
    #expect(status.choice.nextPartition == 5)
    #expect(status.choice.fallbackPartition == 6)
    #expect(status.choice.verdict(for: 1)?.status == .notABank(.noBootConfig))
    #expect(status.choice.verdict(for: 7)?.status == .notABank(.noMagic))
    let five = try #require(status.choice.verdict(for: 5))
    #expect(five.role == .bootbank)
    #expect(five.uuid?.kernelForm == "505152535455565758595a5b5c5d5e5f")
    #expect(five.uuid?.volumesForm == "53525150-57565554-5958-5a5b5c5d5e5f")
    #expect(status.choice.verdict(for: 6)?.role == .altbootbank)
    #expect(status.findings.isEmpty, "\(status.findings)")
  }

  @Test func anUpgradedBankOnTrialAndItsWrite() throws {
    let bytes = try ESXiImage.build([
      .init(number: 5, bootCfg: Fixture.bootCfg(updated: "2")),
      .init(number: 6, bootCfg: Fixture.bootCfg(bootstate: "1", updated: "3")),
    ])
    let status = try BankStatus.read(from: MemoryImage(bytes))
    #expect(status.choice.nextPartition == 6)
    #expect(status.choice.next?.bootstateBefore == 1)
    #expect(status.choice.next?.bootstateAfter == 2)
    let fails = status.after(boots: 2, outcome: .fails)
    #expect(fails.map(\.choice.nextPartition) == [6, 5])
    let succeeds = status.after(boots: 2, outcome: .succeeds)
    #expect(succeeds.map(\.choice.nextPartition) == [6, 6])
  }

  @Test func threeBanksAndAMissingMagic() throws {
    let bytes = try ESXiImage.build([
      .init(number: 5, bootCfg: Fixture.bootCfg(updated: "2"), magic: false),
      .init(number: 6, bootCfg: Fixture.bootCfg(updated: "1")),
      .init(number: 7, bootCfg: Fixture.bootCfg(updated: "1")),
    ])
    let status = try BankStatus.read(from: MemoryImage(bytes))
    #expect(status.choice.verdict(for: 5)?.status == .notABank(.noMagic))
    #expect(status.choice.nextPartition == 6)  // tie with 7: the first scanned
    #expect(status.choice.fallbackPartition == 7)
  }

  @Test func aBadPrimaryGPTLeavesTheLoaderNoBank() throws {
    var bytes = try ESXiImage.build([
      .init(number: 5, bootCfg: Fixture.bootCfg(updated: "2")),
      .init(number: 6, bootCfg: Fixture.bootCfg(updated: "1")),
    ])
    bytes[512 + 0x30] ^= 0xFF  // a byte of the primary header under its CRC
    let status = try BankStatus.read(from: MemoryImage(bytes))
    #expect(!status.layout.esxiBootable)
    #expect(status.choice.nextPartition == nil)
    #expect(status.choice.messages == ["the loader cannot read the primary GPT", BankChoice.noHypervisor])
    #expect(status.findings.contains { $0.kind == "partitionTableUnreadableByLoader" })
  }

  @Test func lintFindingsCarryThePartition() throws {
    let bytes = try ESXiImage.build([
      .init(number: 5, bootCfg: Fixture.bootCfg(bootstate: nil, updated: "2")),
      .init(number: 6, bootCfg: Fixture.bootCfg(updated: "1")),
    ])
    let status = try BankStatus.read(from: MemoryImage(bytes))
    #expect(status.findings.map(\.kind) == ["bootstateMissing"])
    #expect(status.findings.first?.partition == 5)
    #expect(status.choice.verdict(for: 5)?.bootstateBefore == nil)
  }
}

@Suite("bank status of an MBR device", .enabled(if: ESXiImage.toolsAvailable, "needs sfdisk, mkfs.fat and mtools"))
struct MBRBankStatusTests {
  /// A host upgraded in place from 4.x: the loader reads MBR and EBRs; the banks are the
  /// logical partitions 5 and 6, the boot partition p4 has the magic but no boot.cfg.
  @Test func logicalBanks() throws {
    let bytes = try ESXiImage.build(
      [
        .init(number: 4, bootCfg: nil),
        .init(number: 5, bootCfg: Fixture.bootCfg(updated: "4")),
        .init(number: 6, bootCfg: Fixture.bootCfg(bootstate: "2", updated: "5")),
      ], mbr: true)
    let status = try BankStatus.read(from: MemoryImage(bytes))
    #expect(status.layout.type == .mbr)
    #expect(status.choice.verdict(for: 4)?.status == .notABank(.noBootConfig))
    #expect(status.choice.verdict(for: 1) == nil)  // the extended container is not looked at
    // Bank 6 was on trial and did not come back: INVALID; bank 5 boots.
    #expect(status.choice.verdict(for: 6)?.bootstateAfter == 3)
    #expect(status.choice.nextPartition == 5)
    #expect(status.choice.fallbackPartition == nil)
    #expect(status.choice.verdict(for: 6)?.role == .altbootbank)
  }
}
