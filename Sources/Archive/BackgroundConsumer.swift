import Foundation

/// Runs a consumer (typically SHA-256 and SHA-1 hashers) on a second thread over copies of
/// the chunks given to `send`, so hashing overlaps inflating on two cores.
///
/// At most `depth` chunks of `bufferSize` bytes are in flight; `send` waits when all are
/// taken, so memory stays bounded whatever the speeds of the two sides. `finish()` waits for
/// the consumer to drain and returns its state.
///
/// ```swift
/// let hashing = BackgroundConsumer(state: SHA256Hasher()) { hasher, bytes in hasher.update(bytes) }
/// try decoder.feed(cluster) { hashing.send($0) }
/// let digest = hashing.finish().finalize()
/// ```
public final class BackgroundConsumer<State: Sendable>: @unchecked Sendable {
  // Everything below is guarded by `condition`, except `state`, which only the consumer
  // thread touches until it has set `drained` (read under the lock afterwards).
  private let condition = NSCondition()
  private let buffers: [UnsafeMutableRawBufferPointer]
  private let bufferSize: Int
  private var free: [Int]
  private var filled: [(index: Int, count: Int)] = []
  private var filledHead = 0
  private var closed = false
  private var drained = false
  private var state: State
  private let consume: @Sendable (inout State, UnsafeRawBufferPointer) -> Void

  /// - Parameters:
  ///   - state: The consumer's initial state.
  ///   - depth: Chunks in flight (at least 2).
  ///   - bufferSize: Bytes per chunk; larger sends are split.
  ///   - consume: Called on the consumer thread with each chunk, in order.
  public init(
    state: State, depth: Int = 4, bufferSize: Int = 256 * 1024,
    consume: @escaping @Sendable (inout State, UnsafeRawBufferPointer) -> Void
  ) {
    let depth = max(2, depth)
    self.bufferSize = max(1, bufferSize)
    self.buffers = (0..<depth).map { _ in
      UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, bufferSize), alignment: 64)
    }
    self.free = Array(0..<depth)
    self.state = state
    self.consume = consume
    let thread = Thread { [self] in self.run() }
    thread.name = "bootbank-hash"
    thread.start()
  }

  deinit {
    for buffer in buffers { buffer.deallocate() }
  }

  /// Copies `bytes` for the consumer; waits while every buffer is in flight.
  public func send(_ bytes: UnsafeRawBufferPointer) {
    var offset = 0
    while offset < bytes.count {
      condition.lock()
      while free.isEmpty { condition.wait() }
      let index = free.removeLast()
      condition.unlock()
      let n = min(bufferSize, bytes.count - offset)
      buffers[index].copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + n)]))
      condition.lock()
      filled.append((index, n))
      condition.broadcast()
      condition.unlock()
      offset += n
    }
  }

  /// Copies `bytes` for the consumer; waits while every buffer is in flight.
  public func send(_ bytes: Span<UInt8>) {
    bytes.withUnsafeBufferPointer { send(UnsafeRawBufferPointer($0)) }
  }

  /// Waits for the consumer to process everything sent and returns its state.
  /// Call it exactly once, after the last `send`.
  public func finish() -> State {
    condition.lock()
    closed = true
    condition.broadcast()
    while !drained { condition.wait() }
    let result = state
    condition.unlock()
    return result
  }

  private func run() {
    while true {
      condition.lock()
      while filledHead == filled.count && !closed { condition.wait() }
      if filledHead == filled.count {
        drained = true
        condition.broadcast()
        condition.unlock()
        return
      }
      let (index, count) = filled[filledHead]
      filledHead += 1
      if filledHead == filled.count {
        filled.removeAll(keepingCapacity: true)
        filledHead = 0
      }
      condition.unlock()
      consume(&state, UnsafeRawBufferPointer(rebasing: buffers[index][0..<count]))
      condition.lock()
      free.append(index)
      condition.broadcast()
      condition.unlock()
    }
  }
}
