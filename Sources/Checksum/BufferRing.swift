import Dispatch

/// A fixed ring of page-aligned buffers, handed out in order and given back in the same order.
///
/// `acquire()` blocks until the oldest buffer has been released. Releases must come in the
/// order the buffers were acquired, which `PipelinedDigester` guarantees for owned windows.
/// Every acquired buffer must be released or given back before the ring is dropped
/// (libdispatch traps on a semaphore deallocated below its initial value).
final class BufferRing: @unchecked Sendable {
  let bufferSize: Int
  private let buffers: [UnsafeMutableRawBufferPointer]
  private let free: DispatchSemaphore
  // Only the acquiring thread touches `next`.
  private var next = 0

  init(bufferSize: Int, depth: Int) {
    let page = 4096
    let size = max(page, (min(bufferSize, 256 << 20) + page - 1) / page * page)
    let count = max(2, min(depth, 64))
    self.bufferSize = size
    buffers = (0..<count).map { _ in
      UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: page)
    }
    free = DispatchSemaphore(value: count)
  }

  func acquire() -> UnsafeMutableRawBufferPointer {
    free.wait()
    let buffer = buffers[next]
    next = (next + 1) % buffers.count
    return buffer
  }

  /// Returns the buffer acquired last without using it.
  func giveBack() {
    next = (next + buffers.count - 1) % buffers.count
    free.signal()
  }

  var releaser: @Sendable () -> Void {
    { [free] in free.signal() }
  }

  /// Frees the memory; call only when no buffer is in use.
  func deallocate() {
    for buffer in buffers { buffer.deallocate() }
  }
}
