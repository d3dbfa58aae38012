extension Span where Element == UInt8 {
  /// The little-endian integer at `offset`, or `nil` if it would run past the end.
  ///
  /// Inlinable so that callers in other modules get it specialized for their integer type: the
  /// generic version costs a witness-table call per byte, which FAT table walks felt.
  @inlinable
  public func littleEndian<T: FixedWidthInteger>(_: T.Type = T.self, at offset: Int) -> T? {
    let size = T.bitWidth / 8
    guard offset >= 0, size <= count - offset else { return nil }
    var value: T = 0
    for i in 0..<size { value |= T(truncatingIfNeeded: self[offset &+ i]) &<< (8 &* i) }
    return value
  }

  /// The bytes in `range` copied out, or `nil` if the range is not inside the span.
  public func bytes(_ range: Range<Int>) -> [UInt8]? {
    guard range.lowerBound >= 0, range.upperBound <= count else { return nil }
    return extracting(range).withUnsafeBufferPointer { Array($0) }
  }

  /// True when every byte in `range` (clamped to the span) is zero.
  public func isZero(_ range: Range<Int>) -> Bool {
    let upper = Swift.min(range.upperBound, count)
    var i = Swift.max(0, range.lowerBound)
    while i < upper {
      if self[i] != 0 { return false }
      i &+= 1
    }
    return true
  }
}

extension Array where Element == UInt8 {
  /// The little-endian integer at `offset`, or `nil` if it would run past the end.
  @inlinable
  public func littleEndian<T: FixedWidthInteger>(_: T.Type = T.self, at offset: Int) -> T? {
    span.littleEndian(T.self, at: offset)
  }

  /// Appends `value` in little-endian byte order.
  public mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
    for i in 0..<(T.bitWidth / 8) { append(UInt8(truncatingIfNeeded: value >> (8 * i))) }
  }

  /// Overwrites `T.bitWidth / 8` bytes at `offset` with `value` in little-endian order.
  /// The caller guarantees the range is inside the array (builders and writers only).
  public mutating func storeLittleEndian<T: FixedWidthInteger>(_ value: T, at offset: Int) {
    for i in 0..<(T.bitWidth / 8) { self[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
  }
}

extension Array where Element == UInt8 {
  /// Overwrites `bytes.count` bytes at `offset` with `bytes`.
  /// The caller guarantees the range is inside the array (builders and writers only).
  public mutating func storeBytes(_ bytes: [UInt8], at offset: Int) {
    replaceSubrange(offset..<(offset + bytes.count), with: bytes)
  }
}
