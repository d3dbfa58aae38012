import DiskFormat

/// A source seen with another logical sector size: the partition table's detected one,
/// when it differs from what the source reported (a 4Kn image read from a plain file).
final class SectorSizedSource: ByteSource, @unchecked Sendable {
  let base: any ByteSource
  let sectorSize: Int

  init(_ base: any ByteSource, sectorSize: Int) {
    self.base = base
    self.sectorSize = sectorSize
  }

  var name: String { base.name }
  var byteCount: Int64 { base.byteCount }

  func withBytes<R>(in range: Range<Int64>, _ body: (Span<UInt8>) throws -> R) throws -> R {
    try base.withBytes(in: range, body)
  }
}
