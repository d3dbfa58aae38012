import Synchronization

/// A device made of a read-only base and the sectors written over it, kept in memory (streamed
/// content is kept as a reference to its source, not copied).
///
/// Used to see a planned write before it is made (the loader replayed on the bytes it would
/// leave), and in tests as a recording sink: every write and barrier is logged in order, and a
/// write can be made to fail to stop a run part-way.
public final class OverlayDisk: ByteSource, ByteSink {
  /// One thing done to the disk.
  public enum Event: Hashable, Sendable {
    case write(offset: Int64, bytes: [UInt8])
    case barrier
  }

  public let base: any ByteSource
  private let state: Mutex<State>

  struct State {
    /// Written sectors by sector index.
    var sectors: [Int64: [UInt8]] = [:]
    /// Streamed content applied over the base, in the order applied (a later one wins; a
    /// sector written in `sectors` after it wins over it).
    var extents: [(at: Int64, content: StreamedBytes)] = []
    var log: [Event] = []
    var writesLeft: Int?
  }

  /// - Parameter failingAfter: when set, that many writes succeed and the next one fails with an I/O error.
  public init(base: any ByteSource, failingAfter: Int? = nil) {
    self.base = base
    state = Mutex(State(writesLeft: failingAfter))
  }

  public var name: String { base.name }
  public var byteCount: Int64 { base.byteCount }
  public var sectorSize: Int { base.sectorSize }

  /// Every write and barrier so far, in order.
  public var log: [Event] { state.withLock { $0.log } }

  /// The bytes written over the base, by absolute offset of each sector.
  public var writtenSectors: [Int64: [UInt8]] {
    state.withLock { s in Dictionary(uniqueKeysWithValues: s.sectors.map { ($0.key * Int64(sectorSize), $0.value) }) }
  }

  public func withBytes<R>(in range: Range<Int64>, _ body: (Span<UInt8>) throws -> R) throws -> R {
    let (patches, extents) = state.withLock { ($0.sectors, $0.extents) }
    if patches.isEmpty && extents.isEmpty { return try base.withBytes(in: range, body) }
    var bytes = try base.read(range)
    for (at, content) in extents {
      let from = max(at, range.lowerBound)
      let to = min(at + Int64(content.count), range.upperBound)
      guard from < to else { continue }
      let piece = try content.source.read(at: content.offset + (from - at), count: Int(to - from))
      bytes.replaceSubrange(Int(from - range.lowerBound)..<Int(to - range.lowerBound), with: piece)
    }
    let size = Int64(sectorSize)
    for (index, sector) in patches {
      let start = index * size
      let from = max(start, range.lowerBound)
      let to = min(start + size, range.upperBound)
      guard from < to else { continue }
      for offset in from..<to { bytes[Int(offset - range.lowerBound)] = sector[Int(offset - start)] }
    }
    return try body(bytes.span)
  }

  public func write(_ bytes: [UInt8], at offset: Int64) throws {
    try checkWritable(at: offset, count: bytes.count)
    let size = sectorSize
    try state.withLock { s throws(WriteError) in
      if let left = s.writesLeft {
        guard left > 0 else {
          throw WriteError(
            sink: name, offset: offset, count: bytes.count, sectorSize: size, kind: .io(errno: 5, message: "injected"))
        }
        s.writesLeft = left - 1
      }
      for k in 0..<(bytes.count / size) {
        s.sectors[offset / Int64(size) + Int64(k)] = Array(bytes[(k * size)..<((k + 1) * size)])
      }
      s.log.append(.write(offset: offset, bytes: bytes))
    }
  }

  public func barrier() throws { state.withLock { $0.log.append(.barrier) } }

  public func readBack(at offset: Int64, count: Int) throws -> [UInt8] { try read(at: offset, count: count) }

  /// Applies `bytes` at `offset` without logging it (to build a state from a recording).
  public func apply(_ bytes: [UInt8], at offset: Int64) {
    let size = sectorSize
    state.withLock { s in
      for k in 0..<(bytes.count / size) {
        s.sectors[offset / Int64(size) + Int64(k)] = Array(bytes[(k * size)..<((k + 1) * size)])
      }
    }
  }

  /// Applies streamed content at `offset` without logging it or reading it: reads of the range
  /// read `content`'s source.
  public func apply(_ content: StreamedBytes, at offset: Int64) {
    let size = Int64(sectorSize)
    state.withLock { s in
      let first = offset / size
      let end = (offset + Int64(content.count) + size - 1) / size
      if !s.sectors.isEmpty {
        for index in s.sectors.keys where index >= first && index < end { s.sectors[index] = nil }
      }
      s.extents.append((offset, content))
    }
  }
}
