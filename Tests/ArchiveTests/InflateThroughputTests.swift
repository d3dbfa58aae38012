import Archive
import Checksum
import Foundation
import Testing

/// Inflate throughput of the two backends on a real gzip file, when one is named.
///
///     tar cf - /usr/lib/x86_64-linux-gnu /usr/bin | head -c 160M | gzip -6 > /tmp/bench.gz
///     BOOTBANK_BENCH_GZ=/tmp/bench.gz swift test --filter InflateThroughput
///
/// Prints MiB/s of decompressed output (CRC-32 and ISIZE checked, as `verify` does).
@Suite("inflate throughput", .serialized)
struct InflateThroughputTests {
  static let path = ProcessInfo.processInfo.environment["BOOTBANK_BENCH_GZ"]

  @Test(.enabled(if: path != nil, "set BOOTBANK_BENCH_GZ to a gzip file to measure"))
  func throughput() throws {
    let input = try [UInt8](Data(contentsOf: URL(fileURLWithPath: try #require(Self.path))))
    var results: [InflateBackend: Double] = [:]
    var sizes: [InflateBackend: Int64] = [:]
    for backend in InflateBackend.allCases {
      var best = Double.infinity
      for _ in 0..<3 {
        let decoder = GzipDecoder(backend: backend)
        let start = ContinuousClock.now
        // Feed in 64 KiB "clusters", as a FAT reader would.
        var offset = 0
        try input.withUnsafeBytes { raw in
          while offset < raw.count {
            let end = min(offset + 65536, raw.count)
            try decoder.feed(UnsafeRawBufferPointer(rebasing: raw[offset..<end])) { _ in }
            offset = end
          }
        }
        let summary = try decoder.finish()
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        best = min(best, seconds)
        sizes[backend] = summary.decompressedSize
      }
      results[backend] = best
    }
    for backend in InflateBackend.allCases {
      let out = Double(sizes[backend] ?? 0) / 1_048_576
      let seconds = results[backend] ?? 0
      print(
        "inflate \(backend.rawValue): \(input.count / 1_048_576) MiB gzip → \(Int(out)) MiB in "
          + "\(String(format: "%.3f", seconds)) s = \(Int(out / seconds)) MiB/s (output), "
          + "\(Int(Double(input.count) / 1_048_576 / seconds)) MiB/s (input)")
    }
    #expect(sizes[.isal] == sizes[.zlib])
  }
}

extension InflateThroughputTests {
  @Test(
    "inflate alone vs inflate + SHA-256 + SHA-1 of the output (what verify does per payload)",
    .enabled(if: path != nil, "set BOOTBANK_BENCH_GZ to a gzip file to measure"))
  func withHashing() throws {
    let input = try [UInt8](Data(contentsOf: URL(fileURLWithPath: try #require(Self.path))))
    for hashing in [0, 1, 2] {
      var best = Double.infinity
      for _ in 0..<3 {
        let decoder = GzipDecoder(backend: .isal)
        var sha256 = SHA256Hasher()
        var sha1 = SHA1Hasher()
        let start = ContinuousClock.now
        try decoder.feed(input) { chunk in
          if hashing >= 1 { sha256.update(chunk) }
          if hashing >= 2 { sha1.update(chunk) }
        }
        _ = try decoder.finish()
        let elapsed = ContinuousClock.now - start
        best = min(best, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
      }
      let label = ["inflate+CRC", "inflate+CRC+SHA-256", "inflate+CRC+SHA-256+SHA-1"][hashing]
      print("\(label): \(String(format: "%.3f", best)) s")
    }
  }
}

extension InflateThroughputTests {
  @Test(
    "inflate with SHA-256 + SHA-1 overlapped on a second thread",
    .enabled(if: path != nil, "set BOOTBANK_BENCH_GZ to a gzip file to measure"))
  func overlapped() throws {
    struct Hashes: Sendable {
      var sha256 = SHA256Hasher()
      var sha1 = SHA1Hasher()
    }
    let input = try [UInt8](Data(contentsOf: URL(fileURLWithPath: try #require(Self.path))))
    var best = Double.infinity
    for _ in 0..<3 {
      let decoder = GzipDecoder(backend: .isal)
      let hashing = BackgroundConsumer(state: Hashes()) { hashes, bytes in
        hashes.sha256.update(bytes)
        hashes.sha1.update(bytes)
      }
      let start = ContinuousClock.now
      try decoder.feed(input) { hashing.send($0) }
      _ = try decoder.finish()
      _ = hashing.finish()
      let elapsed = ContinuousClock.now - start
      best = min(best, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }
    print("inflate+CRC with SHA-256+SHA-1 overlapped: \(String(format: "%.3f", best)) s")
  }
}
