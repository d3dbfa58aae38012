import Archive
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
