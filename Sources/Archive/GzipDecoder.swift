import Checksum

/// A push decoder for gzip streams (RFC 1952), single- or multi-member.
///
/// Feed the compressed bytes in chunks of any size (a file's clusters, as they are read);
/// the decompressed bytes come back through the `output` closure in chunks of at most
/// `outputChunkSize` bytes and are never accumulated. `finish()` checks that the stream
/// ended at a member boundary and returns what it held.
///
/// The RFC 1952 framing (header, CRC32, ISIZE, member boundaries) is parsed here; only the
/// raw deflate data goes to the backend (ISA-L's `isal_inflate`, or zlib's `inflate`), so
/// both backends give identical output, verdicts and offsets. Each member's CRC32 is
/// recomputed over its output with `Checksum.CRC32` and compared with the stored one, as
/// is ISIZE with the output size modulo 2^32.
///
/// ```swift
/// let decoder = GzipDecoder()
/// for cluster in clusters { try decoder.feed(cluster) { hasher.update($0) } }
/// let summary = try decoder.finish()
/// ```
///
/// Errors thrown by the decoder are `GzipError`s; errors thrown by `output` are passed
/// through unchanged. After any error the decoder is spent: later calls throw it again.
public final class GzipDecoder {
  /// How many member records `GzipSummary.members` keeps.
  public static let memberRecordLimit = 1024
  /// Size of the chunks handed to `output`.
  public static let outputChunkSize = 256 * 1024

  public let backend: InflateBackend
  /// The most decompressed bytes accepted, all members together; nil for no limit.
  public let maxOutput: Int64?

  private let inflater: RawInflater
  private let crcBackend: CRC32.Backend
  private let outputBuffer: UnsafeMutableRawBufferPointer

  /// The fields of an RFC 1952 member header, in order; the Int counts bytes read (or left).
  private enum HeaderStep {
    case fixed(Int)
    case extraLength(Int)
    case extra(Int)
    case name
    case comment
    case headerCRC(Int)
  }

  /// FLG bits (RFC 1952 §2.3.1).
  private enum Flag {
    static let headerCRC: UInt8 = 0x02
    static let extra: UInt8 = 0x04
    static let name: UInt8 = 0x08
    static let comment: UInt8 = 0x10
    static let reserved: UInt8 = 0xe0
  }
  private enum Phase {
    case header(HeaderStep)
    case deflate
    case trailer(Int)
    case between
    case garbage
    case spent
  }

  private var phase: Phase = .header(.fixed(0))
  private var failure: (any Error)?
  private var finished: GzipSummary?
  /// Offset in the compressed stream of the next byte to process.
  private var position: Int64 = 0
  private var summary = GzipSummary()

  // The member being decoded.
  private var memberStart: Int64 = 0
  private var flags: UInt8 = 0
  private var modificationTime: UInt32 = 0
  private var extraLength = 0
  private var headerCRC = CRC32()
  private var storedHeaderCRC: UInt16 = 0
  private var fileName: [UInt8] = []
  private var hasFileName = false
  private var outputCRC = CRC32()
  private var memberOutput: Int64 = 0
  private var trailer: [UInt8] = []
  private var garbageStart: Int64 = 0

  /// - Parameters:
  ///   - backend: The inflate library; by default `InflateBackend.default`.
  ///   - maxOutput: Refuse to decompress more than this many bytes (zip-bomb defence).
  ///   - crcBackend: The CRC-32 library used to check each member.
  public init(
    backend: InflateBackend = .default, maxOutput: Int64? = nil, crcBackend: CRC32.Backend = CRC32.defaultBackend
  ) {
    self.backend = backend
    self.maxOutput = maxOutput
    self.crcBackend = crcBackend
    self.inflater = makeInflater(backend)
    self.outputBuffer = UnsafeMutableRawBufferPointer.allocate(
      byteCount: Self.outputChunkSize, alignment: 16)
    headerCRC = CRC32(backend: crcBackend)
    outputCRC = CRC32(backend: crcBackend)
  }

  deinit {
    outputBuffer.deallocate()
  }

  /// True when `prefix` starts like a gzip member: ID1 0x1f, ID2 0x8b, CM 8.
  public static func looksLikeGzip(_ prefix: Span<UInt8>) -> Bool {
    prefix.count >= 3 && prefix[0] == 0x1f && prefix[1] == 0x8b && prefix[2] == 8
  }

  // MARK: Feeding

  /// Decodes the next chunk of compressed input.
  ///
  /// - Parameters:
  ///   - input: The next bytes of the gzip stream.
  ///   - output: Called with each chunk of decompressed bytes, in order.
  /// - Throws: `GzipError` for bad input; whatever `output` throws.
  public func feed(_ input: Span<UInt8>, output: (Span<UInt8>) throws -> Void) throws {
    try input.withUnsafeBufferPointer { buffer in
      try feed(UnsafeRawBufferPointer(buffer), output: output)
    }
  }

  /// Decodes the next chunk of compressed input.
  public func feed(_ input: [UInt8], output: (Span<UInt8>) throws -> Void) throws {
    try input.withUnsafeBytes { try feed($0, output: output) }
  }

  /// Decodes the next chunk of compressed input.
  public func feed(_ input: UnsafeRawBufferPointer, output: (Span<UInt8>) throws -> Void) throws {
    if let failure { throw failure }
    guard !input.isEmpty else { return }
    do {
      try consume(input, output: output)
    } catch {
      failure = error
      phase = .spent
      throw error
    }
  }

  /// Checks that the input ended at the end of a member and returns what the stream held.
  ///
  /// - Throws: `GzipError` `.empty`, `.truncated` (naming the field the input ended in) or
  ///   `.trailingGarbage`.
  public func finish() throws -> GzipSummary {
    if let failure { throw failure }
    if let finished { return finished }
    let member = summary.memberCount
    var error: GzipError?
    switch phase {
    case .between:
      break
    case .header(let step):
      if position == 0 {
        error = GzipError(.empty, member: 0, field: "ID1", offset: 0)
      } else {
        error = GzipError(.truncated, member: member, field: Self.fieldName(step), offset: position)
      }
    case .deflate:
      error = GzipError(.truncated, member: member, field: "deflate data", offset: position)
    case .trailer(let count):
      error = GzipError(.truncated, member: member, field: count < 4 ? "CRC32" : "ISIZE", offset: position)
    case .garbage:
      error = GzipError(
        .trailingGarbage(count: position - garbageStart), member: member, field: "ID1", offset: garbageStart)
    case .spent:
      break
    }
    if let error {
      failure = error
      phase = .spent
      throw error
    }
    phase = .spent
    summary.compressedSize = position
    finished = summary
    return summary
  }

  // MARK: The state machine

  private func consume(_ input: UnsafeRawBufferPointer, output: (Span<UInt8>) throws -> Void) throws {
    var index = 0
    while index < input.count {
      switch phase {
      case .header(let step):
        if case .extra(let remaining) = step {
          // Skip the extra field in bulk (up to 64 KiB), covering it by the header CRC.
          let n = min(remaining, input.count - index)
          headerCRC.update(UnsafeRawBufferPointer(rebasing: input[index..<(index + n)]))
          index += n
          position += Int64(n)
          advanceHeader(after: .extra(remaining - n))
        } else {
          try headerByte(input[index], step: step)
          index += 1
        }
      case .deflate:
        let rest = UnsafeRawBufferPointer(rebasing: input[index...])
        let (consumed, finished) = try inflate(rest, output: output)
        index += consumed
        if finished {
          phase = .trailer(0)
          trailer.removeAll(keepingCapacity: true)
          let overread = inflater.takeOverread()
          if !overread.isEmpty {
            position -= Int64(overread.count)
            try overread.withUnsafeBytes { try consume($0, output: output) }
          }
        } else if consumed < rest.count {
          throw GzipError(
            .corruptDeflate("the decoder stopped without consuming its input"), member: summary.memberCount,
            field: "deflate data", offset: position)
        }
      case .trailer(let count):
        trailer.append(input[index])
        index += 1
        position += 1
        if count + 1 == 8 {
          try checkTrailer()
        } else {
          phase = .trailer(count + 1)
        }
      case .between:
        let byte = input[index]
        if byte == 0x1f {
          startMember()
          headerCRC.update(UnsafeRawBufferPointer(rebasing: input[index..<(index + 1)]))
          phase = .header(.fixed(1))
          index += 1
          position += 1
        } else {
          garbageStart = position
          phase = .garbage
        }
      case .garbage:
        position += Int64(input.count - index)
        index = input.count
      case .spent:
        throw GzipError(.truncated, member: summary.memberCount, field: "input after finish()", offset: position)
      }
    }
  }

  private func startMember() {
    memberStart = position
    flags = 0
    modificationTime = 0
    extraLength = 0
    headerCRC = CRC32(backend: crcBackend)
    storedHeaderCRC = 0
    fileName.removeAll(keepingCapacity: true)
    hasFileName = false
    outputCRC = CRC32(backend: crcBackend)
    memberOutput = 0
  }

  /// One header byte at `position`.
  private func headerByte(_ byte: UInt8, step: HeaderStep) throws {
    let member = summary.memberCount
    let offset = position
    if case .fixed(0) = step, member == 0 { startMember() }
    func fail(_ kind: GzipError.Kind) -> GzipError {
      GzipError(kind, member: member, field: Self.fieldName(step), offset: offset)
    }
    switch step {
    case .fixed(let i):
      switch i {
      case 0:
        guard byte == 0x1f else { throw fail(.badMagic(found: byte, expected: 0x1f)) }
      case 1:
        guard byte == 0x8b else {
          if member > 0 {
            // Not a member after all: everything from its ID1 on is garbage.
            garbageStart = memberStart
            position += 1
            phase = .garbage
            return
          }
          throw fail(.badMagic(found: byte, expected: 0x8b))
        }
      case 2:
        guard byte == 8 else { throw fail(.unsupportedMethod(byte)) }
      case 3:
        guard byte & Flag.reserved == 0 else { throw fail(.reservedFlags(byte)) }
        flags = byte
      case 4...7:
        modificationTime |= UInt32(byte) << (8 * UInt32(i - 4))
      default:
        break  // XFL, OS
      }
    case .extraLength(let i):
      extraLength |= Int(byte) << (8 * i)
    case .extra:
      break  // handled in bulk by consume
    case .name:
      if byte != 0 {
        if fileName.count < 255 { fileName.append(byte) }
      }
    case .comment:
      break
    case .headerCRC(let i):
      storedHeaderCRC |= UInt16(byte) << (8 * UInt16(i))
    }
    if case .headerCRC = step {
    } else {
      withUnsafeBytes(of: byte) { headerCRC.update($0) }
    }
    position += 1
    if case .name = step, byte != 0 { return }
    if case .comment = step, byte != 0 { return }
    advanceHeader(after: step)
    if case .deflate = phase, flags & Flag.headerCRC != 0 {
      let computed = UInt16(truncatingIfNeeded: headerCRC.finalize())
      guard computed == storedHeaderCRC else {
        throw GzipError(
          .headerCRCMismatch(stored: storedHeaderCRC, computed: computed), member: member, field: "CRC16",
          offset: position - 2)
      }
    }
  }

  /// Moves to the header field after `step` has been completed (or partly skipped).
  private func advanceHeader(after step: HeaderStep) {
    var next: HeaderStep?
    switch step {
    case .fixed(let i) where i < 9:
      next = .fixed(i + 1)
    case .extraLength(0):
      next = .extraLength(1)
    case .extra(let remaining) where remaining > 0:
      next = .extra(remaining)
    default:
      next = nil
    }
    if next == nil {
      // The order of the optional fields is FEXTRA, FNAME, FCOMMENT, FHCRC.
      var candidates: [HeaderStep] = []
      switch step {
      case .fixed:
        candidates = [.extraLength(0), .name, .comment, .headerCRC(0)]
      case .extraLength:
        next = extraLength > 0 ? .extra(extraLength) : nil
        candidates = [.name, .comment, .headerCRC(0)]
      case .extra:
        candidates = [.name, .comment, .headerCRC(0)]
      case .name:
        hasFileName = true
        candidates = [.comment, .headerCRC(0)]
      case .comment:
        candidates = [.headerCRC(0)]
      case .headerCRC(0):
        next = .headerCRC(1)
      case .headerCRC:
        candidates = []
      }
      if next == nil {
        for candidate in candidates {
          switch candidate {
          case .extraLength where flags & Flag.extra != 0,
            .name where flags & Flag.name != 0,
            .comment where flags & Flag.comment != 0,
            .headerCRC where flags & Flag.headerCRC != 0:
            next = candidate
          default:
            continue
          }
          break
        }
      }
    }
    if let next {
      phase = .header(next)
    } else {
      phase = .deflate
      inflater.reset()
    }
  }

  /// Inflates from `input`, delivering output, until the input is used up, the member's
  /// deflate data ends, or no progress is possible.
  private func inflate(_ input: UnsafeRawBufferPointer, output: (Span<UInt8>) throws -> Void) throws -> (Int, Bool) {
    var consumed = 0
    while true {
      let rest = UnsafeRawBufferPointer(rebasing: input[consumed...])
      let step: InflateStep
      do {
        step = try inflater.inflate(rest, into: outputBuffer)
      } catch {
        // The offset is where the backend stopped reading: at or a few bytes past the bad code.
        throw GzipError(
          .corruptDeflate(error.reason), member: summary.memberCount, field: "deflate data",
          offset: position + Int64(error.consumed))
      }
      consumed += step.consumed
      position += Int64(step.consumed)
      if step.produced > 0 {
        let total = summary.decompressedSize + Int64(step.produced)
        if let maxOutput, total > maxOutput {
          throw GzipError(
            .outputLimitExceeded(limit: maxOutput), member: summary.memberCount, field: "deflate data",
            offset: position)
        }
        let chunk = UnsafeRawBufferPointer(rebasing: outputBuffer[0..<step.produced])
        outputCRC.update(chunk)
        memberOutput += Int64(step.produced)
        summary.decompressedSize = total
        try output(Span(_unsafeElements: chunk.bindMemory(to: UInt8.self)))
      }
      if step.finished { return (consumed, true) }
      if step.consumed == 0 && step.produced == 0 { return (consumed, false) }
    }
  }

  private func checkTrailer() throws {
    let member = summary.memberCount
    let storedCRC = trailer.littleEndianUInt32(at: 0)
    let storedSize = trailer.littleEndianUInt32(at: 4)
    let computedCRC = outputCRC.finalize()
    let computedSize = UInt32(truncatingIfNeeded: memberOutput)
    guard storedCRC == computedCRC else {
      throw GzipError(
        .crcMismatch(stored: storedCRC, computed: computedCRC), member: member, field: "CRC32", offset: position - 8)
    }
    guard storedSize == computedSize else {
      throw GzipError(
        .sizeMismatch(stored: storedSize, computed: computedSize), member: member, field: "ISIZE",
        offset: position - 4)
    }
    if summary.members.count < Self.memberRecordLimit {
      summary.members.append(
        GzipSummary.Member(
          offset: memberStart, compressedSize: position - memberStart, decompressedSize: memberOutput,
          crc32: storedCRC, isize: storedSize, modificationTime: modificationTime,
          fileName: hasFileName ? String(decoding: fileName, as: UTF8.self) : nil))
    }
    summary.memberCount += 1
    phase = .between
  }

  private static func fieldName(_ step: HeaderStep) -> String {
    switch step {
    case .fixed(let i):
      return ["ID1", "ID2", "CM", "FLG", "MTIME", "MTIME", "MTIME", "MTIME", "XFL", "OS"][min(max(i, 0), 9)]
    case .extraLength: return "XLEN"
    case .extra: return "extra field"
    case .name: return "FNAME"
    case .comment: return "FCOMMENT"
    case .headerCRC: return "CRC16"
    }
  }
}

extension Array where Element == UInt8 {
  fileprivate func littleEndianUInt32(at offset: Int) -> UInt32 {
    var value: UInt32 = 0
    for i in 0..<4 where offset + i < count { value |= UInt32(self[offset + i]) << (8 * UInt32(i)) }
    return value
  }
}
