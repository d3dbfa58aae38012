/// What the bank choice reads from boot.cfg (`bank_get_config()` in `safeboot/config.c`).
public struct BankOptions: Hashable, Sendable {
  /// `build=`: `nil` when missing or empty (both make the bank invalid).
  public var build: String?
  /// `updated=`: the loader keeps it as `uint32_t` (`atoi()` result reinterpreted, so
  /// `-1` reads as 4294967295).
  public var updated: UInt32
  /// `bootstate=` as the reader got it (a C `int`; 0 when missing).
  public var bootstate: Int32
  /// Whether any line set `bootstate` (the reader treats a missing one as 0, VALID).
  public var bootstatePresent: Bool
  /// `quickboot=`, non-zero: a one-shot bank.
  public var quickboot: Bool

  public init(build: String?, updated: UInt32, bootstate: Int32, bootstatePresent: Bool, quickboot: Bool) {
    self.build = build
    self.updated = updated
    self.bootstate = bootstate
    self.bootstatePresent = bootstatePresent
    self.quickboot = quickboot
  }

  init(_ parse: LoaderParse) {
    build = parse["build"]?.text
    updated = UInt32(bitPattern: parse["updated"]?.integer ?? 0)
    bootstate = parse["bootstate"]?.integer ?? 0
    bootstatePresent = parse.line(setting: "bootstate") != nil
    quickboot = (parse["quickboot"]?.integer ?? 0) != 0
  }
}
