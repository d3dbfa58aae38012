import Dispatch
import Synchronization

/// One pass over a stream of windows, with each algorithm on its own worker queue while the
/// caller reads.
///
/// The caller hands over windows in stream order. Each window is cut into chunks, and each
/// chunk is queued to one serial worker per algorithm (CRC-32, SHA-256, SHA-1). At most `depth`
/// chunks are queued at once, so a slow SHA throttles the reader instead of growing memory.
/// The caller's thread only reads (`pread`'s copy, or `mmap` with `MAP_POPULATE`'s page-table
/// work), so on two cores reading overlaps hashing: CRC-32 + SHA-256 costs about what SHA-256
/// alone costs, and CRC-32 alone about what reading alone costs.
///
/// Windows come in two kinds:
/// - *scoped* (`consume(_:)`): valid only during the call, as `ByteSource.withBytes(in:)`
///   gives them; the call returns once every algorithm has finished with the window.
/// - *owned* (`consume(_:release:)`): valid until `release` is called, which happens exactly
///   once, on some thread, when no algorithm reads the window any more. This keeps the worker
///   busy across window boundaries (unmap a mapped window, or return a buffer to a ring, in
///   `release`).
///
/// Use from one thread. `finalize()` (or `drain()`) waits for queued work.
public final class PipelinedDigester {
  public let algorithms: Set<Algorithm>
  /// Whether the algorithms run on worker queues (one each) rather than on the caller's thread.
  public let isPipelined: Bool
  /// Bytes per chunk handed to the workers.
  public let chunkSize: Int

  private var inline: Digester
  private let lanes: [Lane]
  private let slots: DispatchSemaphore
  private let group = DispatchGroup()
  private var count: Int64 = 0

  /// - Parameters:
  ///   - algorithms: what to compute.
  ///   - threading: `.automatic` pipelines on two or more cores.
  ///   - chunkSize: bytes per unit of work queued to a worker (clamped to 64 KiB...64 MiB).
  ///   - depth: how many chunks may be queued at once (at least 2).
  public init(
    _ algorithms: Set<Algorithm>,
    threading: Threading = .automatic,
    crcBackend: CRC32.Backend = CRC32.defaultBackend,
    chunkSize: Int = 1 << 20,
    depth: Int = 8
  ) {
    self.algorithms = algorithms
    self.chunkSize = min(max(chunkSize, 64 << 10), 64 << 20)
    isPipelined = threading.resolved(for: algorithms)
    inline = Digester(isPipelined ? [] : algorithms, crcBackend: crcBackend)
    var lanes: [Lane] = []
    if isPipelined {
      for algorithm in algorithms.sorted() { lanes.append(Lane(algorithm, crcBackend: crcBackend)) }
    }
    self.lanes = lanes
    slots = DispatchSemaphore(value: max(depth, 2))
  }

  deinit {
    // A digester dropped without finalize() still lets no worker outlive it.
    group.wait()
  }

  /// Digests a scoped window: `window` is read only during this call.
  public func consume(_ window: UnsafeRawBufferPointer) {
    guard isPipelined else {
      inline.update(window)
      return
    }
    submit(window, release: nil)
    group.wait()
  }

  /// Digests a scoped window: `window` is read only during this call.
  public func consume(_ window: Span<UInt8>) {
    window.withUnsafeBufferPointer { consume(UnsafeRawBufferPointer($0)) }
  }

  /// Digests an owned window: `window` must stay valid and unchanged until `release` is called.
  ///
  /// `release` is called exactly once, possibly on another thread, possibly before this call
  /// returns. Releases happen in the order the windows were given.
  public func consume(_ window: UnsafeRawBufferPointer, release: @escaping @Sendable () -> Void) {
    guard isPipelined else {
      inline.update(window)
      release()
      return
    }
    submit(window, release: release)
  }

  /// Waits until no worker reads any window (every `release` has been called).
  public func drain() {
    group.wait()
  }

  /// Waits for queued work, then returns the digests of every window given so far.
  public func finalize() -> Digests {
    guard isPipelined else { return inline.finalize() }
    group.wait()
    var digests = Digests(byteCount: count)
    for lane in lanes {
      switch lane.algorithm {
      case .crc32: digests.crc32 = lane.crc?.finalize()
      case .sha256: digests.sha256 = lane.sha256?.finalize()
      case .sha1: digests.sha1 = lane.sha1?.finalize()
      }
    }
    return digests
  }

  private func submit(_ window: UnsafeRawBufferPointer, release: (@Sendable () -> Void)?) {
    count += Int64(window.count)
    if window.isEmpty {
      release?()
      return
    }
    var start = 0
    while start < window.count {
      let end = start + min(chunkSize, window.count - start)
      let chunk = Chunk(bytes: UnsafeRawBufferPointer(rebasing: window[start..<end]))
      slots.wait()
      let ticket = Ticket(workers: lanes.count, release: end == window.count ? release : nil, slots: slots)
      if lanes.isEmpty { ticket.finished() }
      for lane in lanes {
        group.enter()
        lane.queue.async { [group] in
          lane.update(chunk.bytes)
          ticket.finished()
          group.leave()
        }
      }
      start = end
    }
  }
}

/// A range of memory handed to a worker; the submitter keeps it valid until its ticket finishes.
private struct Chunk: @unchecked Sendable {
  let bytes: UnsafeRawBufferPointer
}

/// One algorithm on its own serial queue. Its state is touched only on `queue`, and read by
/// `finalize()` after the dispatch group has been waited on.
private final class Lane: @unchecked Sendable {
  let algorithm: Algorithm
  let queue: DispatchQueue
  var crc: CRC32?
  var sha256: SHA256Hasher?
  var sha1: SHA1Hasher?

  init(_ algorithm: Algorithm, crcBackend: CRC32.Backend) {
    self.algorithm = algorithm
    queue = DispatchQueue(label: "bootbank.checksum.\(algorithm.rawValue)")
    switch algorithm {
    case .sha256: sha256 = SHA256Hasher()
    case .sha1: sha1 = SHA1Hasher()
    case .crc32: crc = CRC32(backend: crcBackend)
    }
  }

  func update(_ bytes: UnsafeRawBufferPointer) {
    crc?.update(bytes)
    sha256?.update(bytes)
    sha1?.update(bytes)
  }
}

/// Counts the workers still reading one chunk; the last one frees its slot and, for the last
/// chunk of an owned window, releases the window.
private final class Ticket: Sendable {
  private let remaining: Atomic<Int>
  private let release: (@Sendable () -> Void)?
  private let slots: DispatchSemaphore

  init(workers: Int, release: (@Sendable () -> Void)?, slots: DispatchSemaphore) {
    remaining = Atomic(max(workers, 1))
    self.release = release
    self.slots = slots
  }

  func finished() {
    if remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
      release?()
      slots.signal()
    }
  }
}
