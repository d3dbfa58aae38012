extension BankChoice {
  /// The bank ESXi mounts as /altbootbank: what a failed boot falls back to, bootable or not,
  /// so a missing way back shows. With no bank to boot there is no /bootbank, so none either.
  public var altbootbank: BankVerdict? { banks.first { $0.role == .altbootbank } }
}
