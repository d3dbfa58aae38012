import Crypto

/// Which library computes SHA-256 and SHA-1.
///
/// OpenSSL's libcrypto is the default: on the machines measured in BENCHMARKS.md its SHA-NI
/// code is faster than swift-crypto's BoringSSL build, and the project's target is
/// `openssl dgst -sha256`. swift-crypto stays as a second, independent implementation
/// (tests compare the two) and can be chosen with `BOOTBANK_SHA=swift-crypto`.
public enum SHABackend: String, Sendable, CaseIterable {
  case openssl
  case swiftCrypto = "swift-crypto"

  /// The backend used when none is named: OpenSSL, unless `BOOTBANK_SHA=swift-crypto` is set.
  public static let `default`: SHABackend = {
    if let value = getenvString("BOOTBANK_SHA"), let backend = SHABackend(rawValue: value) {
      return backend
    }
    return .openssl
  }()
}

/// Streaming SHA-256.
///
/// A value type: a copy continues independently of the original.
public struct SHA256Hasher: Sendable {
  private var evp: EVPHasher?
  private var boring: Crypto.SHA256?

  public let backend: SHABackend

  public init(backend: SHABackend = .default) {
    self.backend = backend
    switch backend {
    case .openssl: evp = EVPHasher(.sha256)
    case .swiftCrypto: boring = Crypto.SHA256()
    }
  }

  public mutating func update(_ bytes: Span<UInt8>) {
    bytes.withUnsafeBufferPointer { update(UnsafeRawBufferPointer($0)) }
  }

  public mutating func update(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { update($0) }
  }

  public mutating func update(_ buffer: UnsafeRawBufferPointer) {
    guard buffer.count > 0 else { return }
    if evp != nil {
      evp?.update(buffer)
    } else {
      boring?.update(bufferPointer: buffer)
    }
  }

  /// The digest as 32 bytes (the state is kept; more may be added).
  public func finalize() -> [UInt8] {
    if let evp { return evp.finalize() }
    return boring.map { Array($0.finalize()) } ?? []
  }

  /// The SHA-256 of `bytes` as 64 lower-case hex digits.
  public static func hex(_ bytes: [UInt8], backend: SHABackend = .default) -> String {
    var h = SHA256Hasher(backend: backend)
    h.update(bytes)
    return Digests.hex(h.finalize())
  }
}

/// Streaming SHA-1 (ESXi's VIB descriptors carry it).
///
/// A value type: a copy continues independently of the original.
public struct SHA1Hasher: Sendable {
  private var evp: EVPHasher?
  private var boring: Insecure.SHA1?

  public let backend: SHABackend

  public init(backend: SHABackend = .default) {
    self.backend = backend
    switch backend {
    case .openssl: evp = EVPHasher(.sha1)
    case .swiftCrypto: boring = Insecure.SHA1()
    }
  }

  public mutating func update(_ bytes: Span<UInt8>) {
    bytes.withUnsafeBufferPointer { update(UnsafeRawBufferPointer($0)) }
  }

  public mutating func update(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { update($0) }
  }

  public mutating func update(_ buffer: UnsafeRawBufferPointer) {
    guard buffer.count > 0 else { return }
    if evp != nil {
      evp?.update(buffer)
    } else {
      boring?.update(bufferPointer: buffer)
    }
  }

  /// The digest as 20 bytes (the state is kept; more may be added).
  public func finalize() -> [UInt8] {
    if let evp { return evp.finalize() }
    return boring.map { Array($0.finalize()) } ?? []
  }
}
