import DiskFormat

extension ByteSource {
  /// `count` bytes at `offset`, or nil when they are not all inside the source. Never reads past
  /// the end; throws only what the medium throws.
  func bytesIfInside(at offset: Int64, count: Int) throws -> [UInt8]? {
    guard offset >= 0, count >= 0, offset <= byteCount, Int64(count) <= byteCount - offset else { return nil }
    return try read(at: offset, count: count)
  }
}
