import CZstd

/// Why a zstd stream did not decode: libzstd's reason and the compressed byte offset of the
/// chunk it was decoding.
public struct ZstdError: Error, Hashable, Sendable, CustomStringConvertible {
  public var reason: String
  public var offset: Int64
  public var description: String { "zstd: \(reason) (in the compressed bytes from offset \(offset))" }
}

/// A streaming zstd decoder (libzstd's `ZSTD_decompressStream`): compressed chunks in,
/// decompressed chunks out, memory bounded by one output buffer and the window, which is
/// capped at 2^27 bytes (zstd's default limit) so a hostile frame cannot ask for more.
public final class ZstdDecoder {
  public static let outputChunkSize = 1 << 20
  private let context: OpaquePointer
  private let outputBuffer: UnsafeMutableRawBufferPointer
  private var consumed: Int64 = 0
  /// True when the input so far ends at the end of a frame.
  private var atFrameEnd = true
  private var failure: ZstdError?

  public init() {
    context = ZSTD_createDStream()
    ZSTD_DCtx_setParameter(context, ZSTD_d_windowLogMax, 27)
    outputBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.outputChunkSize, alignment: 16)
  }

  deinit {
    ZSTD_freeDStream(context)
    outputBuffer.deallocate()
  }

  /// True when `prefix` starts with the zstd frame magic (28 B5 2F FD).
  public static func looksLikeZstd(_ prefix: Span<UInt8>) -> Bool {
    prefix.count >= 4 && prefix[0] == 0x28 && prefix[1] == 0xB5 && prefix[2] == 0x2F && prefix[3] == 0xFD
  }

  /// Decodes the next chunk of compressed input, handing each decompressed chunk to `output`.
  public func feed(_ input: Span<UInt8>, output: (Span<UInt8>) throws -> Void) throws {
    if let failure { throw failure }
    try input.withUnsafeBufferPointer { buffer in
      var inBuffer = ZSTD_inBuffer(src: buffer.baseAddress, size: buffer.count, pos: 0)
      while inBuffer.pos < inBuffer.size {
        var outBuffer = ZSTD_outBuffer(dst: outputBuffer.baseAddress, size: outputBuffer.count, pos: 0)
        let result = ZSTD_decompressStream(context, &outBuffer, &inBuffer)
        if ZSTD_isError(result) != 0 {
          let error = ZstdError(reason: String(cString: ZSTD_getErrorName(result)), offset: consumed)
          failure = error
          throw error
        }
        atFrameEnd = result == 0
        if outBuffer.pos > 0 {
          let chunk = UnsafeRawBufferPointer(rebasing: outputBuffer[0..<outBuffer.pos])
          try output(Span(_unsafeElements: chunk.assumingMemoryBound(to: UInt8.self)))
        }
      }
      // Output the decoder still holds for input it has fully taken.
      while true {
        var outBuffer = ZSTD_outBuffer(dst: outputBuffer.baseAddress, size: outputBuffer.count, pos: 0)
        var empty = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
        let result = ZSTD_decompressStream(context, &outBuffer, &empty)
        if ZSTD_isError(result) != 0 {
          let error = ZstdError(reason: String(cString: ZSTD_getErrorName(result)), offset: consumed)
          failure = error
          throw error
        }
        // With nothing left to flush, the result is the next frame's header hint: keep the
        // last call's answer.
        guard outBuffer.pos > 0 else { break }
        atFrameEnd = result == 0
        let chunk = UnsafeRawBufferPointer(rebasing: outputBuffer[0..<outBuffer.pos])
        try output(Span(_unsafeElements: chunk.assumingMemoryBound(to: UInt8.self)))
      }
      consumed += Int64(buffer.count)
    }
  }

  /// Checks the input ended at the end of a frame.
  public func finish() throws {
    if let failure { throw failure }
    guard atFrameEnd else { throw ZstdError(reason: "the input ends inside a frame (truncated)", offset: consumed) }
  }
}
