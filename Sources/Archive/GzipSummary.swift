/// What a gzip stream held, once `GzipDecoder.finish()` has checked every member.
public struct GzipSummary: Hashable, Sendable {
  /// One member (RFC 1952 §2.2) of a possibly multi-member stream.
  public struct Member: Hashable, Sendable {
    /// Offset of the member's ID1 byte in the compressed stream.
    public var offset: Int64
    /// Bytes from ID1 to the end of ISIZE.
    public var compressedSize: Int64
    /// Bytes the member decompressed to (not reduced modulo 2^32).
    public var decompressedSize: Int64
    /// The stored CRC32 (it matched the CRC-32 of the output).
    public var crc32: UInt32
    /// The stored ISIZE (it matched the output size modulo 2^32).
    public var isize: UInt32
    /// MTIME of the header (0 when not set, as `gzip -n` writes).
    public var modificationTime: UInt32
    /// FNAME of the header, when present (at most 255 bytes kept).
    public var fileName: String?
  }

  /// Number of members in the stream.
  public var memberCount: Int = 0
  /// The first `GzipDecoder.memberRecordLimit` members (a stream of a million empty members
  /// is legal gzip; its records are not kept).
  public var members: [Member] = []
  /// Bytes of compressed input.
  public var compressedSize: Int64 = 0
  /// Bytes of decompressed output, all members together.
  public var decompressedSize: Int64 = 0

  public init() {}
}
