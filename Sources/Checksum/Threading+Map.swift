import Dispatch
import Synchronization

extension Threading {
  /// Runs `body` for indices `0..<count` on up to `maxConcurrency` threads and returns the
  /// results in index order: the one way this package works on many streams, files or banks
  /// in parallel.
  ///
  /// Blocks the calling thread until every index has run. A body that can fail returns a
  /// `Result` (as `Digester.digestConcurrently` does).
  public static func map<Value: Sendable>(
    count: Int, maxConcurrency: Int = Threading.processorCount, _ body: @Sendable (Int) -> Value
  ) -> [Value] {
    guard count > 0 else { return [] }
    let next = Atomic<Int>(0)
    let results = Mutex<[Value?]>(Array(repeating: nil, count: count))
    DispatchQueue.concurrentPerform(iterations: min(max(maxConcurrency, 1), count)) { _ in
      while true {
        let index = next.add(1, ordering: .relaxed).oldValue
        guard index < count else { return }
        let value = body(index)
        results.withLock { $0[index] = value }
      }
    }
    // Every index ran above: no slot is nil.
    return results.withLock { $0.compactMap { $0 } }
  }
}
