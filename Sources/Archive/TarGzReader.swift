/// A gzip-compressed tar stream (.tgz) read in one pass: `GzipDecoder` feeding `TarReader`.
///
/// ```swift
/// var listing = TarListing()
/// let reader = TarGzReader()
/// for cluster in clusters { try reader.feed(cluster, to: &listing) }
/// let (gzip, tar) = try reader.finish()
/// ```
public final class TarGzReader {
  public let gzip: GzipDecoder
  public private(set) var tar: TarReader

  public init(gzip: GzipDecoder = GzipDecoder(), tar: TarReader = TarReader()) {
    self.gzip = gzip
    self.tar = tar
  }

  /// Reads the next chunk of compressed input.
  ///
  /// - Throws: `GzipError`, `TarError`, or whatever `visitor` throws.
  public func feed<V: TarVisitor>(_ compressed: Span<UInt8>, to visitor: inout V) throws {
    try gzip.feed(compressed) { chunk in try tar.feed(chunk, to: &visitor) }
  }

  /// Reads the next chunk of compressed input.
  public func feed<V: TarVisitor>(_ compressed: [UInt8], to visitor: inout V) throws {
    try feed(compressed.span, to: &visitor)
  }

  /// Checks both layers ended cleanly.
  public func finish() throws -> (gzip: GzipSummary, tar: TarSummary) {
    let gzipSummary = try gzip.finish()
    let tarSummary = try tar.finish()
    return (gzipSummary, tarSummary)
  }

  /// Lists a whole .tgz held in memory.
  public static func list(_ compressed: [UInt8], backend: InflateBackend = .default) throws -> [TarMember] {
    var listing = TarListing()
    let reader = TarGzReader(gzip: GzipDecoder(backend: backend))
    try reader.feed(compressed, to: &listing)
    _ = try reader.finish()
    return listing.members
  }
}
