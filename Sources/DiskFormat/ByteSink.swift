/// Writable bytes of an image or a block device, beside `ByteSource`.
///
/// Writes are whole logical sectors at sector-aligned offsets, inside the sink (a sink never
/// grows). Nothing written is known to be on the medium until `barrier()` returns; the order of
/// writes between two barriers is not kept by the medium (a power cut may keep any subset of
/// them, and a multi-sector write may be torn between sectors).
public protocol ByteSink: AnyObject, Sendable {
  /// A name for messages: the path of the image or device.
  var name: String { get }
  /// Size in bytes; writes never go past it.
  var byteCount: Int64 { get }
  /// Logical sector size in bytes (512 or 4096): the unit of every write.
  var sectorSize: Int { get }
  /// Writes `bytes` at `offset`.
  ///
  /// - Throws: `WriteError` when the write is not whole sectors inside the sink, or fails
  ///   (short, or an I/O error), naming the first LBA not written.
  func write(_ bytes: [UInt8], at offset: Int64) throws
  /// Returns once every earlier write is on the medium (`fdatasync`).
  func barrier() throws
  /// `count` bytes at `offset` as the medium holds them, not as a cache remembers them.
  func readBack(at offset: Int64, count: Int) throws -> [UInt8]
}

/// Why bytes could not be written.
public struct WriteError: Error, Hashable, Sendable, CustomStringConvertible {
  public enum Kind: Hashable, Sendable {
    /// The range runs past the end of a sink of `size` bytes (a write never extends).
    case outOfRange(size: Int64)
    /// The offset or the length is not a whole number of logical sectors.
    case misaligned
    /// The medium took only `written` bytes.
    case shortWrite(written: Int)
    /// The medium reported an error (errno and its text).
    case io(errno: Int32, message: String)
    /// The barrier (`fdatasync`) failed: earlier writes may not be on the medium.
    case barrierFailed(errno: Int32, message: String)
  }
  public var sink: String
  public var offset: Int64
  public var count: Int
  public var sectorSize: Int
  public var kind: Kind

  public init(sink: String, offset: Int64, count: Int, sectorSize: Int, kind: Kind) {
    self.sink = sink
    self.offset = offset
    self.count = count
    self.sectorSize = sectorSize
    self.kind = kind
  }

  /// The logical block the failure is at (for a short write, the first block not written).
  public var lba: UInt64 {
    var at = max(0, offset)
    if case .shortWrite(let written) = kind { at &+= Int64(written) }
    return UInt64(at) / UInt64(max(1, sectorSize))
  }

  public var description: String {
    let place = "offset 0x\(String(offset, radix: 16)) (LBA \(UInt64(max(0, offset)) / UInt64(max(1, sectorSize))))"
    switch kind {
    case .outOfRange(let size):
      return "\(sink): refusing to write \(count) bytes at \(place): the target ends at \(size) bytes"
    case .misaligned:
      return "\(sink): refusing to write \(count) bytes at \(place): not whole \(sectorSize)-byte sectors"
    case .shortWrite(let written):
      return "\(sink): short write at LBA \(lba): \(written) of \(count) bytes written at \(place)"
    case .io(let errno, let message):
      return "\(sink): write error at LBA \(lba), \(count) bytes at \(place): \(message) (errno \(errno))"
    case .barrierFailed(let errno, let message):
      return "\(sink): fdatasync failed: \(message) (errno \(errno)); earlier writes may not be on the medium"
    }
  }
}

extension ByteSink {
  /// Checks that `count` bytes at `offset` are whole sectors inside the sink.
  public func checkWritable(at offset: Int64, count: Int) throws(WriteError) {
    let size = Int64(sectorSize)
    guard offset >= 0, count > 0, offset % size == 0, Int64(count) % size == 0 else {
      throw WriteError(sink: name, offset: offset, count: count, sectorSize: sectorSize, kind: .misaligned)
    }
    let (end, overflow) = offset.addingReportingOverflow(Int64(count))
    guard !overflow, end <= byteCount else {
      throw WriteError(
        sink: name, offset: offset, count: count, sectorSize: sectorSize, kind: .outOfRange(size: byteCount))
    }
  }
}

/// A source that can also be written: a whole device or a window of one.
public typealias ByteDevice = ByteSource & ByteSink

/// A window `range` of a device (a partition), addressed from zero, that refuses every read
/// and write outside its range: a bank operation given a partition cannot touch its neighbours.
public final class PartitionWindow<Base: ByteSource & ByteSink>: ByteSource, ByteSink {
  public let base: Base
  public let range: Range<Int64>

  /// - Precondition-free: a `range` that is not inside `base` or not sector-aligned makes every
  ///   access fail, never reach outside.
  public init(base: Base, range: Range<Int64>) {
    self.base = base
    self.range = range
  }

  public var name: String { base.name }
  public var byteCount: Int64 { range.upperBound &- range.lowerBound }
  public var sectorSize: Int { base.sectorSize }

  private var isSound: Bool {
    range.lowerBound >= 0 && range.upperBound <= base.byteCount && range.lowerBound % Int64(sectorSize) == 0
  }

  private func absolute(_ offset: Int64, _ count: Int) -> Range<Int64>? {
    let (end, overflow) = offset.addingReportingOverflow(Int64(count))
    guard isSound, !overflow, offset >= 0, count >= 0, end <= byteCount else { return nil }
    return (range.lowerBound + offset)..<(range.lowerBound + end)
  }

  public func withBytes<R>(in sub: Range<Int64>, _ body: (Span<UInt8>) throws -> R) throws -> R {
    guard let inside = absolute(sub.lowerBound, Int(clamping: sub.upperBound &- sub.lowerBound)) else {
      throw ReadError(
        source: name, offset: range.lowerBound &+ sub.lowerBound,
        count: Int(clamping: sub.upperBound &- sub.lowerBound),
        sectorSize: sectorSize, kind: .outOfRange(size: range.upperBound))
    }
    return try base.withBytes(in: inside, body)
  }

  public func write(_ bytes: [UInt8], at offset: Int64) throws {
    guard let inside = absolute(offset, bytes.count) else {
      throw WriteError(
        sink: name, offset: range.lowerBound &+ offset, count: bytes.count, sectorSize: sectorSize,
        kind: .outOfRange(size: range.upperBound))
    }
    try base.write(bytes, at: inside.lowerBound)
  }

  public func barrier() throws { try base.barrier() }

  public func readBack(at offset: Int64, count: Int) throws -> [UInt8] {
    guard let inside = absolute(offset, count) else {
      throw ReadError(
        source: name, offset: range.lowerBound &+ offset, count: count, sectorSize: sectorSize,
        kind: .outOfRange(size: range.upperBound))
    }
    return try base.readBack(at: inside.lowerBound, count: count)
  }
}
