import DiskFormat

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
