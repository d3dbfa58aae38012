import Checksum
import Testing

@Suite("CRC-32")
struct CRC32Tests {
  @Test("known answers", arguments: CRC32.Backend.allCases)
  func knownAnswers(backend: CRC32.Backend) {
    #expect(CRC32.checksum([], backend: backend) == 0)
    #expect(CRC32.checksum(Array("abc".utf8), backend: backend) == 0x3524_41C2)
    #expect(CRC32.checksum(Array("123456789".utf8), backend: backend) == 0xCBF4_3926)
    #expect(CRC32.checksum([UInt8](repeating: 0x61, count: 1_000_000), backend: backend) == 0xDC25_BFBC)
  }

  @Test("the zlib fallback agrees with ISA-L", arguments: [0, 1, 3, 15, 16, 17, 63, 64, 255, 4096, 65_537, 1 << 20])
  func zlibAgreesWithISAL(count: Int) {
    let bytes = pseudoRandomBytes(count: count, seed: UInt64(count) + 7)
    #expect(CRC32.checksum(bytes, backend: .zlib) == CRC32.checksum(bytes, backend: .isal))
  }

  @Test(
    "rhash agrees on random buffers", .enabled(if: oraclePath("rhash") != nil, "rhash is not installed"),
    arguments: [1, 1000, 1 << 20])
  func rhashAgrees(count: Int) throws {
    let bytes = pseudoRandomBytes(count: count, seed: 42)
    let expected = try oracle("rhash", ["--crc32", "--printf=%C\\n"], on: bytes)
    let crc = CRC32.checksum(bytes)
    #expect(Digests(crc32: crc).crc32Hex == expected)
  }

  @Test("zero bytes fed as a count equal zero bytes fed as data")
  func zeroCount() {
    var a = CRC32()
    a.update(Array("head".utf8))
    a.update(zeroCount: 10_000)
    var b = CRC32()
    b.update(Array("head".utf8) + [UInt8](repeating: 0, count: 10_000))
    #expect(a.finalize() == b.finalize())
  }
}
