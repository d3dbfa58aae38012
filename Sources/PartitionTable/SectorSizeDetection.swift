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

extension PartitionTable {
  /// Decides the logical sector size of an image.
  ///
  /// A GPT header ("EFI PART") at byte `source.sectorSize` (LBA 1) settles it. Otherwise a header
  /// at byte 4096 (for a 512-byte source; byte 512 for a 4096-byte one) means the image has that
  /// sector size. Otherwise the source's own size stands. Block devices know their size; call
  /// this for image files, whose `sectorSize` is only a default.
  ///
  /// - Throws: `ReadError` when the medium fails.
  public static func detectSectorSize(of source: any ByteSource) throws -> SectorSizeDetection {
    let own = source.sectorSize
    if try hasGPTSignature(source, at: Int64(own)) {
      return SectorSizeDetection(sectorSize: own, reason: .gptHeaderAtLBA1)
    }
    for size in SectorSizeDetection.candidates where size != own {
      if try hasGPTSignature(source, at: Int64(size)) {
        return SectorSizeDetection(sectorSize: size, reason: .gptHeaderFoundOnlyAtOtherSize)
      }
    }
    return SectorSizeDetection(sectorSize: own, reason: .sourceDefault)
  }

  /// Whether "EFI PART" is at `offset` (false when the source is too short).
  static func hasGPTSignature(_ source: any ByteSource, at offset: Int64) throws -> Bool {
    guard let bytes = try source.bytesIfInside(at: offset, count: 8) else { return false }
    return bytes.littleEndian(UInt64.self, at: 0) == GPTHeader.signature
  }
}

extension ByteSource {
  /// `count` bytes at `offset`, or nil when they are not all inside the source. Never reads past
  /// the end; throws only what the medium throws.
  func bytesIfInside(at offset: Int64, count: Int) throws -> [UInt8]? {
    guard offset >= 0, count >= 0, offset <= byteCount, Int64(count) <= byteCount - offset else { return nil }
    return try read(at: offset, count: count)
  }
}
