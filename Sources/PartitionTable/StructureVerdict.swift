import DiskFormat

/// What one on-disk structure of the partition table looks like: sound or not, and why.
///
/// GPT disks have five: "protective MBR", "primary GPT header", "primary GPT entries",
/// "backup GPT header", "backup GPT entries". MBR disks have "MBR" and, with an extended
/// partition, "EBR chain". A disk with no table has one "MBR" verdict saying why not.
public struct StructureVerdict: Hashable, Sendable, Codable {
  /// The structure, e.g. "primary GPT header".
  public var name: String
  /// False when the structure has a problem that makes it unusable to a reader that needs it.
  /// A structure with only warnings is ok.
  public var ok: Bool
  public var findings: [Finding]

  public init(name: String, ok: Bool, findings: [Finding]) {
    self.name = name
    self.ok = ok
    self.findings = findings
  }

  public static let protectiveMBR = "protective MBR"
  public static let primaryHeader = "primary GPT header"
  public static let primaryEntries = "primary GPT entries"
  public static let backupHeader = "backup GPT header"
  public static let backupEntries = "backup GPT entries"
  public static let mbr = "MBR"
  public static let ebrChain = "EBR chain"
}
