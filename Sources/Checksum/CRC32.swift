import CISAL
import CZlib

/// CRC-32 with the IEEE 802.3 / gzip / zlib / GPT polynomial (reflected 0xEDB88320).
///
/// The kernel is ISA-L's `crc32_gzip_refl` (PCLMULQDQ/VPCLMULQDQ, chosen at run time);
/// zlib's `crc32` is the fallback and gives the same answers. This is the one CRC-32
/// implementation in the project: the GPT parser, gzip member checks and `checksum`
/// all use it.
public struct CRC32: Sendable {
  /// Which library computes the CRC.
  public enum Backend: String, Sendable, CaseIterable {
    case isal, zlib
  }

  /// The backend used when none is named: ISA-L. A program sets it once, before any work
  /// starts (the command line maps `BOOTBANK_CRC32=zlib` onto it).
  nonisolated(unsafe) public static var defaultBackend: Backend = .isal

  public let backend: Backend
  private var state: UInt32 = 0

  public init(backend: Backend = CRC32.defaultBackend) {
    self.backend = backend
  }

  /// Adds `bytes` to the running CRC.
  public mutating func update(_ bytes: Span<UInt8>) {
    guard !bytes.isEmpty else { return }
    bytes.withUnsafeBufferPointer { buffer in
      update(UnsafeRawBufferPointer(buffer))
    }
  }

  /// Adds `bytes` to the running CRC.
  public mutating func update(_ bytes: [UInt8]) {
    update(bytes.span)
  }

  /// Adds raw memory to the running CRC (used by the streaming hashers).
  public mutating func update(_ buffer: UnsafeRawBufferPointer) {
    guard let base = buffer.baseAddress, buffer.count > 0 else { return }
    var pointer = base.assumingMemoryBound(to: UInt8.self)
    var remaining = buffer.count
    switch backend {
    case .isal:
      // crc32_gzip_refl takes a uint64_t length; no chunking needed.
      state = bootbank_crc32_gzip_refl(state, pointer, UInt64(remaining))
    case .zlib:
      // zlib's crc32 takes a uInt (32-bit) length.
      while remaining > 0 {
        let n = min(remaining, 1 << 30)
        state = UInt32(truncatingIfNeeded: CZlib.crc32(UInt(state), pointer, UInt32(n)))
        pointer += n
        remaining -= n
      }
    }
  }

  /// Adds `count` zero bytes (a checksum field read as zero) without changing the input.
  public mutating func update(zeroCount count: Int) {
    let zeros = [UInt8](repeating: 0, count: min(count, 4096))
    var left = count
    while left > 0 {
      let n = min(left, zeros.count)
      zeros.withUnsafeBytes { update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
      left -= n
    }
  }

  /// The CRC of everything added so far (the state is kept; more may be added).
  public func finalize() -> UInt32 { state }

  /// The CRC of `bytes` in one call.
  public static func checksum(_ bytes: [UInt8], backend: Backend = CRC32.defaultBackend) -> UInt32 {
    var crc = CRC32(backend: backend)
    crc.update(bytes)
    return crc.finalize()
  }
}
