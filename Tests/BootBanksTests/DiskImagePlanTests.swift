import DiskFormat
import Foundation
import PartitionTable
import TestSupport
import Testing

@testable import BootBanks

@Suite("image: plan, capture and bmap")
struct DiskImagePlanTests {
  /// The bmap's own checksum is sha256sum's digest of the text with the field as 64 zeros.
  @Test(.enabled(if: hasTool("sha256sum"), "needs sha256sum"))
  func bmapFileChecksumIsTheDigestOfTheTextWithZeros() throws {
    let map = Bmap(
      imageSize: 10_000, blockSize: 4096,
      ranges: [Bmap.Range(first: 0, last: 1, digest: Array(repeating: 0xAB, count: 32))],
      notes: ["a note -- with dashes"])
    let text = map.encoded()
    let field = try #require(text.range(of: #"<BmapFileChecksum> [0-9a-f]{64} "#, options: .regularExpression))
    let digest = String(text[field].dropFirst("<BmapFileChecksum> ".count).prefix(64))
    let zeroed = text.replacingCharacters(
      in: field, with: "<BmapFileChecksum> " + String(repeating: "0", count: 64) + " ")
    let result = try run("sha256sum", ["-"], stdin: Data(zeroed.utf8))
    #expect(result.text.hasPrefix(digest))
    #expect(text.contains("<BlocksCount> 3 </BlocksCount>"))
    #expect(text.contains("<MappedBlocksCount> 2 </MappedBlocksCount>"))
    #expect(text.contains("> 0-1 </Range>"))
    #expect(!text.contains("a note --"))
  }

  @Test func subtractLeavesWhatTheHolesDoNotCover() {
    #expect(ByteRanges.subtract([2..<4, 6..<7], from: 0..<10) == [0..<2, 4..<6, 7..<10])
    #expect(ByteRanges.subtract([0..<10], from: 3..<5) == [])
    #expect(ByteRanges.merge([5..<8, 0..<2, 2..<3, 7..<9]) == [0..<3, 5..<9])
  }

  /// Whole pieces are mapped zeros included; data-only pieces only where a block is non-zero;
  /// the hash of each run is the SHA-256 of its bytes; only non-zero blocks are written.
  @Test(.enabled(if: hasTool("sha256sum"), "needs sha256sum"))
  func captureMapsWholePiecesAndTheNonZeroBlocksOfTheRest() throws {
    var bytes = [UInt8](repeating: 0, count: 10 * 4096 + 100)
    bytes[1 * 4096] = 1  // whole piece 0..<2: block 0 zero, block 1 not
    bytes[5 * 4096 + 7] = 2  // data-only piece 4..<11: blocks 5 and 6 and the short last one
    bytes[6 * 4096] = 3
    bytes[10 * 4096 + 99] = 4
    let source = MemoryImage(bytes, name: "test")
    let plan = DiskImagePlan(
      imageSize: Int64(bytes.count), blockSize: 4096,
      pieces: [.init(blocks: 0..<2, kind: .whole), .init(blocks: 4..<11, kind: .dataOnly)], partitions: [])
    var written: [Int64] = []
    let result = try DiskImageCapture.run(source, plan: plan, pieceBytes: 8192) { offset, _ in written.append(offset) }
    let expectedWrites: [Int64] = [4096, 20480, 24576, 40960]
    #expect(written == expectedWrites)
    let firsts: [Int64] = result.ranges.map(\.first)
    let lasts: [Int64] = result.ranges.map(\.last)
    #expect(firsts == [0, 5, 10])
    #expect(lasts == [1, 6, 10])
    func sha(_ range: Range<Int>) throws -> String {
      String(try run("sha256sum", ["-"], stdin: Data(bytes[range])).text.prefix(64))
    }
    let hex = result.ranges.map { $0.digest.map { String(format: "%02x", $0) }.joined() }
    #expect(try hex == [sha(0..<8192), sha(5 * 4096..<7 * 4096), sha(10 * 4096..<bytes.count)])
    let expectedRead: Int64 = 2 * 4096 + 6 * 4096 + 100
    #expect(result.bytesRead == expectedRead)
  }
}
