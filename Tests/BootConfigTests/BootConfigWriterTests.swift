import Testing

@testable import BootConfig

@Suite("the loader's bootstate writer (safeboot/config.c scan_config)")
struct BootstateWriterTests {
  @Test(
    "where the writer finds bootstate",
    arguments: [
      // (file, writable digit offset or nil, outcome tag)
      ("bootstate=0\n", 10, "writable"),
      ("BootState=1\n", 10, "writable"),
      ("bootstate = 2\n", 12, "writable"),  // the writer skips blanks before '=' (the reader does not)
      ("bootstate=\t3\n", 11, "writable"),
      ("  bootstate=1\n", 12, "writable"),  // blanks before the key
      ("\r\tbootstate=1\n", 12, "writable"),
      ("#bootstate=1\nbootstate=2\n", 23, "writable"),  // a comment is not at line start
      ("title=bootstate=1\nbootstate=2\n", 28, "writable"),
      ("bootstatex=1\nbootstate=2\n", 23, "writable"),
      ("bootstate=4\n", 10, "notADigit"),
      ("bootstate=7\n", 10, "notADigit"),
      ("bootstate=\n", 10, "notADigit"),  // the value position holds '\n'
      ("bootstate=", nil, "notFound"),  // end of window
      ("build=a\n", nil, "notFound"),
      ("bootstate:1\n", nil, "notFound"),
    ] as [(String, Int?, String)])
  func scan(_ text: String, offset: Int?, tag: String) {
    let view = BootstateWriterView(bytes: Array(text.utf8))
    #expect(view.valueOffset == offset)
    switch view.outcome {
    case .writable: #expect(tag == "writable")
    case .notADigit: #expect(tag == "notADigit")
    case .notFound: #expect(tag == "notFound")
    }
  }

  @Test func onlyTheFirst512BytesCount() {
    let padding = "#" + String(repeating: "x", count: 520) + "\n"
    let late = BootStateFixture.file(prefix: padding, bootstate: 1)
    #expect(BootstateWriterView(bytes: Array(late.utf8)).outcome == .notFound)
    #expect(BootConfig(late).bankOptions?.bootstate == 1)  // the reader still reads it
    let early = BootStateFixture.file(prefix: "", bootstate: 1)
    #expect(BootstateWriterView(bytes: Array(early.utf8)).isWritable)
  }

  @Test func aValueStraddlingByte512IsNotFound() {
    // 'bootstate=' ends exactly at byte 512: the digit is outside the window.
    let pad = "#" + String(repeating: "x", count: 500) + "\n"  // 502 bytes
    let text = pad + "bootstate=1\n"
    #expect(Array(text.utf8).firstIndex(of: UInt8(ascii: "1")) == 512)
    #expect(BootstateWriterView(bytes: Array(text.utf8)).outcome == .notFound)
  }

  @Test func settingBootstateChangesOneByte() throws {
    let config = BootConfig(esxiBootCfg)
    let edited = try config.settingBootstateInPlace(2)
    #expect(edited.bytes.count == config.bytes.count)
    #expect(zip(edited.bytes, config.bytes).filter { $0 != $1 }.count == 1)
    #expect(edited.bankOptions?.bootstate == 2)
  }

  @Test func settingBootstateFailsWhereTheLoaderFails() {
    #expect(throws: BootConfigEditError.self) { try BootConfig("bootstate=7\n").settingBootstateInPlace(3) }
    #expect(throws: BootConfigEditError.self) { try BootConfig("build=a\n").settingBootstateInPlace(3) }
    #expect(throws: BootConfigEditError.self) { try BootConfig("bootstate=0\n").settingBootstateInPlace(10) }
  }

  @Test func settingUpdatedKeepsTheRestOfTheLine() throws {
    let config = BootConfig("bootstate=0\r\nupdated = 2 \r\nupdated=3\r\nbuild=x\r\n")
    let edited = try config.settingUpdatedInPlace(41)
    #expect(String(decoding: edited.bytes, as: UTF8.self) == "bootstate=0\r\nupdated = 2 \r\nupdated=41\r\nbuild=x\r\n")
    #expect(edited.bankOptions?.updated == 41)
    #expect(throws: BootConfigEditError.self) { try BootConfig("build=a\n").settingUpdatedInPlace(1) }
  }
}

enum BootStateFixture {
  static func file(prefix: String, bootstate: Int) -> String {
    prefix + "build=b\nupdated=1\nbootstate=\(bootstate)\n"
  }
}

@Suite("serializing in ESXi's order")
struct BootConfigSerializerTests {
  @Test func reordersKeepingLinesByteForByte() {
    let text = "# my notes\nupdated=3\r\nkernel=b.b00\nbuild=7.0.3\nBootState=2\ntitle=T  x\nfoo=bar\nmodules=a --- b\n"
    let out = String(decoding: BootConfig(text).serialized(bootstate: 0, updated: 4), as: UTF8.self)
    #expect(
      out == "bootstate=0\ntitle=T  x\nkernel=b.b00\nmodules=a --- b\nbuild=7.0.3\nupdated=4\n# my notes\nfoo=bar\n")
  }

  @Test func theESXiFileRoundTrips() {
    let config = BootConfig(esxiBootCfg)
    #expect(config.serialized(bootstate: 0) == config.bytes)
  }

  @Test func writerOnlyBootstateLinesAreReplaced() {
    let out = BootConfig("bootstate = 1\nbuild=a\nupdated=1\n").serialized(bootstate: 3)
    let config = BootConfig(bytes: out)
    #expect(config.bankOptions?.bootstate == 3)
    #expect(config.writerView.valueOffset == 10)
    #expect(String(decoding: out, as: UTF8.self) == "bootstate=3\nbuild=a\nupdated=1\n")
  }

  @Test func crlfFilesGetCRLFLines() {
    let out = BootConfig("title=x\r\nbuild=a\r\nupdated=1").serialized(bootstate: 0)
    #expect(String(decoding: out, as: UTF8.self) == "bootstate=0\r\ntitle=x\r\nbuild=a\r\nupdated=1\r\n")
  }
}
