import BootConfig
import Testing

@testable import BootBanks

/// The rule set of esx-boot's safeboot/bootbank.c, one row per rule.
///
/// Checked against vmware/esx-boot `safeboot/bootbank.c` (`bank_scan`, `bank_auto_select`,
/// `get_boot_bank`) and `safeboot/config.c` (`bank_set_bootstate`, `scan_config`). u-root's
/// port (`pkg/boot/esxi/esxi.go`) differs where noted; we follow the loader.
@Suite("loader replay: the bank choice")
struct LoaderReplayTests {
  struct Row: CustomTestStringConvertible, Sendable {
    var name: String
    var banks: [BankCandidate]
    var next: Int?
    var fallback: Int?
    var rollback: Bool
    /// partition → (bootstateAfter, bootable); `nil` after means not counted.
    var after: [Int: (Int32?, Bool)]
    var testDescription: String { name }
  }

  static let rows: [Row] = [
    Row(
      name: "two valid banks: the higher updated boots",
      banks: [Fixture.esp(), Fixture.bank(5, updated: "2"), Fixture.bank(6, updated: "1")],
      next: 5, fallback: 6, rollback: false, after: [1: (nil, false), 5: (0, true), 6: (0, true)]),
    Row(
      name: "higher updated on the second bank", banks: [Fixture.bank(5, updated: "1"), Fixture.bank(6, updated: "2")],
      next: 6, fallback: 5, rollback: false, after: [5: (0, true), 6: (0, true)]),
    Row(
      name: "tie: the first scanned (lower partition) boots",
      banks: [Fixture.bank(5, updated: "2"), Fixture.bank(6, updated: "2")],
      next: 5, fallback: 6, rollback: false, after: [5: (0, true), 6: (0, true)]),
    Row(
      name: "state 1 (UPGRADING) becomes 2 (DIRTY) and boots on trial",
      banks: [Fixture.bank(5, "1", updated: "3"), Fixture.bank(6, updated: "2")],
      next: 5, fallback: 6, rollback: false, after: [5: (2, true), 6: (0, true)]),
    Row(
      // The failed trial invalidates the bank but does not set the rollback flag: in
      // bank_scan `rollback` needs upgrading && !is_valid_bootbank, and is_valid_bootbank
      // is still true there for a bank with a good build and counter.
      name: "state 2 (DIRTY) becomes 3: the trial failed, the other bank boots",
      banks: [Fixture.bank(5, "2", updated: "3"), Fixture.bank(6, updated: "2")],
      next: 6, fallback: nil, rollback: false, after: [5: (3, false), 6: (0, true)]),
    Row(
      name: "state 3 (INVALID) is ignored", banks: [Fixture.bank(5, "3", updated: "3"), Fixture.bank(6, updated: "2")],
      next: 6, fallback: nil, rollback: false, after: [5: (3, false), 6: (0, true)]),
    Row(
      // The writer finds '4', not a digit 0-3: ERR_SYNTAX, the bank leaves the scan.
      name: "state 4 (esximage staged): dropped",
      banks: [Fixture.bank(5, "4", updated: "3"), Fixture.bank(6, updated: "2")],
      next: 6, fallback: nil, rollback: false, after: [5: (nil, false), 6: (0, true)]),
    Row(
      name: "state 7: dropped", banks: [Fixture.bank(5, "7", updated: "3"), Fixture.bank(6, updated: "2")],
      next: 6, fallback: nil, rollback: false, after: [5: (nil, false), 6: (0, true)]),
    Row(
      // 10 is no state; the writer sees '1' (a digit 0-3) and overwrites it: bootstate=30.
      name: "state 10: written as INVALID over its first digit",
      banks: [Fixture.bank(5, "10", updated: "3"), Fixture.bank(6, updated: "2")],
      next: 6, fallback: nil, rollback: false, after: [5: (3, false), 6: (0, true)]),
    Row(
      name: "quickboot: a one-shot bank, written as 3",
      banks: [Fixture.bank(5, "0", updated: "3", extra: "quickboot=1\n"), Fixture.bank(6, updated: "2")],
      next: 6, fallback: nil, rollback: false, after: [5: (3, false), 6: (0, true)]),
    Row(
      name: "updated=0 on a valid bank: invalid, nothing written",
      banks: [Fixture.bank(5, "0", updated: "0"), Fixture.bank(6, updated: "2")],
      next: 6, fallback: nil, rollback: false, after: [5: (0, false), 6: (0, true)]),
    Row(
      name: "updated=0 on an upgrading bank: the upgrade failed, written 3, rollback",
      banks: [Fixture.bank(5, "1", updated: "0"), Fixture.bank(6, updated: "2")],
      next: 6, fallback: nil, rollback: true, after: [5: (3, false), 6: (0, true)]),
    Row(
      name: "empty build on a DIRTY bank: written 3, rollback",
      banks: [Fixture.bank(5, "2", updated: "3", build: ""), Fixture.bank(6, updated: "2")],
      next: 6, fallback: nil, rollback: true, after: [5: (3, false), 6: (0, true)]),
    Row(
      name: "empty build on a valid bank: invalid, no rollback",
      banks: [Fixture.bank(5, "0", updated: "3", build: ""), Fixture.bank(6, updated: "2")],
      next: 6, fallback: nil, rollback: false, after: [5: (0, false), 6: (0, true)]),
    Row(
      // u-root reads a missing bootstate as INVALID and would boot 6; the loader reads 0.
      name: "missing bootstate reads as VALID (u-root differs)",
      banks: [Fixture.bank(5, nil, updated: "3"), Fixture.bank(6, updated: "2")],
      next: 5, fallback: 6, rollback: false, after: [5: (0, true), 6: (0, true)]),
    Row(
      // Needs a write (1 → 2) but has no bootstate line: dropped.
      name: "missing bootstate with nothing to write is fine; shortened 'boot=1' needs a write",
      banks: [Fixture.bank(5, nil, updated: "3", extra: "boot=1\n"), Fixture.bank(6, updated: "2")],
      next: 6, fallback: nil, rollback: false, after: [5: (nil, false), 6: (0, true)]),
    Row(
      name: "three banks found: the fourth is not scanned",
      banks: [
        Fixture.esp(), Fixture.bank(2, updated: "1"), Fixture.bank(5, updated: "2"), Fixture.bank(6, updated: "3"),
        Fixture.bank(7, updated: "9"),
      ],
      next: 6, fallback: 5, rollback: false, after: [2: (0, true), 5: (0, true), 6: (0, true), 7: (nil, false)]),
    Row(
      // A dropped bank does not count toward the three.
      name: "a dropped bank does not count toward three",
      banks: [
        Fixture.bank(2, "7"), Fixture.bank(5, updated: "2"), Fixture.bank(6, updated: "3"),
        Fixture.bank(7, updated: "9"),
      ],
      next: 7, fallback: 6, rollback: false, after: [2: (nil, false), 5: (0, true), 6: (0, true), 7: (0, true)]),
    Row(
      name: "none bootable: No hypervisor found.",
      banks: [Fixture.bank(5, "3", updated: "3"), Fixture.bank(6, "2", updated: "2")],
      next: nil, fallback: nil, rollback: false, after: [5: (3, false), 6: (3, false)]),
    Row(
      name: "not banks: no magic, no boot.cfg, rejected boot.cfg",
      banks: [
        Fixture.plain(2), Fixture.esp(3),
        BankCandidate(partition: 4, uuid: Fixture.uuid(4), bootConfig: "build=x\nupdated=abc\n"),
        Fixture.bank(5, updated: "1"),
      ],
      next: 5, fallback: nil, rollback: false, after: [2: (nil, false), 3: (nil, false), 4: (nil, false), 5: (0, true)]),
    Row(
      name: "a failed write is ignored: the new state holds for this boot",
      banks: [Fixture.bank(5, "1", updated: "3", writesFail: true), Fixture.bank(6, updated: "2")],
      next: 5, fallback: 6, rollback: false, after: [5: (2, true), 6: (0, true)]),
  ]

  @Test("rule", arguments: rows)
  func rule(_ row: Row) {
    let choice = LoaderReplay.run(row.banks)
    #expect(choice.nextPartition == row.next)
    #expect(choice.fallbackPartition == row.fallback)
    #expect(choice.rollback == row.rollback)
    #expect(choice.messages.contains(BankChoice.noHypervisor) == (row.next == nil))
    for (partition, expected) in row.after {
      let v = choice.verdict(for: partition)
      #expect(v?.bootstateAfter == expected.0, "partition \(partition): \(v?.reason ?? "-")")
      #expect(v?.bootable == expected.1, "partition \(partition): \(v?.reason ?? "-")")
    }
    if let next = row.next { #expect(choice.verdict(for: next)?.role == .bootbank) }
  }

  @Test func bootstatePastByte512() {
    let padding = "#" + String(repeating: "x", count: 520) + "\n"
    let late0 = BankCandidate(
      partition: 5, uuid: Fixture.uuid(5), bootConfig: padding + Fixture.bootCfg(bootstate: "0", updated: "3"))
    let late1 = BankCandidate(
      partition: 5, uuid: Fixture.uuid(5), bootConfig: padding + Fixture.bootCfg(bootstate: "1", updated: "3"))
    // State 0 needs no write: the bank boots although the writer could not reach it.
    #expect(LoaderReplay.run([late0, Fixture.bank(6, updated: "2")]).nextPartition == 5)
    // State 1 needs 1 → 2: the writer finds nothing in the first 512 bytes; dropped.
    let choice = LoaderReplay.run([late1, Fixture.bank(6, updated: "2")])
    #expect(choice.nextPartition == 6)
    #expect(choice.verdict(for: 5)?.status == .dropped(.notFound))
    #expect(choice.verdict(for: 5)?.bootstateBefore == 1)
    #expect(choice.verdict(for: 5)?.bootstateWritten == 2)
  }

  @Test func theLoaderWritesOneDigitInPlace() throws {
    let choice = LoaderReplay.run([Fixture.bank(5, "1", updated: "3"), Fixture.bank(6, "10", updated: "2")])
    let five = try #require(choice.writtenBootConfigs[5])
    #expect(String(decoding: five, as: UTF8.self) == Fixture.bootCfg(bootstate: "2", updated: "3", build: "7.0.3"))
    let six = try #require(choice.writtenBootConfigs[6])
    #expect(String(decoding: six, as: UTF8.self) == Fixture.bootCfg(bootstate: "30", updated: "2", build: "7.0.3"))
  }

  @Test func rolesAndReasons() throws {
    let choice = LoaderReplay.run([Fixture.esp(), Fixture.bank(5, "1", updated: "3"), Fixture.bank(6, updated: "2")])
    #expect(choice.verdict(for: 5)?.role == .bootbank)
    #expect(choice.verdict(for: 6)?.role == .altbootbank)
    #expect(choice.verdict(for: 1)?.role == nil)
    #expect(choice.verdict(for: 5)?.reason.contains("UPGRADING → DIRTY") == true)
    #expect(choice.verdict(for: 1)?.reason == "not a bank: no /boot.cfg")
  }

  @Test func theAlternateIsTheOtherBankEvenWhenInvalid() {
    let choice = LoaderReplay.run([Fixture.bank(5, "3", updated: "3"), Fixture.bank(6, updated: "2")])
    #expect(choice.verdict(for: 6)?.role == .bootbank)
    #expect(choice.verdict(for: 5)?.role == .altbootbank)
    #expect(choice.fallback == nil)
  }

  @Test func shiftRRollsBackToTheOtherValidBank() throws {
    let banks = [Fixture.bank(5, updated: "3"), Fixture.bank(6, updated: "2")]
    let choice = LoaderReplay.run(banks, rollbackRequested: true)
    #expect(choice.nextPartition == 6)
    #expect(choice.rollback)
    #expect(choice.verdict(for: 5)?.bootstateAfter == 3)
    let written = try #require(choice.writtenBootConfigs[5])
    #expect(BootConfig(bytes: written).bankOptions?.bootstate == 3)
  }

  @Test func shiftRWithOneValidBank() {
    let choice = LoaderReplay.run(
      [Fixture.bank(5, updated: "3"), Fixture.bank(6, "3", updated: "2")], rollbackRequested: true)
    #expect(choice.nextPartition == 5)
    #expect(!choice.rollback)
    #expect(choice.messages == [BankChoice.noAlternate])
  }

  @Test func shiftRClearsAScanRollbackWhenItCannotRollBack() {
    // get_boot_bank assigns `safeboot.rollback = (bank_kill(bank) == ERR_SUCCESS)`.
    let choice = LoaderReplay.run(
      [Fixture.bank(5, "1", updated: "0"), Fixture.bank(6, updated: "2")], rollbackRequested: true)
    #expect(choice.nextPartition == 6)
    #expect(!choice.rollback)
  }
}

@Suite("loader replay: what mboot will refuse")
struct LoadProblemTests {
  @Test(arguments: [
    ("timeout=soon\n", "timeout"),
    ("skip=1\n", "skip=1"),
  ])
  func chosenButUnloadable(_ extra: String, _ mention: String) {
    let choice = LoaderReplay.run([Fixture.bank(5, updated: "3", extra: extra), Fixture.bank(6, updated: "2")])
    #expect(choice.nextPartition == 5)  // the bank choice does not read mboot's options
    #expect(choice.next?.loadProblem?.contains(mention) == true)
    #expect(choice.next?.reason.contains("kernel loader will stop") == true)
  }

  @Test func noKernel() {
    let candidate = BankCandidate(partition: 5, uuid: Fixture.uuid(5), bootConfig: "bootstate=0\nbuild=x\nupdated=1\n")
    #expect(LoaderReplay.run([candidate]).next?.loadProblem == "\"kernel=<FILEPATH> must be set\"")
  }
}
