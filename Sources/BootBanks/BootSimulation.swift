import BootConfig

/// The next boots of a device, replayed one after another: what the loader chooses each
/// time, given whether trial boots succeed.
///
/// After each boot, the loader's writes are applied to the candidates' boot.cfg (where
/// the medium takes them). When the booted bank was on its trial (DIRTY) and the trial
/// succeeds, ESXi's `tag-boot-bank` writes 0 through the loader's own writer (in place;
/// otherwise by rewriting boot.cfg in ESXi's order). The state the next boot sees is what the
/// reader then reads, which is not VALID where writer and reader disagree (`bootstate=01`
/// reads 1 again; a `bootstate =` line before the one the reader takes gets the digit). When the trial
/// fails, nothing is written, so the next boot finds the bank DIRTY and invalidates it.
/// A bank that boots VALID boots normally in both outcomes.
public enum BootSimulation {
  /// What happens to a trial boot (a bank the loader boots as DIRTY).
  public enum TrialOutcome: String, Hashable, Sendable, CaseIterable, Codable {
    case succeeds, fails
  }

  /// One boot.
  public struct Step: Hashable, Sendable {
    /// 1 for the next boot.
    public var number: Int
    /// The loader's choice at this boot.
    public var choice: BankChoice
    /// Whether the booted bank was on its trial boot.
    public var trial: Bool
    /// What happened once the kernel ran: "trial succeeded: tag-boot-bank sets bank 5 to
    /// VALID", "trial failed", "boots normally", or "No hypervisor found.".
    public var outcome: String
    /// Each candidate's bootstate on disk after this boot (`nil`: no bootstate or not a bank).
    public var bootstatesAfter: [Int: Int32?]
  }

  /// Replays `boots` boots (at most 64) from `candidates` under `outcome`.
  public static func run(_ candidates: [BankCandidate], boots: Int, outcome: TrialOutcome) -> [Step] {
    guard boots > 0 else { return [] }
    var current = candidates
    var steps: [Step] = []
    for number in 1...min(boots, 64) {
      let choice = LoaderReplay.run(current)
      for i in current.indices {
        if let bytes = choice.writtenBootConfigs[current[i].partition] { current[i].bootConfig = bytes }
      }
      var text: String
      var trial = false
      if let next = choice.next {
        trial = next.bootstateAfter == BankState.dirty
        if trial && outcome == .succeeds {
          text = "trial boot of partition \(next.partition) succeeded: tag-boot-bank sets it to VALID"
          if let i = current.firstIndex(where: { $0.partition == next.partition }), !current[i].writesFail,
            let bytes = current[i].bootConfig
          {
            let config = BootConfig(bytes: bytes)
            let written = (try? config.settingBootstateInPlace(0))?.bytes ?? config.serialized(bootstate: 0)
            current[i].bootConfig = written
            // tag-boot-bank writes through the loader's writer; the next boot reads through the
            // reader. Where the two disagree, what the reader sees is what counts.
            let seen = BootConfig(bytes: written).bankOptions
            if let seen, seen.bootstate != BankState.valid {
              let at = config.writerView.valueOffset.map { " at byte \($0)" } ?? ""
              text =
                "trial boot of partition \(next.partition) succeeded: tag-boot-bank writes 0\(at), but the loader's reader then reads bootstate=\(seen.bootstate) (\(BankState.name(seen.bootstate))), not VALID"
            } else if seen == nil {
              text =
                "trial boot of partition \(next.partition) succeeded: tag-boot-bank writes 0, but the loader's reader then rejects boot.cfg"
            }
          } else {
            text += " (the write fails on the medium)"
          }
        } else if trial {
          text = "trial boot of partition \(next.partition) failed: nothing is written"
        } else {
          text = "partition \(next.partition) boots normally"
        }
      } else {
        text = BankChoice.noHypervisor
      }
      var states: [Int: Int32?] = [:]
      for candidate in current {
        let options = candidate.bootConfig.flatMap { BootConfig(bytes: $0).bankOptions }
        states[candidate.partition] = options.flatMap { $0.bootstatePresent ? $0.bootstate : nil }
      }
      steps.append(Step(number: number, choice: choice, trial: trial, outcome: text, bootstatesAfter: states))
    }
    return steps
  }
}
