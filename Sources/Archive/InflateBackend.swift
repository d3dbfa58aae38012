/// Which library inflates raw deflate data.
///
/// Both decode the same RFC 1951 stream; the gzip framing (RFC 1952 header, CRC32,
/// ISIZE, member boundaries) is parsed by `GzipDecoder` itself, so the two backends
/// give the same output and the same verdicts, byte offsets included.
public enum InflateBackend: String, Sendable, CaseIterable {
  /// ISA-L's igzip `isal_inflate` (typically 2–3× zlib's speed).
  case isal
  /// zlib's `inflate` on a raw stream (`inflateInit2` with -MAX_WBITS).
  case zlib

  /// The backend used when none is named: ISA-L. A program sets it once, before any work
  /// starts (the command line maps `BOOTBANK_INFLATE=zlib` onto it).
  nonisolated(unsafe) public static var `default`: InflateBackend = .isal
}
