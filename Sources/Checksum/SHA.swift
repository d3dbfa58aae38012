import Crypto

/// Streaming SHA-256 over swift-crypto (BoringSSL's SHA-NI code where the CPU has it).
///
/// swift-crypto meets the project's bar here (0.98× `openssl speed -evp sha256`, see
/// BENCHMARKS.md), so OpenSSL's libcrypto is not linked. A value type: a copy continues
/// independently of the original.
public struct SHA256Hasher: Sendable {
  private var hasher = Crypto.SHA256()

  public init() {}

  public mutating func update(_ bytes: Span<UInt8>) {
    bytes.withUnsafeBufferPointer { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
  }

  public mutating func update(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { hasher.update(bufferPointer: $0) }
  }

  public mutating func update(_ buffer: UnsafeRawBufferPointer) {
    hasher.update(bufferPointer: buffer)
  }

  /// The digest as 32 bytes (the state is kept; more may be added).
  public func finalize() -> [UInt8] { Array(hasher.finalize()) }

  /// The SHA-256 of `bytes` as 64 lower-case hex digits.
  public static func hex(_ bytes: [UInt8]) -> String {
    var h = SHA256Hasher()
    h.update(bytes)
    return Digests.hex(h.finalize())
  }
}

/// Streaming SHA-1 (ESXi's VIB descriptors carry it) over swift-crypto.
public struct SHA1Hasher: Sendable {
  private var hasher = Insecure.SHA1()

  public init() {}

  public mutating func update(_ bytes: Span<UInt8>) {
    bytes.withUnsafeBufferPointer { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
  }

  public mutating func update(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { hasher.update(bufferPointer: $0) }
  }

  public mutating func update(_ buffer: UnsafeRawBufferPointer) {
    hasher.update(bufferPointer: buffer)
  }

  /// The digest as 20 bytes (the state is kept; more may be added).
  public func finalize() -> [UInt8] { Array(hasher.finalize()) }
}
