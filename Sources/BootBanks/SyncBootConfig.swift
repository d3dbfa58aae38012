import BootConfig

/// The boot.cfg a forced sync writes last on its target bank (ESXI.md §6): the source's
/// lines byte for byte, in ESXi's order, `bootstate=0` first, and `updated` chosen so
/// that the loader's choice afterwards is the one asked for. The plan is checked by
/// replaying the loader on the device as it will be.
public enum SyncBootConfig {
  /// Why no `updated` value gives the asked-for choice.
  public enum PlanError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The source or target is not among the candidates, or the source is no bank.
    case missingBank(partition: Int)
    /// No value of the target's `updated` gets the wanted result without changing the
    /// source too (for example source `updated=1` on the higher partition number).
    case noCounterValue(reason: String)
    /// The replay of the planned device does not boot what was asked.
    case replayDisagrees(expectedNext: Int, next: Int?, fallback: Int?)

    public var description: String {
      switch self {
      case .missingBank(let p): "partition \(p) is not a bank the loader reads"
      case .noCounterValue(let reason): reason
      case .replayDisagrees(let expected, let next, let fallback):
        "the loader would boot \(next.map(String.init) ?? "nothing") (fallback \(fallback.map(String.init) ?? "none")), not \(expected)"
      }
    }
  }

  /// Plans the target's boot.cfg.
  ///
  /// - Parameters:
  ///   - candidates: The device's candidates as they are now (the target's own boot.cfg
  ///     is replaced by the plan).
  ///   - source: The partition copied from.
  ///   - target: The partition copied to.
  ///   - targetBecomesDefault: `false` (the default): the source keeps booting and the
  ///     target becomes its valid fallback; `true`: the target boots next.
  /// - Returns: The bytes to write as the target's `/boot.cfg`.
  public static func plan(
    _ candidates: [BankCandidate], source: Int, target: Int, targetBecomesDefault: Bool = false
  ) throws(PlanError) -> [UInt8] {
    guard let sourceBytes = candidates.first(where: { $0.partition == source })?.bootConfig,
      let sourceOptions = BootConfig(bytes: sourceBytes).bankOptions
    else { throw .missingBank(partition: source) }
    guard let targetIndex = candidates.firstIndex(where: { $0.partition == target }) else {
      throw .missingBank(partition: target)
    }
    let current = sourceOptions.updated
    let updated: UInt32
    if targetBecomesDefault {
      guard current < UInt32.max else { throw .noCounterValue(reason: "source updated=\(current) cannot be exceeded") }
      updated = current + 1
    } else if current > 1 {
      updated = current - 1
    } else if target > source {
      updated = current  // a tie keeps the first scanned: the source
    } else {
      throw .noCounterValue(
        reason:
          "source updated=\(current) on partition \(source): the target (partition \(target), scanned first) would win any tie; raise the source's counter first"
      )
    }
    let bytes = BootConfig(bytes: sourceBytes).serialized(bootstate: Int(BankState.valid), updated: updated)

    var planned = candidates
    planned[targetIndex].bootConfig = bytes
    let choice = LoaderReplay.run(planned)
    let (next, fallback) = targetBecomesDefault ? (target, source) : (source, target)
    guard choice.nextPartition == next, choice.fallbackPartition == fallback else {
      throw .replayDisagrees(expectedNext: next, next: choice.nextPartition, fallback: choice.fallbackPartition)
    }
    return bytes
  }
}
