import CISAL

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
