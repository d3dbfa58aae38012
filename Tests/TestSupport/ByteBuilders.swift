import DiskFormat

/// Small byte-level helpers for building and corrupting images in tests.
extension Array where Element == UInt8 {
  /// A zero-filled buffer of `count` bytes.
  public static func zeros(_ count: Int) -> [UInt8] { [UInt8](repeating: 0, count: count) }

  /// Copies `bytes` over the buffer at `offset`. The caller keeps the range inside the buffer.
  public mutating func put(_ bytes: [UInt8], at offset: Int) {
    for (i, byte) in bytes.enumerated() { self[offset + i] = byte }
  }
}
