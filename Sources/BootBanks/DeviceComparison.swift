import DiskFormat
import PartitionTable

extension BankStatus {
  /// The banks `diff` compares, in the order it pairs them: /bootbank, then /altbootbank, then
  /// any other counted bank with a boot.cfg the loader accepts.
  public var comparableBanks: [BankVerdict] {
    let order: (BankVerdict) -> Int = { $0.role == .bootbank ? 0 : $0.role == .altbootbank ? 1 : 2 }
    return choice.banks.filter { $0.isCounted && $0.config != nil }.enumerated()
      .sorted { (order($0.element), $0.offset) < (order($1.element), $1.offset) }.map(\.element)
  }
}

/// Two devices compared bank by bank (/bootbank with /bootbank, /altbootbank with
/// /altbootbank), or the two banks of one device.
public struct DeviceComparison: Sendable, Encodable {
  /// True when every bank has a counterpart and the only differences are expected ones.
  public var equal: Bool
  /// Every difference of every comparison, plus one per bank that has no counterpart.
  public var differences: [BankComparison.Difference]
  public var comparisons: [BankComparison]

  /// Pairs the banks of two devices in order; a bank with no counterpart on the other device
  /// is a difference of its own (`removed` when only the left device has it, `added` when only
  /// the right one does).
  public static func compare(
    _ left: [BankContent], of leftDevice: String, with right: [BankContent], of rightDevice: String, raw: Bool
  ) -> DeviceComparison {
    let comparisons = zip(left, right).map { BankComparer.compare($0, $1, raw: raw) }
    var unmatched: [BankComparison.Difference] = []
    func describe(_ bank: BankContent) -> String {
      "partition \(bank.side.partition) (build \(bank.side.build ?? "?"))"
    }
    for bank in left.dropFirst(right.count) {
      unmatched.append(
        BankComparison.Difference(
          path: nil, payload: nil, kind: .removed,
          detail:
            "bank \(describe(bank)) of \(leftDevice) has no counterpart: \(leftDevice) has \(left.count) bank(s), \(rightDevice) \(right.count)"
        ))
    }
    for bank in right.dropFirst(left.count) {
      unmatched.append(
        BankComparison.Difference(
          path: nil, payload: nil, kind: .added,
          detail:
            "bank \(describe(bank)) of \(rightDevice) has no counterpart: \(leftDevice) has \(left.count) bank(s), \(rightDevice) \(right.count)"
        ))
    }
    return DeviceComparison(
      equal: unmatched.isEmpty && comparisons.allSatisfy(\.equal),
      differences: unmatched + comparisons.flatMap(\.differences), comparisons: comparisons)
  }

  /// The two banks of one device.
  public static func compare(_ a: BankContent, _ b: BankContent, raw: Bool) -> DeviceComparison {
    let comparison = BankComparer.compare(a, b, raw: raw)
    return DeviceComparison(equal: comparison.equal, differences: comparison.differences, comparisons: [comparison])
  }
}
