import Testing

@testable import BootConfig

/// The boot.cfg ESXi 7.0U3 writes, used as a base for the tables below.
let esxiBootCfg = """
  bootstate=0
  title=Loading VMware ESXi
  timeout=5
  prefix=
  kernel=b.b00
  kernelopt=autoPartition=FALSE
  modules=jumpstrt.gz --- useropts.gz --- features.gz --- k.b00 --- s.v00 --- imgdb.tgz --- state.tgz
  build=7.0.3-0.55.20328353
  updated=2

  """

@Suite("boot.cfg grammar (bootlib/parse.c)")
struct BootConfigGrammarTests {
  @Test func readsTheFileESXiWrites() throws {
    let config = BootConfig(esxiBootCfg)
    let bank = try #require(config.bankOptions)
    #expect(bank.build == "7.0.3-0.55.20328353")
    #expect(bank.updated == 2)
    #expect(bank.bootstate == 0)
    #expect(bank.bootstatePresent)
    #expect(!bank.quickboot)
    #expect(config.kernel == "b.b00")
    #expect(config.kernelOptions == "autoPartition=FALSE")
    #expect(config.title == "Loading VMware ESXi")
    #expect(config.prefix == nil)  // `prefix=` is empty: NULL, the directory of boot.cfg
    #expect(
      config.modules.map(\.path) == [
        "/jumpstrt.gz", "/useropts.gz", "/features.gz", "/k.b00", "/s.v00", "/imgdb.tgz", "/state.tgz",
      ])
    #expect(config.kernelItem?.path == "/b.b00")
    #expect(config.lint().isEmpty, "\(config.lint())")
  }

  /// One line appended to a minimal file, and what the safeboot reader makes of it.
  /// `nil` for a field means "unchanged from the base" (build=b, updated=1, no bootstate).
  @Test(
    "tricky lines",
    arguments: [
      // (line, bootstate, bootstatePresent, updated, build, accepted)
      ("bootstate=1", 1, true, 1, "b", true),
      ("BootState=1", 1, true, 1, "b", true),  // keys are case-insensitive
      ("BOOTSTATE=2", 2, true, 1, "b", true),
      ("bootstate = 1", 0, false, 1, "b", true),  // blank before '=' stays in the key: not read
      ("bootstate\t=1", 0, false, 1, "b", true),  // a tab is merged into a blank: same
      ("bootstate= 1", 1, true, 1, "b", true),  // blanks after '=' are skipped
      ("bootstate=\t\t3", 3, true, 1, "b", true),
      ("   bootstate=2   ", 2, true, 1, "b", true),  // ends trimmed
      ("bootstate=2\r", 2, true, 1, "b", true),  // CR is white space to the loader
      ("boot=2", 2, true, 1, "b", true),  // shortened key: prefixes 'bootstate' first
      ("bo=2", 2, true, 1, "b", true),  // 'bo' does not prefix 'build', does prefix 'bootstate'
      ("b=x", 0, false, 1, "x", true),  // 'b' prefixes 'build' first
      ("u=7", 0, false, 7, "b", true),  // 'u' → 'updated'
      ("=y", 0, false, 1, "y", true),  // an empty key prefixes the first option: build
      ("bootstates=1", 0, false, 1, "b", true),  // longer than the name: unknown, ignored
      ("#bootstate=3", 0, false, 1, "b", true),  // comment
      ("  # bootstate=3", 0, false, 1, "b", true),  // comment after blanks
      ("bootstate=", 0, true, 1, "b", true),  // empty value → 0
      ("updated=", 0, false, 0, "b", true),  // empty value → 0
      ("build=", 0, false, 1, nil, true),  // empty string → NULL
      ("bootstate=abc", 0, false, 1, "b", false),  // non-numeric integer: whole file fails
      ("updated=0x10", 0, false, 1, "b", false),  // no hex
      ("updated=+5", 0, false, 1, "b", false),  // no '+'
      ("updated=5 6", 0, false, 1, "b", false),  // inner blank is not a digit
      ("updated=007", 0, false, 7, "b", true),  // decimal, leading zeros
      ("updated=-1", 0, false, 4_294_967_295, "b", true),  // int -1 as uint32_t
      ("updated=-", 0, false, 0, "b", true),  // is_number accepts a lone '-', atoi gives 0
      ("updated=4294967298", 0, false, 2, "b", true),  // strtol (64-bit long), then (int)
      ("bootstate=99999999999999999999", -1, true, 1, "b", true),  // clamps to LONG_MAX, (int) → -1
      ("quickboot=x", 0, false, 1, "b", false),
      ("kernel=notanumber", 0, false, 1, "b", true),  // mboot option: ignored by safeboot
      ("timeout=abc", 0, false, 1, "b", true),  // mboot integer: fails mboot, not the bank
      ("no separator here", 0, false, 1, "b", true),
      ("bootstate=1\0garbage", 1, true, 1, "b", true),  // NUL ends the line for the reader
      ("bootstate=1=2", 0, false, 1, "b", false),  // value "1=2" is not a number
      ("\u{8}bootstate=2", 2, true, 1, "b", true),  // BS is white space in esx-boot's ctype
    ] as [(String, Int32, Bool, UInt32, String?, Bool)])
  func trickyLine(_ line: String, bootstate: Int32, present: Bool, updated: UInt32, build: String?, accepted: Bool) {
    let config = BootConfig("build=b\nupdated=1\n\(line)\n")
    #expect(config.isBankConfig == accepted)
    guard accepted, let bank = config.bankOptions else { return }
    #expect(bank.bootstate == bootstate)
    #expect(bank.bootstatePresent == present)
    #expect(bank.updated == updated)
    #expect(bank.build == build)
  }

  @Test func laterRepeatsOverride() throws {
    let bank = try #require(BootConfig("bootstate=0\nupdated=1\nupdated=5\nbootstate=2\nbuild=a\n").bankOptions)
    #expect(bank.updated == 5)
    #expect(bank.bootstate == 2)
  }

  @Test func aFailureNamesTheLineAndValue() throws {
    let config = BootConfig("build=a\n\nupdated=12x\n")
    let failure = try #require(config.safebootParse.failure)
    #expect(failure.option == "updated")
    #expect(failure.value == "12x")
    #expect(failure.line == 3)
    #expect(failure.byteOffset == 9)
  }

  @Test func anMbootIntegerFailureRejectsBootingNotTheBank() {
    let config = BootConfig("build=a\nupdated=1\ntimeout=soon\nkernel=b.b00\n")
    #expect(config.isBankConfig)
    #expect(config.mbootParse.failure?.option == "timeout")
    #expect(config.lint().contains { $0.kind == "bootConfigRejected" })
  }

  @Test func shortenedMbootKeysFollowTheMbootOrder() {
    // 't' prefixes 'title' before 'timeout'; 'k' prefixes 'kernel' before 'kernelopt'.
    let config = BootConfig("t=Hello\nk=x.b00\n")
    #expect(config.title == "Hello")
    #expect(config.kernel == "x.b00")
  }

  @Test func defaults() throws {
    let config = BootConfig("")
    let bank = try #require(config.bankOptions)
    #expect(bank == BankOptions(build: nil, updated: 0, bootstate: 0, bootstatePresent: false, quickboot: false))
    #expect(config.mbootParse["timeout"] == .integer(5))
    #expect(config.mbootParse["errtimeout"] == .integer(-1))
  }
}

@Suite("modules= lists (mboot/config.c)")
struct ModuleListTests {
  @Test(
    "items, arguments and prefix",
    arguments: [
      ("a.b00 --- b.v00", nil, ["/a.b00", "/b.v00"], [nil, nil]),
      ("a.b00 arg1 arg2 --- b.v00", nil, ["/a.b00", "/b.v00"], ["arg1 arg2", nil]),
      ("a.b00 --- b.v00", "/boot", ["/boot/a.b00", "/boot/b.v00"], [nil, nil]),
      ("a.b00 --- /abs/b.v00", "pre", ["/pre/a.b00", "/abs/b.v00"], [nil, nil]),
      ("a.b00 --- ---  b.v00", nil, ["/a.b00", "/b.v00"], [nil, nil]),  // an empty item is skipped
      ("--- a.b00", nil, ["/a.b00"], [nil]),
      ("sub\\\\dir//a.b00", nil, ["/sub/dir/a.b00"], [nil]),  // '\' → '/', runs merged
      // Loader quirk: a '---' where an item should start is skipped with the character after it.
      ("a.b00 ------b.v00", nil, ["/a.b00", "/.v00"], [nil, nil]),
    ] as [(String, String?, [String], [String?])])
  func list(_ value: String, prefix: String?, paths: [String], arguments: [String?]) {
    let prefixLine = prefix.map { "prefix=\($0)\n" } ?? ""
    let config = BootConfig("\(prefixLine)modules=\(value)\n")
    #expect(config.modules.map(\.path) == paths)
    #expect(config.modules.map(\.arguments) == arguments)
  }
}

@Suite("boot.cfg files seen in the wild")
struct BootConfigWildTests {
  /// The 7.0.3 installer ISO's boot.cfg (absolute paths, `build=` empty, `updated=0`):
  /// the loader reads it but would never pick it as a bank.
  @Test func installerMedia() throws {
    let text = """
      bootstate=0
      title=Loading ESXi installer
      timeout=5
      prefix=
      kernel=/b.b00
      kernelopt=runweasel cdromBoot
      modules=/jumpstrt.gz --- /useropts.gz --- /features.gz --- /k.b00 --- /uc_intel.b00
      build=
      updated=0

      """
    let config = BootConfig(text)
    let bank = try #require(config.bankOptions)
    #expect(bank.build == nil)
    #expect(bank.updated == 0)
    #expect(config.kernelItem?.path == "/b.b00")
    #expect(config.modules.count == 5)
    #expect(Set(config.lint().map(\.kind)) == ["buildMissing", "updatedInvalid"])
  }

  /// A PXE recipe's BOOT.CFG with upper-case `MODULES=` and no prefix/build/updated.
  @Test func upperCaseKeys() {
    let config = BootConfig(
      "bootstate=0\ntitle=x\ntimeout=5\nkernel=TBOOT.B00\nkernelopt=runweasel\nMODULES=B.B00 --- K.B00\n")
    #expect(config.modules.map(\.path) == ["/B.B00", "/K.B00"])
    #expect(config.lint().contains { $0.kind == "keyCase" && $0.line == 6 })
  }
}
