import DiskFormat

/// What `bootbank verify` found: one verdict for the device, one per bank.
public struct Verification: Hashable, Sendable, Codable {
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

  public var verdict: Verdict
  /// One line: what happens at the next boot, and whether the fallback is sound.
  public var summary: String
  public var banks: [BankResult]
  /// Device-level findings: the partition table, the bank choice.
  public var findings: [Finding]

  /// Every finding, device first.
  public var allFindings: [Finding] { findings + banks.flatMap(\.findings) }
}
