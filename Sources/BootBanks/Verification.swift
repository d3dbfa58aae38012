import DiskFormat

/// What `bootbank verify` found: one verdict for the device, one per bank, and what the next
/// boot and a failed boot do, as values (the CLI words them).
public struct Verification: Hashable, Sendable {
  public enum Verdict: String, Hashable, Sendable, Codable, Comparable {
    case ok, degraded, broken
    public static func < (a: Verdict, b: Verdict) -> Bool {
      let order: [Verdict] = [.ok, .degraded, .broken]
      return order.firstIndex(of: a)! < order.firstIndex(of: b)!
    }
  }

  /// One file of a bank as checked.
  public struct FileResult: Hashable, Sendable, Codable {
    public var path: String
    public var size: Int64
    /// "manifest" (checked against imgdb.tgz), "integrity" (gzip/tar only), or "present".
    public var check: String
    public var ok: Bool
  }

  public struct BankResult: Hashable, Sendable, Codable {
    public var partition: Int
    public var role: String?
    public var build: String?
    public var verdict: Verdict
    public var findings: [Finding]
    public var files: [FileResult]
  }

  /// A bank the loader boots, and how sound it is.
  public struct BootBank: Hashable, Sendable {
    public var partition: Int
    public var build: String?
    /// `.broken` when the bank could not be checked at all.
    public var verdict: Verdict
  }

  /// What a failed boot falls back to.
  public enum Fallback: Hashable, Sendable {
    /// A bootable bank, and how sound it is.
    case bank(BootBank)
    /// The bank the loader would fall back to cannot boot: its `bootstate` after the next
    /// boot's replay (nil when it has none).
    case notBootable(partition: Int, bootstate: Int32?)
    /// No second bank at all.
    case none
  }

  public var verdict: Verdict
  /// The bank the next boot loads; nil when the loader finds none ("No hypervisor found.").
  public var next: BootBank?
  public var fallback: Fallback
  /// Every other partition holding a boot.cfg the loader looks at (a third bank, one it
  /// drops, rejects or never scans), with the loader's verdict on it.
  public var otherBanks: [BankVerdict]
  /// Partitions shaped like banks that the loader skips: destroyed (with a finding) or empty.
  public var shapes: [BankShape]
  public var banks: [BankResult]
  /// Device-level findings: the partition table, the bank choice.
  public var findings: [Finding]

  /// Every finding, device first.
  public var allFindings: [Finding] { findings + banks.flatMap(\.findings) }
}
