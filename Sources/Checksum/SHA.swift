import Crypto

/// Streaming SHA-256 over swift-crypto (BoringSSL, SHA-NI where the CPU has it).
public struct SHA256Hasher: Sendable {
  private var hasher = Crypto.SHA256()
  public init() {}
  public mutating func update(_ bytes: Span<UInt8>) {
    bytes.withUnsafeBufferPointer { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
  }
  public mutating func update(_ bytes: [UInt8]) { hasher.update(data: bytes) }
  public mutating func update(_ buffer: UnsafeRawBufferPointer) { hasher.update(bufferPointer: buffer) }
  /// The digest as 32 bytes.
  public func finalize() -> [UInt8] { Array(hasher.finalize()) }
  /// The SHA-256 of `bytes` as 64 lower-case hex digits.
  public static func hex(_ bytes: [UInt8]) -> String {
    var h = SHA256Hasher()
    h.update(bytes)
    return h.finalize().map { b in let s = String(b, radix: 16); return b < 16 ? "0" + s : s }.joined()
  }
}

/// Streaming SHA-1 (ESXi's VIB descriptors carry it) over swift-crypto.
public struct SHA1Hasher: Sendable {
  private var hasher = Insecure.SHA1()
  public init() {}
  public mutating func update(_ bytes: Span<UInt8>) {
    bytes.withUnsafeBufferPointer { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
  }
  public mutating func update(_ bytes: [UInt8]) { hasher.update(data: bytes) }
  public mutating func update(_ buffer: UnsafeRawBufferPointer) { hasher.update(bufferPointer: buffer) }
  public func finalize() -> [UInt8] { Array(hasher.finalize()) }
}
