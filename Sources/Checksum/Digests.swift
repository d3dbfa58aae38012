import DiskFormat

/// What one pass over some bytes measured: the digests asked for, and how many bytes.
public struct Digests: Sendable, Hashable {
  /// Number of bytes digested.
  public var byteCount: Int64
  public var crc32: UInt32?
  /// 32 bytes.
  public var sha256: [UInt8]?
  /// 20 bytes.
  public var sha1: [UInt8]?

  public init(byteCount: Int64 = 0, crc32: UInt32? = nil, sha256: [UInt8]? = nil, sha1: [UInt8]? = nil) {
    self.byteCount = byteCount
    self.crc32 = crc32
    self.sha256 = sha256
    self.sha1 = sha1
  }

  /// The CRC-32 as 8 lower-case hex digits, as `rhash --crc32` and `crc32(1)` print it.
  public var crc32Hex: String? {
    crc32.map(hex32)
  }

  /// The SHA-256 as 64 lower-case hex digits, as `sha256sum` prints it.
  public var sha256Hex: String? { sha256.map(Digests.hex) }

  /// The SHA-1 as 40 lower-case hex digits, as `sha1sum` prints it.
  public var sha1Hex: String? { sha1.map(Digests.hex) }

  /// The digest of `algorithm` in hex, or `nil` when it was not computed.
  public func hex(_ algorithm: Algorithm) -> String? {
    switch algorithm {
    case .crc32: crc32Hex
    case .sha256: sha256Hex
    case .sha1: sha1Hex
    }
  }

  /// Lower-case hex of `bytes`.
  public static func hex(_ bytes: [UInt8]) -> String { hexString(bytes) }
}
