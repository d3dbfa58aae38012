import Foundation
import Testing

@testable import BootConfig

@Suite("boot.cfg rewritten with bootstate= first")
struct BootConfigRewriteTests {
  @Test(
    "every line the reader or the writer takes for bootstate goes; the others stay byte for byte, in order",
    arguments: [
      // (file, state, expected)
      ("title=x\nbootstate=4\nbuild=1\nupdated=2\n", 1, "bootstate=1\ntitle=x\nbuild=1\nupdated=2\n"),
      // the reader's prefix key ("boot" sets bootstate) and the writer's "bootstate = 2" both go
      ("boot=3\nkernel=b.b00\nbootstate = 2\nupdated=9", 0, "bootstate=0\nkernel=b.b00\nupdated=9"),
      // no bootstate line at all: one is added first
      ("kernel=b.b00\n#c\n\nupdated=1\n", 3, "bootstate=3\nkernel=b.b00\n#c\n\nupdated=1\n"),
      // CRLF files get a CRLF first line; the others keep their \r
      ("title=x\r\nBootState=7\r\nupdated=1\r\n", 1, "bootstate=1\r\ntitle=x\r\nupdated=1\r\n"),
    ])
  func rewritten(file: String, state: Int, expected: String) throws {
    let config = BootConfig(file)
    let rewritten = try config.rewritingBootstateFirst(state)
    #expect(rewritten.bytes == Array(expected.utf8))
    #expect(rewritten.bankOptions?.bootstate == Int32(state))
    #expect(rewritten.writerView.outcome == .writable(valueOffset: 10, digit: 0x30 + UInt8(state)))
  }

  @Test func aLateBootstateMovesFirstAndTheRestIsUnchanged() throws {
    let late = "title=Loading\nkernelopt=" + String(repeating: "a", count: 600) + "\nupdated=2\nbootstate=0\n"
    let config = BootConfig(late)
    #expect(!config.writerView.isWritable)
    let rewritten = try config.rewritingBootstateFirst(3)
    #expect(rewritten.bytes.count == config.bytes.count)
    #expect(
      String(decoding: rewritten.bytes, as: UTF8.self) == "bootstate=3\n"
        + late.replacingOccurrences(of: "bootstate=0\n", with: ""))
    #expect(throws: BootConfigEditError.valueOutOfRange(field: "bootstate", value: 10)) {
      try config.rewritingBootstateFirst(10)
    }
  }
}
