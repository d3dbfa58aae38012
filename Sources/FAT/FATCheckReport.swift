import DiskFormat

/// What `FATVolume.check()` returns: the volume's summary and every finding, in one pass.
public struct FATCheckReport: Hashable, Sendable, Codable {
  public var fatType: FATType
  /// The root-directory label (blkid `LABEL`), else the boot-sector label, else `nil`.
  public var label: String?
  /// `XXXX-XXXX`.
  public var serial: String
  public var clusterCount: UInt32
  /// Clusters whose FAT entry is 0.
  public var freeClusters: UInt32
  public var findings: [Finding]

  /// True when a finding of severity error was found.
  public var hasErrors: Bool { findings.contains { $0.severity == .error } }
}
