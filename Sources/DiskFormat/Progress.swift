/// Where long work stands: bytes done of a total, the rate and the time left, in one value a
/// front end renders (a terminal line, a JSON line) without computing anything itself.
public struct ProgressSnapshot: Hashable, Sendable, Codable {
  /// What is being done ("verify image", "write", "read back", "image").
  public var phase: String
  public var done: Int64
  public var total: Int64
  public var elapsedSeconds: Double
  /// Bytes a second over the phase so far (nil before a second has passed).
  @Nullable public var bytesPerSecond: Double?
  /// Seconds left at that rate (nil without a rate).
  @Nullable public var etaSeconds: Double?
  /// True for the last snapshot of the phase.
  public var finished: Bool

  public init(
    phase: String, done: Int64, total: Int64, elapsedSeconds: Double, bytesPerSecond: Double?, etaSeconds: Double?,
    finished: Bool
  ) {
    self.phase = phase
    self.done = done
    self.total = total
    self.elapsedSeconds = elapsedSeconds
    self.bytesPerSecond = bytesPerSecond
    self.etaSeconds = etaSeconds
    self.finished = finished
  }

  /// Done as a fraction of the total (1 for an empty total).
  public var fraction: Double { total <= 0 ? 1 : min(1, Double(done) / Double(total)) }
}

/// Turns a stream of "this many bytes done" into snapshots, at most `interval` apart (a few a
/// second), plus one when the phase finishes.
public final class ProgressTracker: @unchecked Sendable {
  public let phase: String
  public let total: Int64
  public let interval: Double
  let report: (ProgressSnapshot) -> Void
  let now: () -> Double
  let start: Double
  var last: Double
  public private(set) var done: Int64 = 0
  var ended = false

  /// - Parameters:
  ///   - now: Seconds on a monotonic clock (by default `ContinuousClock`'s).
  ///   - report: Called with each snapshot, on the thread that advanced.
  public init(
    phase: String, total: Int64, interval: Double = 0.25, now: @escaping () -> Double = ProgressTracker.monotonic,
    report: @escaping (ProgressSnapshot) -> Void
  ) {
    self.phase = phase
    self.total = total
    self.interval = interval
    self.report = report
    self.now = now
    start = now()
    last = start
  }

  static let epoch = ContinuousClock.now

  /// Seconds since the first call, on the continuous clock.
  public static func monotonic() -> Double {
    let duration = ContinuousClock.now - epoch
    return Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
  }

  /// Adds `bytes` to what is done; reports when `interval` has passed since the last report.
  public func advance(_ bytes: Int64) {
    done += bytes
    let t = now()
    guard t - last >= interval else { return }
    last = t
    report(snapshot(at: t, finished: false))
  }

  /// Reports the last snapshot (once).
  public func finish() {
    guard !ended else { return }
    ended = true
    report(snapshot(at: now(), finished: true))
  }

  func snapshot(at t: Double, finished: Bool) -> ProgressSnapshot {
    Self.snapshot(phase: phase, done: done, total: total, elapsed: max(0, t - start), finished: finished)
  }

  /// The snapshot of `done` of `total` after `elapsed` seconds: a rate and an ETA once a
  /// second of work gives a rate to go by (the first tick's rate is noise).
  public static func snapshot(phase: String, done: Int64, total: Int64, elapsed: Double, finished: Bool)
    -> ProgressSnapshot
  {
    let rate = elapsed >= 1 && done > 0 ? Double(done) / elapsed : nil
    let eta = rate.map { max(0, Double(total - done)) / $0 }
    return ProgressSnapshot(
      phase: phase, done: done, total: total, elapsedSeconds: elapsed, bytesPerSecond: rate, etaSeconds: eta,
      finished: finished)
  }
}
