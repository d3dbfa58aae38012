import BootConfig
import Testing

@testable import BootBanks

/// u-root's ESXi port (`u-root/u-root pkg/boot/esxi/esxi.go`, testdata `*.cfg`) against
/// the loader (`vmware/esx-boot bootlib/parse.c`, `safeboot/config.c`). Where they differ
/// we follow the loader; each row says what u-root reads.
@Suite("cross-check with u-root's esxi.go")
struct URootComparisonTests {
  @Test(
    "bootstate as each reads it",
    arguments: [
      // (file, loader bootstate, loader present, u-root bootstate)
      // bootstate_twice.cfg: the later empty value wins in both (empty → 0).
      ("kernel=b.b00\nkernelopt=zee\nbootstate=4\nbootstate=\n", 0, true, 0),
      // no_bootstate.cfg: u-root defaults to INVALID (3); the loader's default is 0, VALID.
      ("kernel=b.b00\nkernelopt=zee\n", 0, false, 3),
      // bootstate_invalid.cfg-like: u-root maps n<0 || n>3 to INVALID; the loader keeps 7
      // and its writer cannot write it, so the bank is dropped.
      ("bootstate=7\n", 7, true, 3),
      // u-root matches keys exactly after TrimSpace, so 'bootstate = 1' IS read by u-root;
      // the loader's reader leaves the blank in the key and ignores the line.
      ("bootstate = 1\n", 0, false, 1),
      // Case and prefixes: u-root's switch is exact and case-sensitive.
      ("BootState=2\n", 2, true, 3),
      ("boot=2\n", 2, true, 3),
    ] as [(String, Int32, Bool, Int32)])
  func bootstate(_ text: String, loader: Int32, present: Bool, uroot: Int32) throws {
    let bank = try #require(BootConfig(text).bankOptions)
    #expect(bank.bootstate == loader)
    #expect(bank.bootstatePresent == present)
    _ = uroot  // documented above; u-root is not run here
  }

  @Test func missingBootstateBootsInTheLoaderNotInURoot() {
    // u-root's getBootImage refuses any state but 0 and 1, with missing read as 3: it would
    // boot partition 6. The loader reads 0 and boots 5 (higher updated).
    let choice = LoaderReplay.run([Fixture.bank(5, nil, updated: "3"), Fixture.bank(6, updated: "2")])
    #expect(choice.nextPartition == 5)
    #expect(choice.verdict(for: 5)?.bootstateBefore == nil)
    #expect(choice.verdict(for: 5)?.reason.contains("read as VALID") == true)
  }

  @Test func uRootIgnoresTheCounterAndBuild() {
    // u-root boots any state-0 bank; the loader refuses updated=0 and an empty build.
    let choice = LoaderReplay.run([Fixture.bank(5, "0", updated: "0"), Fixture.bank(6, "0", updated: "1", build: "")])
    #expect(choice.nextPartition == nil)
    #expect(choice.messages == [BankChoice.noHypervisor])
  }
}
