import Checksum
import Testing

@Suite("SHA-256 and SHA-1")
struct SHAHasherTests {
  static let vectors: [(input: [UInt8], sha256: String, sha1: String)] = [
    (
      [], "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      "da39a3ee5e6b4b0d3255bfef95601890afd80709"
    ),
    (
      Array("abc".utf8), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
      "a9993e364706816aba3e25717850c26c9cd0d89d"
    ),
    (
      Array("123456789".utf8), "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225",
      "f7c3bc1d808e04732adf679965ccc34ca7ae3441"
    ),
    (
      [UInt8](repeating: 0x61, count: 1_000_000), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
      "34aa973cd4c4daa4f61eeb2bdbad27316534016f"
    ),
  ]

  @Test("known answers")
  func knownAnswers() {
    for vector in Self.vectors {
      var sha256 = SHA256Hasher()
      sha256.update(vector.input)
      #expect(Digests.hex(sha256.finalize()) == vector.sha256)
      var sha1 = SHA1Hasher()
      sha1.update(vector.input)
      #expect(Digests.hex(sha1.finalize()) == vector.sha1)
    }
  }

  @Test(
    "sha256sum and sha1sum agree on random buffers",
    .enabled(if: oraclePath("sha256sum") != nil && oraclePath("sha1sum") != nil, "coreutils' sums are not installed"),
    arguments: [1, 55, 56, 64, 1000, 3 << 20])
  func systemToolsAgree(count: Int) throws {
    let bytes = pseudoRandomBytes(count: count, seed: UInt64(count))
    let digests = Digester.digest([.sha256, .sha1], of: bytes)
    #expect(digests.sha256Hex == (try oracle("sha256sum", on: bytes)))
    #expect(digests.sha1Hex == (try oracle("sha1sum", on: bytes)))
  }

  @Test("finalize keeps the running state, and a copy continues on its own")
  func valueSemantics() {
    var a = SHA256Hasher()
    a.update(Array("ab".utf8))
    _ = a.finalize()
    var b = a
    a.update(Array("c".utf8))
    b.update(Array("x".utf8))
    #expect(Digests.hex(a.finalize()) == SHA256Hasher.hex(Array("abc".utf8)))
    #expect(Digests.hex(b.finalize()) == SHA256Hasher.hex(Array("abx".utf8)))
  }
}
