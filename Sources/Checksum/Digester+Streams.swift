extension Digester {
  /// Digests a stream that `produce` hands over as windows, in order.
  ///
  /// `produce` calls `consume(_:)` (scoped windows, e.g. from `ByteSource.withBytes(in:)`) or
  /// `consume(_:release:)` (owned windows: mapped regions, ring buffers) on the digester it is
  /// given. If `produce` throws, queued work is drained (every `release` called) before the
  /// error is rethrown.
  public static func digest(
    _ algorithms: Set<Algorithm>,
    threading: Threading = .automatic,
    crcBackend: CRC32.Backend = CRC32.defaultBackend,
    reading produce: (PipelinedDigester) throws -> Void
  ) throws -> Digests {
    let digester = PipelinedDigester(
      algorithms, threading: threading, crcBackend: crcBackend)
    do {
      try produce(digester)
    } catch {
      digester.drain()
      throw error
    }
    return digester.finalize()
  }

  /// Digests a stream read into a small ring of reused, page-aligned buffers.
  ///
  /// `fill` is called with a free buffer and returns how many bytes it placed at its start
  /// (`pread` into it); 0 ends the stream. A short, non-zero count is fine (the next call
  /// continues the stream). While `fill` reads the next buffer, the workers hash the
  /// previous ones. Memory use is `bufferSize × ringDepth`, whatever the stream's length.
  ///
  /// - Throws: whatever `fill` throws, after every queued buffer has been hashed.
  public static func digest(
    _ algorithms: Set<Algorithm>,
    threading: Threading = .automatic,
    crcBackend: CRC32.Backend = CRC32.defaultBackend,
    bufferSize: Int = 4 << 20,
    ringDepth: Int = 4,
    fill: (UnsafeMutableRawBufferPointer) throws -> Int
  ) throws -> Digests {
    let ring = BufferRing(bufferSize: bufferSize, depth: ringDepth)
    defer { ring.deallocate() }
    let digester = PipelinedDigester(
      algorithms, threading: threading, crcBackend: crcBackend,
      chunkSize: min(ring.bufferSize, 1 << 20))
    do {
      while true {
        let buffer = ring.acquire()
        let n: Int
        do {
          n = try fill(buffer)
        } catch {
          ring.giveBack()
          throw error
        }
        guard n > 0 else {
          ring.giveBack()
          break
        }
        let filled = UnsafeRawBufferPointer(rebasing: buffer[0..<min(n, buffer.count)])
        digester.consume(filled, release: ring.releaser)
      }
    } catch {
      digester.drain()
      throw error
    }
    return digester.finalize()
  }

  /// Digests many files or partitions in parallel: `body` for indices `0..<count` on up to
  /// `maxConcurrency` threads, the results in index order (`Threading.map`).
  ///
  /// Each `body` should digest with `threading: .inline` when `count` reaches the core count
  /// (the parallelism is then across streams). Blocks the calling thread until all are done.
  public static func digestConcurrently(
    count: Int,
    maxConcurrency: Int = Threading.processorCount,
    _ body: @Sendable (Int) throws -> Digests
  ) -> [Result<Digests, any Error>] {
    Threading.map(count: count, maxConcurrency: maxConcurrency) { index in Result { try body(index) } }
  }
}
