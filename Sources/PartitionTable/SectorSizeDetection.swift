import DiskFormat

/// Which logical sector size to read a disk with, and why.
public struct SectorSizeDetection: Hashable, Sendable, Codable {
  public enum Reason: String, Hashable, Sendable, Codable {
    /// The caller named the size (`--sector-size`, or a block device's BLKSSZGET).
    case explicit
    /// "EFI PART" is at LBA 1 with the source's own sector size.
    case gptHeaderAtLBA1
    /// "EFI PART" is not at byte `source.sectorSize` but is at byte 4096 (or 512): the image was
    /// made for that sector size.
    case gptHeaderFoundOnlyAtOtherSize
    /// No GPT header at either size: the source's own size is used.
    case sourceDefault
  }
  public var sectorSize: Int
  public var reason: Reason

  public init(sectorSize: Int, reason: Reason) {
    self.sectorSize = sectorSize
    self.reason = reason
  }

  /// The sizes probed, in order after the source's own.
  static let candidates = [512, 4096]
}
