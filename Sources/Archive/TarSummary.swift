/// What a tar stream held, once `TarReader.finish()` has checked it ended cleanly.
public struct TarSummary: Hashable, Sendable {
  /// How the archive ended.
  public enum End: Hashable, Sendable {
    /// Two zero blocks, as POSIX requires.
    case twoZeroBlocks
    /// One zero block and then the end of the stream or non-zero data (GNU tar: "A lone zero block").
    case loneZeroBlock
    /// The stream ended at a header boundary with no zero block.
    case missing
  }

  /// Members read (GNU 'L'/'K' and pax 'x'/'g' headers are not counted).
  public var memberCount = 0
  public var end: End = .missing
  /// Bytes of the tar stream.
  public var byteCount: Int64 = 0
  /// Non-zero bytes after the end-of-archive blocks (GNU tar ignores them; a sound archive has none).
  public var nonZeroBytesAfterEnd: Int64 = 0

  public init() {}
}
