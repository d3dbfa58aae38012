/// One pass over a stream of bytes feeding every algorithm asked for, on the calling thread.
///
/// Windows of any size may be added in order; the digests do not depend on how the stream
/// is split. Large windows are fed to the algorithms in cache-sized pieces, so each piece
/// is read from memory once and hashed from cache by the others.
///
/// For the pipeline (each algorithm on a worker queue, reading on the caller) use
/// `PipelinedDigester` or `Digester.digest(_:threading:reading:)`.
public struct Digester: Sendable {
  /// Bytes per piece handed to each algorithm in turn (fits in L2 with room to spare).
  static let pieceSize = 256 << 10

  public let algorithms: Set<Algorithm>
  private var crc: CRC32?
  private var sha256: SHA256Hasher?
  private var sha1: SHA1Hasher?
  private var count: Int64 = 0

  public init(
    _ algorithms: Set<Algorithm>,
    crcBackend: CRC32.Backend = CRC32.defaultBackend
  ) {
    self.algorithms = algorithms
    if algorithms.contains(.crc32) { crc = CRC32(backend: crcBackend) }
    if algorithms.contains(.sha256) { sha256 = SHA256Hasher() }
    if algorithms.contains(.sha1) { sha1 = SHA1Hasher() }
  }

  /// Adds the next bytes of the stream.
  public mutating func update(_ buffer: UnsafeRawBufferPointer) {
    count += Int64(buffer.count)
    var start = 0
    while start < buffer.count {
      let end = start + min(Digester.pieceSize, buffer.count - start)
      let piece = UnsafeRawBufferPointer(rebasing: buffer[start..<end])
      crc?.update(piece)
      sha256?.update(piece)
      sha1?.update(piece)
      start = end
    }
  }

  /// Adds the next bytes of the stream.
  public mutating func update(_ bytes: Span<UInt8>) {
    bytes.withUnsafeBufferPointer { update(UnsafeRawBufferPointer($0)) }
  }

  /// Adds the next bytes of the stream.
  public mutating func update(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { update($0) }
  }

  /// The digests of everything added so far (more may still be added).
  public func finalize() -> Digests {
    Digests(byteCount: count, crc32: crc?.finalize(), sha256: sha256?.finalize(), sha1: sha1?.finalize())
  }

  /// The digests of `bytes` in one call.
  public static func digest(_ algorithms: Set<Algorithm>, of bytes: [UInt8]) -> Digests {
    var digester = Digester(algorithms)
    digester.update(bytes)
    return digester.finalize()
  }
}
