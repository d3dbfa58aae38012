import Archive
import Checksum
import Foundation
import TestSupport
import Testing

@Suite("gzip decoder")
struct GzipDecoderTests {
  typealias S = ArchiveTestSupport
  static let backends = InflateBackend.allCases

  let text = S.sample(count: 300_000)
  let binary = S.sample(count: 70_000, seed: 42, text: false)

  @Test("decodes what gzip -n wrote", arguments: backends, [1, 6, 9])
  func gzipN(backend: InflateBackend, level: Int) throws {
    let compressed = try S.gzipN(text, level: level)
    let (output, summary) = try S.decode(compressed, backend: backend)
    #expect(output == text)
    #expect(summary.memberCount == 1)
    #expect(summary.compressedSize == Int64(compressed.count))
    #expect(summary.decompressedSize == Int64(text.count))
    #expect(summary.members.first?.crc32 == CRC32.checksum(text))
    #expect(summary.members.first?.isize == UInt32(text.count))
    #expect(summary.members.first?.fileName == nil)
  }

  @Test("decodes what Python's gzip module wrote, FNAME and MTIME included", arguments: backends)
  func python(backend: InflateBackend) throws {
    let compressed = try S.pythonGzip(binary, name: "s.v00")
    let (output, summary) = try S.decode(compressed, backend: backend)
    #expect(output == binary)
    #expect(summary.members.first?.fileName == "s.v00")
    #expect(summary.members.first?.modificationTime == 1_234_567_890)
  }

  @Test("pigz output, where pigz is installed", .enabled(if: hasTool("pigz")), arguments: backends)
  func pigz(backend: InflateBackend) throws {
    let compressed = try S.pipe("pigz", ["-n", "-c"], text)
    let (output, _) = try S.decode(compressed, backend: backend)
    #expect(output == text)
  }

  @Test("multi-member streams (cat a.gz b.gz) decode to the concatenation", arguments: backends)
  func multiMember(backend: InflateBackend) throws {
    let a = try S.gzipN(text)
    let b = try S.pythonGzip(binary)
    let empty = try S.gzipN([])
    let stream = a + empty + b + empty
    let (output, summary) = try S.decode(stream, backend: backend)
    #expect(output == text + binary)
    #expect(summary.memberCount == 4)
    #expect(
      summary.members.map(\.offset) == [
        0, Int64(a.count), Int64(a.count + empty.count), Int64(a.count + empty.count + b.count),
      ])
    #expect(summary.members.map(\.decompressedSize) == [Int64(text.count), 0, Int64(binary.count), 0])
  }

  @Test("an empty gzip member (what ESXi's per-host files may hold) is valid", arguments: backends)
  func emptyMember(backend: InflateBackend) throws {
    let (output, summary) = try S.decode(try S.gzipN([]), backend: backend)
    #expect(output.isEmpty)
    #expect(summary.memberCount == 1)
  }

  @Test("empty input is reported as empty", arguments: backends)
  func emptyInput(backend: InflateBackend) {
    let error = S.verdict([], backend: backend)
    #expect(error?.kind == .empty)
  }

  @Test("random chunk splits give the same output and summary", arguments: backends)
  func randomSplits(backend: InflateBackend) throws {
    let stream = try S.gzipN(text) + S.pythonGzip(binary, name: "x")
    let (reference, referenceSummary) = try S.decode(stream, backend: backend)
    var generator = SystemRandomNumberGenerator()
    for round in 0..<12 {
      var splits: [Int]
      if round == 0 {
        splits = Array(1..<min(stream.count, 4000))  // one byte at a time over the first member's start
      } else {
        splits = (0..<(round * 7)).map { _ in Int.random(in: 0...stream.count, using: &generator) }.sorted()
      }
      let (output, summary) = try S.decode(stream, backend: backend, splits: splits)
      #expect(output == reference, "round \(round)")
      #expect(summary == referenceSummary, "round \(round)")
    }
  }

  @Test("one byte at a time across member boundaries")
  func byteAtATime() throws {
    let stream = try S.gzipN(Array(text.prefix(3000))) + S.gzipN(Array(binary.prefix(2000)))
    for backend in Self.backends {
      let (output, summary) = try S.decode(stream, backend: backend, splits: Array(1..<stream.count))
      #expect(output == Array(text.prefix(3000)) + Array(binary.prefix(2000)))
      #expect(summary.memberCount == 2)
    }
  }

  @Test("hundreds of tiny members, split anywhere: every trailer is found", arguments: backends)
  func manyTinyMembers(backend: InflateBackend) throws {
    // Python writes 300 members of 0–299 bytes, so the deflate data ends at every bit offset.
    let script = """
      import gzip, sys, random
      r = random.Random(5)
      out = b''.join(gzip.compress(bytes(r.randrange(4) + 97 for _ in range(n)), compresslevel=r.choice([1, 6, 9]), mtime=0)
                     for n in [r.randrange(300) for _ in range(300)])
      sys.stdout.buffer.write(out)
      """
    let stream = try S.pipe("python3", ["-c", script], [])
    let (reference, summary) = try S.decode(stream, backend: backend)
    #expect(summary.memberCount == 300)
    #expect(summary.compressedSize == Int64(stream.count))
    for round in 0..<5 {
      let splits = (0..<(50 * (round + 1))).map { _ in Int.random(in: 0...stream.count) }.sorted()
      let (output, again) = try S.decode(stream, backend: backend, splits: splits)
      #expect(output == reference)
      #expect(again == summary)
    }
  }

  @Test("the expansion limit stops a zip bomb", arguments: backends)
  func expansionLimit(backend: InflateBackend) throws {
    let zeros = [UInt8](repeating: 0, count: 4 << 20)
    let bomb = try S.gzipN(zeros, level: 9)
    #expect(bomb.count < 10_000)
    #expect(throws: GzipError.self) { _ = try S.decode(bomb, backend: backend, maxOutput: 1 << 20) }
    let error = S.verdictWithLimit(bomb, backend: backend, limit: 1 << 20)
    #expect(error?.kind == .outputLimitExceeded(limit: 1 << 20))
    _ = try S.decode(bomb, backend: backend, maxOutput: 4 << 20)
  }

  @Test("both backends agree on output and verdicts")
  func backendsAgree() throws {
    let stream = try S.gzipN(text) + S.gzipN(binary)
    let (isal, isalSummary) = try S.decode(stream, backend: .isal)
    let (zlib, zlibSummary) = try S.decode(stream, backend: .zlib)
    #expect(isal == zlib)
    #expect(isalSummary == zlibSummary)
    for offset in stride(from: 0, to: stream.count, by: max(1, stream.count / 97)) {
      var damaged = stream
      damaged[offset] ^= 0x55
      let isal = S.verdict(damaged, backend: .isal)
      let zlib = S.verdict(damaged, backend: .zlib)
      if case .corruptDeflate? = isal?.kind, case .corruptDeflate? = zlib?.kind {
        // Same verdict; the reason text is the library's and the point of detection
        // may differ by the few bytes each library reads ahead.
        #expect(isal?.member == zlib?.member && isal?.field == zlib?.field, "flip at \(offset)")
        #expect(abs((isal?.offset ?? 0) - (zlib?.offset ?? 0)) <= 16, "flip at \(offset)")
      } else {
        #expect(isal == zlib, "flip at \(offset)")
      }
    }
  }

  @Test("looksLikeGzip recognises a member start")
  func sniff() throws {
    let compressed = try S.gzipN(text)
    let gzip = GzipDecoder.looksLikeGzip(compressed.span)
    let plain = GzipDecoder.looksLikeGzip(text.span)
    let short = GzipDecoder.looksLikeGzip([0x1f, 0x8b].span)
    #expect(gzip && !plain && !short)
  }

  /// The library reads no environment: the command line maps BOOTBANK_INFLATE onto
  /// `InflateBackend.default` (BootBankCLITests' settings test checks that mapping).
  @Test("the default backend is ISA-L until a program sets another")
  func libraryDefault() {
    #expect(InflateBackend.default == .isal)
    #expect(GzipDecoder().backend == .isal)
  }
}

extension ArchiveTestSupport {
  static func verdictWithLimit(_ input: [UInt8], backend: InflateBackend, limit: Int64) -> GzipError? {
    do {
      _ = try decode(input, backend: backend, maxOutput: limit)
      return nil
    } catch {
      return error as? GzipError
    }
  }
}
