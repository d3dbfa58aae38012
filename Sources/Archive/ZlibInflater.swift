import CZlib

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
