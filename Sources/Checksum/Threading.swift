#if canImport(Glibc)
  import Glibc
#endif

/// Where the SHA work of one stream runs.
public enum Threading: Sendable, Hashable {
  /// Pipelined when the machine has two or more online processors; inline otherwise.
  case automatic
  /// Everything on the calling thread (the right choice when many streams run in parallel).
  case inline
  /// Each algorithm on a worker queue; reading on the calling thread.
  case pipelined

  /// Number of online processors (at least 1).
  public static var processorCount: Int {
    max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
  }

  func resolved(for algorithms: Set<Algorithm>) -> Bool {
    switch self {
    case .inline: false
    case .pipelined: true
    case .automatic: Threading.processorCount >= 2 && !algorithms.isEmpty
    }
  }
}
