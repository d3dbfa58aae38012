import Archive
import Foundation
import TestSupport
import Testing

/// Hostile input never traps: random mutations of real gzip and tar streams end in a value
/// or a typed error, never a crash or a hang.
@Suite("archive fuzzing")
struct ArchiveFuzzTests {
  typealias S = ArchiveTestSupport

  struct Generator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
      state ^= state << 13
      state ^= state >> 7
      state ^= state << 17
      return state
    }
  }

  @Test("mutated gzip streams", arguments: InflateBackend.allCases)
  func gzip(backend: InflateBackend) throws {
    let original = try S.gzipN(S.sample(count: 20_000)) + S.pythonGzip(S.sample(count: 3000, seed: 7), name: "n")
    var random = Generator(state: 0xDEAD_BEEF)
    for round in 0..<600 {
      var bytes = original
      for _ in 0...(round % 6) {
        let at = Int.random(in: 0..<bytes.count, using: &random)
        switch round % 3 {
        case 0: bytes[at] = UInt8.random(in: 0...255, using: &random)
        case 1: bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...64, using: &random)))
        default: bytes.insert(contentsOf: S.sample(count: 17, seed: UInt64(round + 1), text: false), at: at)
        }
        if bytes.isEmpty { break }
      }
      let splits = (0..<3).map { _ in Int.random(in: 0...bytes.count, using: &random) }.sorted()
      do {
        _ = try S.decode(bytes, backend: backend, splits: splits, maxOutput: 1 << 22)
      } catch is GzipError {
      }
    }
  }

  @Test("mutated tar streams")
  func tar() throws {
    let script = """
      import tarfile, io, sys
      buf = io.BytesIO()
      with tarfile.open(fileobj=buf, mode='w', format=tarfile.PAX_FORMAT) as t:
          for i, size in enumerate([0, 5, 600, 1500]):
              info = tarfile.TarInfo('d/' + 'x' * (40 * i) + str(i)); info.size = size; info.mtime = 0
              t.addfile(info, io.BytesIO(b'a' * size))
      sys.stdout.buffer.write(buf.getvalue())
      """
    let original = try S.pipe("python3", ["-c", script], [])
    var random = Generator(state: 0x1234_5678)
    for round in 0..<800 {
      var bytes = original
      for _ in 0...(round % 4) {
        let at = Int.random(in: 0..<bytes.count, using: &random)
        bytes[at] = round % 2 == 0 ? UInt8.random(in: 0...255, using: &random) : UInt8(ascii: "7")
      }
      if round % 5 == 0 { bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &random))) }
      var reader = TarReader(limits: .init(maxMembers: 50, maxNameLength: 512, maxExtendedHeaderSize: 4096))
      var extractor = TarExtractor(maxMemberSize: 1 << 16, maxTotalSize: 1 << 18) { _ in true }
      do {
        try reader.feed(bytes.span, to: &extractor)
        _ = try reader.finish()
      } catch is TarError {
      }
    }
  }
}
