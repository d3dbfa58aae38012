import DiskFormat
import DiskIO
import Foundation
import Synchronization
import TestSupport
import Testing

@Suite("Streaming windows")
struct StreamTests {
  /// Collects released windows' bytes in order, releasing some late from another thread.
  func collect(_ target: Target, _ range: Range<Int64>, method: Target.StreamMethod, window: Int) throws -> [UInt8] {
    var out: [UInt8] = []
    let group = DispatchGroup()
    try target.stream(range, windowSize: window, depth: 3, method: method) { bytes, release in
      out.append(contentsOf: bytes)
      group.enter()
      DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(1)) {
        release()
        group.leave()
      }
    }
    group.wait()
    return out
  }

  @Test("both methods give every byte of the range in order", arguments: Target.StreamMethod.allCases)
  func everyByteInOrder(method: Target.StreamMethod) throws {
    let bytes = (0..<(3 << 20) + 777).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }
    let url = try TestPaths.scratchDirectory("stream").appendingPathComponent("image.img")
    try Data(bytes).write(to: url)
    let target = try Target(path: url.path)
    for range: Range<Int64> in [0..<Int64(bytes.count), 4097..<2_000_003, 0..<0, 100..<101] {
      let got = try collect(target, range, method: method, window: 1 << 16)
      #expect(got == Array(bytes[Int(range.lowerBound)..<Int(range.upperBound)]))
    }
    #expect(throws: ReadError.self) { try collect(target, 0..<Int64(bytes.count + 1), method: method, window: 1 << 16) }
  }

  @Test("holes of a sparse file read as zeros", arguments: Target.StreamMethod.allCases)
  func sparseFiles(method: Target.StreamMethod) throws {
    let dir = try ScratchDirectory("sparse")
    let path = try dir.sparseFile("sparse.img", size: 8 << 20)
    // Data at 1 MiB and at the last 100 bytes; holes elsewhere.
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    let data = Data((0..<70000).map { UInt8(truncatingIfNeeded: $0 | 1) })
    try handle.seek(toOffset: 1 << 20)
    try handle.write(contentsOf: data)
    try handle.seek(toOffset: (8 << 20) - 100)
    try handle.write(contentsOf: data.prefix(100))
    try handle.close()
    var expected = [UInt8](repeating: 0, count: 8 << 20)
    expected.replaceSubrange((1 << 20)..<((1 << 20) + 70000), with: data)
    expected.replaceSubrange(((8 << 20) - 100)..<(8 << 20), with: data.prefix(100))
    let target = try Target(path: path)
    #expect(try collect(target, 0..<Int64(8 << 20), method: method, window: 1 << 16) == expected)
    #expect(
      try collect(target, 1_000_000..<1_200_000, method: method, window: 1 << 16)
        == Array(expected[1_000_000..<1_200_000]))
  }
}
