extension BankChoice {
  /// The bank ESXi mounts as /altbootbank: what a failed boot falls back to, bootable or not,
  /// so a missing way back shows. With no bank to boot there is no /bootbank, so none either.
  public var altbootbank: BankVerdict? { banks.first { $0.role == .altbootbank } }
}

extension BankChoice {
  /// The `updated` the bank that boots shares with another bootable bank, when it does: the
  /// loader's rule (the first scanned, the lower partition, wins) decided, not the numbers.
  public var tiedUpdated: UInt32? {
    guard let next, let updated = next.updated else { return nil }
    let tied = countedBanks.contains { $0.partition != next.partition && $0.bootable && $0.updated == updated }
    return tied ? updated : nil
  }
}
