/// Random-access bytes of an image, a block device, or a part of either.
///
/// Parsers and bank operations read only through this protocol, so each of them can be
/// tested on in-memory bytes (`MemoryImage`). `DiskIO` provides the file and device sources.
public protocol ByteSource: AnyObject, Sendable {
  /// A name for messages: the path of the image or device.
  var name: String { get }
  /// Size in bytes.
  var byteCount: Int64 { get }
  /// Logical sector size in bytes (512 or 4096).
  var sectorSize: Int { get }
  /// Calls `body` with the bytes in `range`.
  ///
  /// - Throws: `ReadError` when the range is not inside the source or the medium fails;
  ///   whatever `body` throws.
  func withBytes<R>(in range: Range<Int64>, _ body: (Span<UInt8>) throws -> R) throws -> R
}

extension ByteSource {
  /// The bytes in `range`, copied.
  public func read(_ range: Range<Int64>) throws -> [UInt8] {
    // One copy of the whole range (a byte-by-byte loop cost a bounds check per byte).
    try withBytes(in: range) { span in span.withUnsafeBufferPointer { Array($0) } }
  }

  /// `count` bytes at `offset`, copied.
  public func read(at offset: Int64, count: Int) throws -> [UInt8] {
    let (end, overflow) = offset.addingReportingOverflow(Int64(count))
    guard !overflow, offset >= 0, count >= 0 else {
      throw ReadError(
        source: name, offset: offset, count: count, sectorSize: sectorSize, kind: .outOfRange(size: byteCount))
    }
    return try read(offset..<end)
  }

  /// Logical block `lba` (and `count - 1` following blocks).
  public func readSectors(lba: UInt64, count: Int = 1) throws -> [UInt8] {
    let (start, o1) = lba.multipliedReportingOverflow(by: UInt64(sectorSize))
    let (length, o2) = UInt64(count).multipliedReportingOverflow(by: UInt64(sectorSize))
    guard !o1, !o2, let s = Int64(exactly: start), let n = Int(exactly: length) else {
      throw ReadError(
        source: name, offset: Int64.max, count: count, sectorSize: sectorSize, kind: .outOfRange(size: byteCount))
    }
    return try read(at: s, count: n)
  }

  /// Number of whole logical sectors.
  public var sectorCount: UInt64 { UInt64(byteCount / Int64(sectorSize)) }

  /// The absolute offset of byte 0 of this source in the device it is a window of (0 for a
  /// whole device), following nested slices.
  public var absoluteBaseOffset: Int64 {
    var base: Int64 = 0
    var inner: any ByteSource = self
    var depth = 0
    while let slice = inner as? SourceSlice, depth < 64 {
      base &+= slice.baseOffset
      inner = slice.base
      depth += 1
    }
    return base
  }

  /// A window of this source, addressed from zero.
  public func slice(_ range: Range<Int64>) -> SourceSlice {
    SourceSlice(base: self, range: range)
  }
}

/// Why bytes could not be read.
public struct ReadError: Error, Hashable, Sendable, CustomStringConvertible {
  public enum Kind: Hashable, Sendable {
    /// The range runs past the end of a source of `size` bytes.
    case outOfRange(size: Int64)
    /// The medium reported an error (errno and its text).
    case io(errno: Int32, message: String)
    /// The medium returned fewer bytes than asked for.
    case shortRead(got: Int)
  }
  public var source: String
  public var offset: Int64
  public var count: Int
  public var sectorSize: Int
  public var kind: Kind

  public init(source: String, offset: Int64, count: Int, sectorSize: Int, kind: Kind) {
    self.source = source
    self.offset = offset
    self.count = count
    self.sectorSize = sectorSize
    self.kind = kind
  }

  /// First logical block affected.
  public var firstLBA: UInt64 { UInt64(max(0, offset)) / UInt64(max(1, sectorSize)) }
  /// Last logical block affected.
  public var lastLBA: UInt64 {
    let (end, overflow) = max(0, offset).addingReportingOverflow(Int64(max(1, count)) - 1)
    return UInt64(overflow ? Int64.max : end) / UInt64(max(1, sectorSize))
  }

  public var description: String {
    let place = "offset 0x\(String(offset, radix: 16)) (LBA \(firstLBA)\(lastLBA > firstLBA ? "-\(lastLBA)" : ""))"
    switch kind {
    case .outOfRange(let size):
      return "\(source): cannot read \(count) bytes at \(place): the source ends at \(size) bytes"
    case .io(let errno, let message):
      return "\(source): read error at \(place), \(count) bytes: \(message) (errno \(errno))"
    case .shortRead(let got):
      return "\(source): read \(got) of \(count) bytes at \(place)"
    }
  }
}

/// A window `range` of another source, addressed from zero (a partition, say).
public final class SourceSlice: ByteSource {
  public let base: any ByteSource
  public let range: Range<Int64>

  public init(base: any ByteSource, range: Range<Int64>) {
    self.base = base
    self.range = range
  }

  public var name: String { base.name }
  public var byteCount: Int64 { range.upperBound &- range.lowerBound }
  public var sectorSize: Int { base.sectorSize }
  /// Absolute offset of byte 0 of this slice in the base source.
  public var baseOffset: Int64 { range.lowerBound }

  public func withBytes<R>(in sub: Range<Int64>, _ body: (Span<UInt8>) throws -> R) throws -> R {
    guard sub.lowerBound >= 0, sub.upperBound <= byteCount else {
      throw ReadError(
        source: name, offset: range.lowerBound &+ sub.lowerBound, count: Int(sub.upperBound &- sub.lowerBound),
        sectorSize: sectorSize, kind: .outOfRange(size: range.upperBound))
    }
    return try base.withBytes(in: (range.lowerBound + sub.lowerBound)..<(range.lowerBound + sub.upperBound), body)
  }
}

/// An image held in memory: for tests, and for small images built in code.
public final class MemoryImage: ByteSource, @unchecked Sendable {
  public let bytes: [UInt8]
  public let name: String
  public let sectorSize: Int

  public init(_ bytes: [UInt8], name: String = "memory", sectorSize: Int = 512) {
    self.bytes = bytes
    self.name = name
    self.sectorSize = sectorSize
  }

  public var byteCount: Int64 { Int64(bytes.count) }

  public func withBytes<R>(in range: Range<Int64>, _ body: (Span<UInt8>) throws -> R) throws -> R {
    guard range.lowerBound >= 0, range.upperBound <= byteCount else {
      throw ReadError(
        source: name, offset: range.lowerBound, count: Int(range.upperBound &- range.lowerBound),
        sectorSize: sectorSize,
        kind: .outOfRange(size: byteCount))
    }
    return try bytes.withUnsafeBufferPointer { buffer in
      let window = UnsafeBufferPointer(rebasing: buffer[Int(range.lowerBound)..<Int(range.upperBound)])
      return try body(Span(_unsafeElements: window))
    }
  }
}
