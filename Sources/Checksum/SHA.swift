import Crypto

/// Streaming SHA over swift-crypto (BoringSSL's SHA-NI code where the CPU has it): one
/// wrapper for every hash function the package uses.
///
/// swift-crypto meets the project's bar here (0.98× `openssl speed -evp sha256`, see
/// BENCHMARKS.md), so OpenSSL's libcrypto is not linked. A value type: a copy continues
/// independently of the original.
public struct SHAHasher<Function: HashFunction> {
  private var hasher = Function()

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

  /// The digest as bytes, 32 for SHA-256 and 20 for SHA-1 (the state is kept; more may be added).
  public func finalize() -> [UInt8] { Array(hasher.finalize()) }
}

extension SHAHasher: Sendable where Function: Sendable {}

/// Streaming SHA-256.
public typealias SHA256Hasher = SHAHasher<Crypto.SHA256>

/// Streaming SHA-1 (ESXi's VIB descriptors carry it).
public typealias SHA1Hasher = SHAHasher<Insecure.SHA1>

extension SHAHasher where Function == Crypto.SHA256 {
  /// The SHA-256 of `bytes` as 64 lower-case hex digits.
  public static func hex(_ bytes: [UInt8]) -> String {
    var h = SHA256Hasher()
    h.update(bytes)
    return Digests.hex(h.finalize())
  }
}
