import Checksum
import Testing

@Suite("Digester")
struct DigesterTests {
  static let all: Set<Algorithm> = [.crc32, .sha256, .sha1]

  @Test("every two-window split gives the digest of the whole")
  func everySplit() {
    let bytes = pseudoRandomBytes(count: 600, seed: 11)
    let whole = Digester.digest(Self.all, of: bytes)
    for cut in 0...bytes.count {
      var digester = Digester(Self.all)
      digester.update(Array(bytes[..<cut]))
      digester.update(Array(bytes[cut...]))
      #expect(digester.finalize() == whole, "cut at \(cut)")
    }
  }

  @Test("byte-by-byte and random windows give the digest of the whole")
  func manyWindows() {
    let bytes = pseudoRandomBytes(count: 700_001, seed: 12)
    let whole = Digester.digest(Self.all, of: bytes)
    #expect(whole.byteCount == 700_001)
    var bytewise = Digester(Self.all)
    for byte in bytes[..<3000] { bytewise.update([byte]) }
    bytewise.update(Array(bytes[3000...]))
    #expect(bytewise.finalize() == whole)
    let sizes = pseudoRandomBytes(count: 64, seed: 13).map { Int($0) * 97 + 1 }
    var random = Digester(Self.all)
    var start = 0
    var index = 0
    while start < bytes.count {
      let end = min(bytes.count, start + sizes[index % sizes.count] * (index % 3 == 0 ? 1 : 37))
      random.update(Array(bytes[start..<end]))
      start = end
      index += 1
    }
    #expect(random.finalize() == whole)
  }

  @Test("only the algorithms asked for are computed")
  func subsets() {
    let bytes = Array("123456789".utf8)
    let crcOnly = Digester.digest([.crc32], of: bytes)
    #expect(crcOnly.crc32Hex == "cbf43926")
    #expect(crcOnly.sha256 == nil && crcOnly.sha1 == nil)
    let shaOnly = Digester.digest([.sha1], of: bytes)
    #expect(shaOnly.crc32 == nil && shaOnly.sha256 == nil)
    #expect(shaOnly.sha1Hex == "f7c3bc1d808e04732adf679965ccc34ca7ae3441")
    let none = Digester.digest([], of: bytes)
    #expect(none == Digests(byteCount: 9))
  }

  @Test("empty and tiny inputs")
  func tiny() {
    let empty = Digester.digest(Self.all, of: [])
    #expect(empty.crc32Hex == "00000000")
    #expect(empty.sha256Hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    #expect(empty.sha1Hex == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
    var withEmptyWindows = Digester(Self.all)
    withEmptyWindows.update([])
    withEmptyWindows.update(Array("abc".utf8))
    withEmptyWindows.update([])
    let abc = withEmptyWindows.finalize()
    #expect(abc.crc32Hex == "352441c2")
    #expect(abc.sha256Hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    #expect(Digester.digest([.crc32], of: [0]).crc32Hex == "d202ef8d")
  }

  @Test("algorithm lists parse, and unknown names are named")
  func parsing() throws {
    #expect(try Algorithm.parseList("crc32, sha256").get() == [.crc32, .sha256])
    #expect(try Algorithm.parseList("SHA1").get() == [.sha1])
    let error = #expect(throws: UnknownAlgorithm.self) { try Algorithm.parseList("crc32,md5").get() }
    #expect(error?.name == "md5")
  }
}
