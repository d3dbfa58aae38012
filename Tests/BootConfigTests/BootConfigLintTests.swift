import Testing

@testable import BootConfig

@Suite("boot.cfg lint")
struct BootConfigLintTests {
  func kinds(_ text: String) -> Set<String> { Set(BootConfig(text).lint().map(\.kind)) }

  @Test func theESXiFileIsClean() {
    #expect(kinds(esxiBootCfg).isEmpty)
  }

  @Test(
    "each problem is named",
    arguments: [
      ("bootstate=1\n", "bootstateMissing", false),
      ("", "bootstateMissing", true),
      ("updated=abc\n", "bankConfigRejected", true),
      ("timeout=abc\n", "bootConfigRejected", true),
      ("foo=1\n", "unknownKey", true),
      ("nobootif=1\n", "keyNotWrittenByESXi", true),
      ("quickboot=1\n", "keyNotWrittenByESXi", true),
      ("boot=1\n", "shortenedKey", true),
      ("BootState=0\n", "keyCase", true),
      ("bootstate = 0\n", "blankBeforeSeparator", true),
      ("bootstate = 0\n", "bootstateReaderWriterMismatch", true),
      ("bootstate=0\nbootstate=1\n", "duplicateKey", true),
      ("bootstate=0\nbootstate=1\n", "bootstateReaderWriterMismatch", true),
      ("bootstate=7\n", "bootstateNotWritable", true),
      ("bootstate=7\n", "bootstateOutOfRange", true),
      ("bootstate=4\n", "bootstateOutOfRange", true),
      ("bootstate=10\n", "bootstateReaderWriterMismatch", true),
      ("updated=\n", "emptyValue", true),
      ("updated=0\n", "updatedInvalid", true),
      ("build=\n", "buildMissing", true),
      ("title=x\n", "kernelMissing", true),
      ("just words\n", "lineWithoutSeparator", true),
      ("updated=99999999999\n", "integerOutOfRange", true),
      ("build=a\0b\n", "nulByte", true),
      ("updated=1\nbuild=a\n", "keyOrder", true),
      ("title=x\n", "missingKey", true),
    ] as [(String, String, Bool)])
  func named(_ line: String, kind: String, expected: Bool) {
    // Start from the ESXi file with bootstate, title, build and updated removed, so each
    // row controls the field it tests.
    let base = "timeout=5\nprefix=\nkernel=b.b00\nkernelopt=\nmodules=k.b00\n"
    let tail = line.hasPrefix("build") || line.hasPrefix("updated=") ? "" : "build=x\nupdated=1\n"
    let text = line == "bootstate=1\n" ? base + "build=x\nupdated=1\n" + line : base + tail + line
    let found = kinds(line == "title=x\n" ? "bootstate=0\ntitle=x\nbuild=x\nupdated=1\n" : text)
    #expect(found.contains(kind) == expected, "\(found)")
  }

  @Test func bootstatePastByte512IsReported() {
    let padding = "#" + String(repeating: "x", count: 520) + "\n"
    let issues = BootConfig(padding + esxiBootCfg).lint()
    let issue = issues.first { $0.kind == "bootstateOutsideWriterWindow" }
    #expect(issue?.line == 2)
    #expect(issue?.byteOffset == 522)
  }

  @Test func rejectionNamesTheLine() {
    let issue = BootConfig("build=x\nupdated=x1\n").lint().first { $0.kind == "bankConfigRejected" }
    #expect(issue?.severity == .error)
    #expect(issue?.line == 2)
    #expect(issue?.byteOffset == 8)
  }
}
