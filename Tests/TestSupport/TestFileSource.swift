import DiskFormat
import Foundation

/// A read-only `ByteSource` over a file, through `FileHandle`: for tests that read fixture and
/// corpus images without depending on `DiskIO`.
public final class TestFileSource: ByteSource, @unchecked Sendable {
  public let name: String
  public let byteCount: Int64
  public let sectorSize: Int
  private let handle: FileHandle
  private let lock = NSLock()

  public init(path: String, sectorSize: Int = 512) throws {
    handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
    byteCount = Int64(try handle.seekToEnd())
    name = path
    self.sectorSize = sectorSize
  }

  deinit { try? handle.close() }

  public func withBytes<R>(in range: Range<Int64>, _ body: (Span<UInt8>) throws -> R) throws -> R {
    guard range.lowerBound >= 0, range.upperBound <= byteCount else {
      throw ReadError(
        source: name, offset: range.lowerBound, count: Int(range.upperBound &- range.lowerBound),
        sectorSize: sectorSize, kind: .outOfRange(size: byteCount))
    }
    let data: Data = try lock.withLock {
      try handle.seek(toOffset: UInt64(range.lowerBound))
      return try handle.read(upToCount: Int(range.upperBound - range.lowerBound)) ?? Data()
    }
    guard data.count == range.count else {
      throw ReadError(
        source: name, offset: range.lowerBound, count: range.count, sectorSize: sectorSize,
        kind: .shortRead(got: data.count))
    }
    let bytes = [UInt8](data)
    return try body(bytes.span)
  }
}
