import BootConfig

/// What the loader makes of one candidate partition.
public struct BankVerdict: Hashable, Sendable {
  /// Where the candidate stands after the scan.
  public enum Status: Hashable, Sendable {
    /// Skipped before it counted as a bank.
    case notABank(NotABank)
    /// Counted as a bank: bootable or not (see `bootable`).
    case bank
    /// Dropped from the scan: it needed a new state and the loader's writer could not
    /// find `bootstate=` and a digit 0–3 in the first 512 bytes.
    case dropped(BootstateWriterView.Outcome)
    /// Never looked at: the loader had already found three banks.
    case notScanned
  }

  /// Why a partition is not a bank.
  public enum NotABank: Hashable, Sendable {
    /// No `VMWARE FAT16    ` magic in the second sector.
    case noMagic
    /// No `/boot.cfg` (the ESP carries the magic but no boot.cfg).
    case noBootConfig
    /// The loader's FAT library cannot open the volume or read its `BOOT.CFG`: the reason.
    case volumeUnreadable(String)
    /// The loader's reader rejects boot.cfg (a non-numeric integer value).
    case bootConfigRejected(LoaderParse.Failure)
  }

  public var partition: Int
  public var uuid: BankUUID?
  public var status: Status
  /// The parsed boot.cfg as the loader read it this boot (`nil` without one).
  public var config: BootConfig?
  /// `build=` (`nil` when missing or empty).
  public var build: String?
  /// `updated=` (`nil` when the partition is not a bank).
  public var updated: UInt32?
  /// `bootstate=` as on disk before this boot; `nil` when no line sets it (the loader
  /// then reads 0) or when the partition is not a bank.
  public var bootstateBefore: Int32?
  /// The state the loader holds after its scan (and writes, when it differs); `nil` when
  /// the partition is not counted as a bank.
  public var bootstateAfter: Int32?
  /// The state the loader tried to write, when it changes the state (also for a dropped bank).
  public var bootstateWritten: Int32?
  /// Whether the written state reached the medium (false when `writesFail`).
  public var writePersisted: Bool
  /// The loader's `upgrading` flag (state was 1 or 2).
  public var upgrading: Bool
  /// Whether this bank set the loader's `rollback` flag (an upgrade that left it invalid).
  public var setsRollback: Bool
  /// Whether the loader may boot it (new state 0 or 2, updated ≠ 0, build set, no quickboot).
  public var bootable: Bool
  /// Why the kernel loader (mboot) would fail on this bank's boot.cfg although the bank
  /// choice accepts it: a non-numeric integer option, no `kernel=`, or `skip=1`.
  /// The bank choice does not look at these, so the loader may pick the bank and then stop.
  public var loadProblem: String?
  /// The role the bank gets once ESXi runs, when it has one.
  public var role: BankRole?
  /// One sentence: why it is (not) bootable.
  public var reason: String

  /// Whether the loader counted it as one of its (up to three) banks.
  public var isCounted: Bool { status == .bank }
}

/// The mount point a bank gets once ESXi runs.
public enum BankRole: String, Hashable, Sendable, Codable {
  /// The bank the loader booted (its UUID is the kernel's `bootUUID`).
  case bootbank = "/bootbank"
  /// The other bank (where an upgrade writes, and the rollback target).
  case altbootbank = "/altbootbank"
}
