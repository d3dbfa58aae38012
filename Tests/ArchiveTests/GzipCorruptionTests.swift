import Archive
import Checksum
import Testing

/// Every kind of damage to a gzip stream is reported as its own kind, at the right field and byte.
@Suite("gzip corruption")
struct GzipCorruptionTests {
  typealias S = ArchiveTestSupport
  static let backends = InflateBackend.allCases

  let data = S.sample(count: 50_000)
  let compressed: [UInt8]

  init() throws {
    compressed = try S.gzipN(data)  // 10-byte header (FLG 0), deflate data, CRC32, ISIZE
  }

  @Test("a changed header byte names the header field", arguments: backends)
  func header(backend: InflateBackend) {
    let cases: [(offset: Int, value: UInt8, field: String)] = [
      (0, 0x1e, "ID1"), (1, 0x8c, "ID2"), (2, 7, "CM"), (3, 0x20, "FLG"), (3, 0x80, "FLG"),
    ]
    for c in cases {
      var damaged = compressed
      damaged[c.offset] = c.value
      let error = S.verdict(damaged, backend: backend)
      #expect(error?.field == c.field, "offset \(c.offset)")
      #expect(error?.offset == Int64(c.offset))
      #expect(error?.member == 0)
    }
    var magic = compressed
    magic[0] = 0x50
    #expect(S.verdict(magic, backend: backend)?.kind == .badMagic(found: 0x50, expected: 0x1f))
    var method = compressed
    method[2] = 7
    #expect(S.verdict(method, backend: backend)?.kind == .unsupportedMethod(7))
    var flags = compressed
    flags[3] = 0x20
    #expect(S.verdict(flags, backend: backend)?.kind == .reservedFlags(0x20))
  }

  @Test("FHCRC: a right header CRC16 passes, a wrong one is reported", arguments: backends)
  func headerCRC(backend: InflateBackend) throws {
    // Rebuild gzip -n's header with FEXTRA, FNAME, FCOMMENT and FHCRC set.
    var header: [UInt8] = [0x1f, 0x8b, 8, 0x04 | 0x08 | 0x10 | 0x02, 0, 0, 0, 0, 0, 3]
    header += [4, 0, 0x41, 0x42, 0, 0]  // XLEN 4, one subfield "AB" of length 0
    header += Array("s.v00".utf8) + [0]
    header += Array("comment".utf8) + [0]
    let crc = UInt16(truncatingIfNeeded: CRC32.checksum(header))
    let good = header + [UInt8(crc & 0xff), UInt8(crc >> 8)] + compressed[10...]
    let (output, summary) = try S.decode(good, backend: backend, splits: [3, 11, 13, 20])
    #expect(output == data)
    #expect(summary.members.first?.fileName == "s.v00")
    var bad = good
    bad[header.count] ^= 0xff
    let error = S.verdict(bad, backend: backend)
    #expect(error?.field == "CRC16")
    #expect(error?.offset == Int64(header.count))
    #expect(error?.kind == .headerCRCMismatch(stored: crc ^ 0xff, computed: crc))
  }

  @Test("an invalid deflate block is corrupt deflate data", arguments: backends)
  func deflateBlockType(backend: InflateBackend) {
    var damaged = compressed
    damaged[10] = 0x07  // BFINAL 1, BTYPE 11 (reserved)
    let error = S.verdict(damaged, backend: backend)
    guard case .corruptDeflate = error?.kind else {
      Issue.record("expected corrupt deflate data, got \(String(describing: error))")
      return
    }
    #expect(error?.field == "deflate data")
  }

  @Test("flips in the deflate body never pass", arguments: backends)
  func deflateBody(backend: InflateBackend) {
    let end = compressed.count - 8
    for offset in stride(from: 11, to: end, by: max(1, (end - 11) / 40)) {
      var damaged = compressed
      damaged[offset] ^= 0x10
      let error = S.verdict(damaged, backend: backend)
      switch error?.kind {
      case .corruptDeflate?, .crcMismatch?, .sizeMismatch?, .truncated?, .trailingGarbage?:
        break
      default:
        Issue.record("flip at \(offset): \(String(describing: error))")
      }
    }
  }

  @Test("a wrong CRC32 is reported with both values", arguments: backends)
  func crc(backend: InflateBackend) {
    var damaged = compressed
    let at = compressed.count - 8
    damaged[at] ^= 0x01
    let error = S.verdict(damaged, backend: backend)
    let computed = CRC32.checksum(data)
    #expect(error?.kind == .crcMismatch(stored: computed ^ 0x01, computed: computed))
    #expect(error?.field == "CRC32")
    #expect(error?.offset == Int64(at))
  }

  @Test("a wrong ISIZE is reported with both values", arguments: backends)
  func isize(backend: InflateBackend) {
    var damaged = compressed
    let at = compressed.count - 4
    damaged[at + 3] ^= 0x80
    let error = S.verdict(damaged, backend: backend)
    #expect(error?.kind == .sizeMismatch(stored: UInt32(data.count) ^ 0x8000_0000, computed: UInt32(data.count)))
    #expect(error?.field == "ISIZE")
    #expect(error?.offset == Int64(at))
  }

  @Test("truncation is reported at the end of the input, naming the field it cut", arguments: backends)
  func truncation(backend: InflateBackend) {
    let n = compressed.count
    let cases: [(length: Int, field: String)] = [
      (1, "ID2"), (3, "FLG"), (6, "MTIME"), (9, "OS"), (10, "deflate data"), (11, "deflate data"),
      (n / 2, "deflate data"), (n - 9, "deflate data"), (n - 8, "CRC32"), (n - 5, "CRC32"), (n - 4, "ISIZE"),
      (n - 1, "ISIZE"),
    ]
    for c in cases {
      for splits in [[], [c.length / 2]] {
        let error = S.verdict(Array(compressed.prefix(c.length)), backend: backend, splits: splits)
        #expect(error?.kind == .truncated, "length \(c.length)")
        #expect(error?.field == c.field, "length \(c.length)")
        #expect(error?.offset == Int64(c.length), "length \(c.length)")
      }
    }
  }

  @Test("bytes after the last member are trailing garbage", arguments: backends)
  func trailingGarbage(backend: InflateBackend) {
    let n = Int64(compressed.count)
    let error = S.verdict(compressed + Array("junk".utf8), backend: backend)
    #expect(error?.kind == .trailingGarbage(count: 4))
    #expect(error?.offset == n)
    let zeros = S.verdict(compressed + [0, 0, 0], backend: backend)
    #expect(zeros?.kind == .trailingGarbage(count: 3))
    let fakeMember = S.verdict(compressed + [0x1f, 0x00, 1, 2], backend: backend, splits: [compressed.count + 1])
    #expect(fakeMember?.kind == .trailingGarbage(count: 4))
    #expect(fakeMember?.offset == n)
    let cutMember = S.verdict(compressed + [0x1f], backend: backend)
    #expect(cutMember?.kind == .truncated)
    #expect(cutMember?.member == 1)
    #expect(cutMember?.field == "ID2")
  }

  @Test("damage in a second member names that member", arguments: backends)
  func secondMember(backend: InflateBackend) {
    var stream = compressed + compressed
    stream[stream.count - 8] ^= 0xff
    let error = S.verdict(stream, backend: backend)
    #expect(error?.member == 1)
    #expect(error?.field == "CRC32")
    #expect(error?.offset == Int64(stream.count - 8))
  }

  @Test("after an error the decoder stays spent")
  func spent() {
    let decoder = GzipDecoder()
    #expect(throws: GzipError.self) { try decoder.feed([0, 1, 2]) { _ in } }
    #expect(throws: GzipError.self) { try decoder.feed(compressed) { _ in } }
    #expect(throws: GzipError.self) { _ = try decoder.finish() }
  }
}
