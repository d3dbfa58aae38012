/// The loader's decision for one boot: every candidate's verdict, the bank it boots,
/// the rollback flag and the fallback.
public struct BankChoice: Hashable, Sendable {
  /// Every candidate, in scan order.
  public var banks: [BankVerdict]
  /// The partition the loader boots, or `nil` ("No hypervisor found.").
  public var nextPartition: Int?
  /// The loader's `rollback` flag: an upgraded bank turned out invalid.
  public var rollback: Bool
  /// The best other bootable bank: what boots when the chosen one is invalidated.
  public var fallbackPartition: Int?
  /// The loader's message when it cannot boot, or a Shift+R message.
  public var messages: [String]
  /// Each partition's boot.cfg after the loader's writes, where a write reached the medium.
  public var writtenBootConfigs: [Int: [UInt8]]

  /// The loader's message when no bank is bootable.
  public static let noHypervisor = "No hypervisor found."
  /// The loader's message for Shift+R with fewer than two valid banks.
  public static let noAlternate = "No alternate hypervisor to roll back to."
  /// The loader's message when Shift+R cannot write the default bank's new state.
  public static let rollbackFailed = "System has failed to roll back."

  /// The verdict of the bank that boots.
  public var next: BankVerdict? { nextPartition.flatMap(verdict(for:)) }
  /// The verdict of the fallback bank.
  public var fallback: BankVerdict? { fallbackPartition.flatMap(verdict(for:)) }
  /// The counted banks (at most three).
  public var countedBanks: [BankVerdict] { banks.filter(\.isCounted) }

  public func verdict(for partition: Int) -> BankVerdict? { banks.first { $0.partition == partition } }
}
