import CISAL
import CZlib

#if canImport(Glibc)
  import Glibc
#endif

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

  /// ISA-L, unless the environment sets `BOOTBANK_INFLATE=zlib`.
  public static let `default`: InflateBackend = {
    if let value = getenv("BOOTBANK_INFLATE"), String(cString: value) == "zlib" { return .zlib }
    return .isal
  }()
}

/// One step of raw inflation.
struct InflateStep {
  var consumed: Int
  var produced: Int
  var finished: Bool
}

/// A raw-deflate decoder that keeps state across input chunks.
protocol RawInflater: AnyObject {
  /// Inflates from `input` into `output`.
  ///
  /// - Throws: the backend's reason, when the data is not valid deflate.
  func inflate(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(InflateFailure)
    -> InflateStep
  /// After a step that finished: the bytes the backend read past the end of the deflate
  /// stream that are not part of the input's unconsumed rest (ISA-L's bit buffer).
  func takeOverread() -> [UInt8]
  /// Prepares for the next deflate stream.
  func reset()
}

struct InflateFailure: Error {
  var reason: String
  /// Input bytes the failing call consumed before it gave up.
  var consumed: Int
}

func makeInflater(_ backend: InflateBackend) -> RawInflater {
  switch backend {
  case .isal: return ISALInflater()
  case .zlib: return ZlibInflater()
  }
}

/// ISA-L's stateful `isal_inflate` on raw deflate (`crc_flag = ISAL_DEFLATE`).
final class ISALInflater: RawInflater {
  private let state: UnsafeMutablePointer<inflate_state>

  init() {
    state = UnsafeMutablePointer<inflate_state>.allocate(capacity: 1)
    UnsafeMutableRawPointer(state).initializeMemory(
      as: UInt8.self, repeating: 0, count: MemoryLayout<inflate_state>.size)
    reset()
  }

  deinit {
    state.deallocate()
  }

  func reset() {
    isal_inflate_init(state)
    state.pointee.crc_flag = UInt32(ISAL_DEFLATE)
    state.pointee.hist_bits = 0
  }

  func inflate(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(InflateFailure)
    -> InflateStep
  {
    // isal_inflate takes 32-bit lengths; the callers' buffers are far smaller, but clamp anyway.
    let inCount = min(input.count, Int(UInt32.max))
    let outCount = min(output.count, Int(UInt32.max))
    state.pointee.next_in = UnsafeMutablePointer(
      mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self))
    state.pointee.avail_in = UInt32(inCount)
    state.pointee.next_out = output.baseAddress?.assumingMemoryBound(to: UInt8.self)
    state.pointee.avail_out = UInt32(outCount)
    let status = isal_inflate(state)
    let consumed = inCount - Int(state.pointee.avail_in)
    let produced = outCount - Int(state.pointee.avail_out)
    if status < 0 {
      throw InflateFailure(reason: Self.reason(status), consumed: consumed)
    }
    return InflateStep(
      consumed: consumed, produced: produced, finished: state.pointee.block_state == ISAL_BLOCK_FINISH)
  }

  func takeOverread() -> [UInt8] {
    // At ISAL_BLOCK_FINISH in raw mode, isal_inflate leaves the bits it read past the final
    // block in read_in (read_in_length of them, the first read_in_length % 8 being the
    // padding of the last deflate byte), and any whole bytes of a split read in tmp_in_buffer.
    // Stream order is tmp_in_buffer first, then read_in, as ISA-L's own check_gzip_checksum reads them.
    var bytes: [UInt8] = []
    let tmpCount = Int(state.pointee.tmp_in_size)
    if tmpCount > 0 {
      withUnsafeBytes(of: &state.pointee.tmp_in_buffer) { raw in
        bytes.append(contentsOf: raw.prefix(min(tmpCount, raw.count)))
      }
    }
    let bitCount = Int(state.pointee.read_in_length)
    if bitCount >= 8 {
      var bits = state.pointee.read_in >> UInt64(bitCount % 8)
      for _ in 0..<min(bitCount / 8, 8) {
        bytes.append(UInt8(truncatingIfNeeded: bits))
        bits >>= 8
      }
    }
    state.pointee.read_in = 0
    state.pointee.read_in_length = 0
    state.pointee.tmp_in_size = 0
    return bytes
  }

  private static func reason(_ status: Int32) -> String {
    switch status {
    case ISAL_INVALID_BLOCK: return "isal_inflate: invalid block"
    case ISAL_INVALID_SYMBOL: return "isal_inflate: invalid symbol"
    case ISAL_INVALID_LOOKBACK: return "isal_inflate: invalid lookback distance"
    default: return "isal_inflate: error \(status)"
    }
  }
}

/// zlib's `inflate` on raw deflate (`inflateInit2(-MAX_WBITS)`).
final class ZlibInflater: RawInflater {
  private let stream: UnsafeMutablePointer<z_stream>

  init() {
    stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    UnsafeMutableRawPointer(stream).initializeMemory(
      as: UInt8.self, repeating: 0, count: MemoryLayout<z_stream>.size)
    // inflateInit2 is a macro; this is its expansion. It fails only without memory.
    let status = inflateInit2_(stream, -MAX_WBITS, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
    precondition(status == Z_OK, "inflateInit2 failed: \(status)")
  }

  deinit {
    inflateEnd(stream)
    stream.deallocate()
  }

  func reset() {
    inflateReset(stream)
  }

  func inflate(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(InflateFailure)
    -> InflateStep
  {
    // zlib takes 32-bit lengths (uInt).
    let inCount = min(input.count, Int(UInt32.max))
    let outCount = min(output.count, Int(UInt32.max))
    stream.pointee.next_in = UnsafeMutablePointer(
      mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self))
    stream.pointee.avail_in = UInt32(inCount)
    stream.pointee.next_out = output.baseAddress?.assumingMemoryBound(to: UInt8.self)
    stream.pointee.avail_out = UInt32(outCount)
    let status = CZlib.inflate(stream, Z_NO_FLUSH)
    let consumed = inCount - Int(stream.pointee.avail_in)
    let produced = outCount - Int(stream.pointee.avail_out)
    switch status {
    case Z_OK, Z_BUF_ERROR:
      // Z_BUF_ERROR: no progress was possible (more input needed); not an error.
      return InflateStep(consumed: consumed, produced: produced, finished: false)
    case Z_STREAM_END:
      return InflateStep(consumed: consumed, produced: produced, finished: true)
    default:
      var why = "inflate: error \(status)"
      if let message = stream.pointee.msg { why = "inflate: " + String(cString: message) }
      throw InflateFailure(reason: why, consumed: consumed)
    }
  }

  func takeOverread() -> [UInt8] {
    // At Z_STREAM_END zlib's next_in points just past the deflate stream.
    []
  }
}
