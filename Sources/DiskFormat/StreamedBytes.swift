/// `count` bytes of a source at `offset`: the content of a write too large to hold in memory
/// (file data copied from another bank, an image's range), read when it is written.
///
/// Two values are equal when they name the same source object and the same range.
public struct StreamedBytes: Hashable, Sendable {
  public let source: any ByteSource
  public let offset: Int64
  public let count: Int

  public init(_ source: any ByteSource, offset: Int64, count: Int) {
    self.source = source
    self.offset = offset
    self.count = count
  }

  /// Calls `body` with consecutive pieces of at most `chunk` bytes, in order, each with its
  /// offset from the start of the range.
  public func forEachChunk(_ chunk: Int = 4 << 20, _ body: (Int, [UInt8]) throws -> Void) throws {
    var done = 0
    while done < count {
      let n = min(chunk, count - done)
      try body(done, try source.read(at: offset + Int64(done), count: n))
      done += n
    }
  }

  public static func == (a: StreamedBytes, b: StreamedBytes) -> Bool {
    ObjectIdentifier(a.source) == ObjectIdentifier(b.source) && a.offset == b.offset && a.count == b.count
  }

  public func hash(into hasher: inout Hasher) {
    hasher.combine(ObjectIdentifier(source))
    hasher.combine(offset)
    hasher.combine(count)
  }
}
