import Checksum
import Synchronization
import Testing

@Suite("Pipelined digester")
struct PipelinedDigesterTests {
  static let all: Set<Algorithm> = [.crc32, .sha256, .sha1]
  static let bytes = pseudoRandomBytes(count: (3 << 20) + 12_345, seed: 21)
  static let whole = Digester.digest(all, of: bytes)

  @Test(
    "scoped windows: the pipelined digest equals the single-threaded one",
    arguments: [
      [Algorithm.crc32], [.sha256], [.sha1], [.crc32, .sha256], [.crc32, .sha256, .sha1],
    ])
  func scoped(algorithms: [Algorithm]) throws {
    let set = Set(algorithms)
    let expected = Digester.digest(set, of: Self.bytes)
    for window in [1, 4096, 65_537, 1 << 20, Self.bytes.count] {
      let digests = try Digester.digest(set, threading: .pipelined) { digester in
        #expect(digester.isPipelined)
        var start = 0
        while start < Self.bytes.count {
          let end = min(start + window, Self.bytes.count)
          Self.bytes[start..<end].withUnsafeBytes { digester.consume($0) }
          start = end
          if window == 1 && start >= 5000 {
            // Keep the byte-wise case short, then finish in one window.
            Self.bytes[start...].withUnsafeBytes { digester.consume($0) }
            start = Self.bytes.count
          }
        }
      }
      #expect(digests == expected, "window \(window)")
    }
  }

  @Test("owned windows are released exactly once, in order, after use")
  func owned() throws {
    let released = Mutex<[Int]>([])
    let digests = try Self.bytes.withUnsafeBytes { buffer in
      try Digester.digest(Self.all, threading: .pipelined) { digester in
        var start = 0
        var index = 0
        while start < buffer.count {
          let end = min(start + 300_007, buffer.count)
          let number = index
          digester.consume(UnsafeRawBufferPointer(rebasing: buffer[start..<end])) {
            released.withLock { $0.append(number) }
          }
          start = end
          index += 1
        }
      }
    }
    #expect(digests == Self.whole)
    let order = released.withLock { $0 }
    #expect(order == Array(0..<order.count))
    #expect(order.count == (Self.bytes.count + 300_006) / 300_007)
  }

  @Test("the zlib CRC backend gives the same digests, inline and pipelined", arguments: [Threading.inline, .pipelined])
  func zlibBackend(threading: Threading) {
    let digester = PipelinedDigester(Self.all, threading: threading, crcBackend: .zlib)
    Self.bytes.withUnsafeBytes { digester.consume($0) }
    #expect(digester.finalize() == Self.whole)
  }

  @Test("small chunks and a shallow queue give the same digests")
  func smallChunks() {
    let digester = PipelinedDigester(Self.all, threading: .pipelined, chunkSize: 64 << 10, depth: 2)
    Self.bytes.withUnsafeBytes { digester.consume($0) }
    #expect(digester.finalize() == Self.whole)
  }

  @Test("inline threading gives the same digests and releases at once")
  func inline() throws {
    let count = Mutex(0)
    let digests = try Self.bytes.withUnsafeBytes { buffer in
      try Digester.digest(Self.all, threading: .inline) { digester in
        #expect(!digester.isPipelined)
        digester.consume(buffer) { count.withLock { $0 += 1 } }
        #expect(count.withLock { $0 } == 1)
      }
    }
    #expect(digests == Self.whole)
  }

  @Test("empty streams and empty windows")
  func empty() throws {
    let none = try Digester.digest(Self.all, threading: .pipelined) { _ in }
    #expect(none == Digester.digest(Self.all, of: []))
    let withEmpty = try Digester.digest(Self.all, threading: .pipelined) { digester in
      let empty: [UInt8] = []
      empty.withUnsafeBytes { digester.consume($0) }
      Array("abc".utf8).withUnsafeBytes { digester.consume($0) }
      empty.withUnsafeBytes { digester.consume($0, release: {}) }
    }
    #expect(withEmpty == Digester.digest(Self.all, of: Array("abc".utf8)))
  }

  struct Stop: Error {}

  @Test("an error from the producer drains queued work before it is rethrown")
  func producerError() {
    let released = Mutex(0)
    _ = Self.bytes.withUnsafeBytes { buffer in
      #expect(throws: Stop.self) {
        try Digester.digest(Self.all, threading: .pipelined) { digester in
          digester.consume(buffer) { released.withLock { $0 += 1 } }
          throw Stop()
        }
      }
    }
    #expect(released.withLock { $0 } == 1)
  }

  @Test("the buffer ring reads short and full fills alike", arguments: [Threading.inline, .pipelined])
  func ring(threading: Threading) throws {
    var offset = 0
    var call = 0
    let digests = try Digester.digest(Self.all, threading: threading, bufferSize: 64 << 10, ringDepth: 3) { free in
      call += 1
      let want = call % 5 == 0 ? 1000 : free.count  // some short reads
      let n = min(want, Self.bytes.count - offset)
      Self.bytes[offset..<(offset + n)].withUnsafeBytes { free.copyMemory(from: $0) }
      offset += n
      return n
    }
    #expect(digests == Self.whole)
  }

  @Test("an error from fill is rethrown after queued buffers are hashed", arguments: [Threading.inline, .pipelined])
  func fillError(threading: Threading) {
    var calls = 0
    #expect(throws: Stop.self) {
      try Digester.digest(Self.all, threading: threading, bufferSize: 64 << 10, ringDepth: 2) { free in
        calls += 1
        if calls == 4 { throw Stop() }
        free.initializeMemory(as: UInt8.self, repeating: 7)
        return free.count
      }
    }
    #expect(calls == 4)
  }

  @Test("many streams in parallel give each its own digest")
  func concurrent() {
    let inputs = (0..<9).map { pseudoRandomBytes(count: 100_000 * $0 + 1, seed: UInt64($0)) }
    let results = Digester.digestConcurrently(count: inputs.count, maxConcurrency: 3) { index in
      try Digester.digest(Self.all, threading: .inline) { digester in
        inputs[index].withUnsafeBytes { digester.consume($0) }
      }
    }
    #expect(results.count == inputs.count)
    for (index, result) in results.enumerated() {
      #expect((try? result.get()) == Digester.digest(Self.all, of: inputs[index]))
    }
  }
}
