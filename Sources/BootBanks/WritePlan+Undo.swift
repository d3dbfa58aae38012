import DiskFormat
import Foundation
import PartitionTable

/// What `bootbank undo` puts back: the old content of every range a plan writes, saved before
/// the first write.
///
/// The file is a header, one line of JSON (this value) padded with spaces to a whole number of
/// 512-byte blocks, followed by the old bytes of every range in the header's order, raw. The
/// bytes are streamed in and out, so an undo file of a large copy is never held in memory.
public struct UndoRecord: Hashable, Sendable, Codable {
  public static let formatName = "bootbank-undo-2"
  /// The longest header read.
  public static let headerLimit = 16 << 20

  /// One written range: where, how long, the digest of its old bytes (which follow the header)
  /// and of the bytes written over them.
  public struct Range: Hashable, Sendable, Codable {
    public var offset: Int64
    public var lba: UInt64
    public var count: Int
    public var oldSHA256: String
    public var newSHA256: String

    public init(offset: Int64, lba: UInt64, count: Int, oldSHA256: String, newSHA256: String) {
      self.offset = offset
      self.lba = lba
      self.count = count
      self.oldSHA256 = oldSHA256
      self.newSHA256 = newSHA256
    }
  }

  public var format: String
  /// The command whose writes this undoes.
  public var command: String
  public var target: WritePlan.TargetIdentity
  public var ranges: [Range]

  public init(command: String, target: WritePlan.TargetIdentity, ranges: [Range]) {
    format = Self.formatName
    self.command = command
    self.target = target
    self.ranges = ranges
  }

  /// The header's bytes: JSON with sorted keys on one line, padded to whole 512-byte blocks,
  /// ending with a newline.
  public func header() throws -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    var line = Array(try encoder.encode(self))
    let total = (line.count + 1 + 511) / 512 * 512
    line += [UInt8](repeating: 0x20, count: total - line.count - 1) + [0x0A]
    return line
  }

  /// Where each range's old bytes start, counted from the end of the header.
  public var dataOffsets: [Int64] {
    var at: Int64 = 0
    return ranges.map { range in
      defer { at += Int64(range.count) }
      return at
    }
  }

  /// The number of old bytes after the header.
  public var dataCount: Int64 { ranges.reduce(0) { $0 + Int64($1.count) } }

  /// Reads an undo file: its header, and the window of its old bytes.
  ///
  /// - Throws: `WritePlanner.PlanError` naming what is wrong with the file.
  public static func read(from file: any ByteSource, path: String) throws -> (UndoRecord, data: SourceSlice) {
    var head: [UInt8] = []
    var newline: Int?
    while newline == nil, Int64(head.count) < file.byteCount, head.count < headerLimit {
      let n = Int(min(Int64(65536), file.byteCount - Int64(head.count)))
      let piece = try file.read(at: Int64(head.count), count: n)
      newline = piece.firstIndex(of: 0x0A).map { head.count + $0 }
      head += piece
    }
    guard let newline else {
      throw WritePlanner.PlanError(
        "\(path) is not a bootbank undo file: no header line in its first \(min(Int64(headerLimit), file.byteCount)) bytes"
      )
    }
    let record = try decode(Array(head[..<newline]), path: path)
    let start = Int64(newline + 1)
    guard file.byteCount - start == record.dataCount else {
      throw WritePlanner.PlanError(
        "\(path): the header lists \(record.dataCount) bytes of old data, the file holds \(file.byteCount - start) after it"
      )
    }
    return (record, file.slice(start..<file.byteCount))
  }

  /// Reads an undo file's header line.
  ///
  /// - Throws: `WritePlanner.PlanError` naming what is wrong with it.
  public static func decode(_ bytes: [UInt8], path: String) throws -> UndoRecord {
    let record: UndoRecord
    do {
      record = try JSONDecoder().decode(UndoRecord.self, from: Data(bytes))
    } catch let error as DecodingError {
      throw WritePlanner.PlanError("\(path) is not a bootbank undo file: \(Self.describe(error))")
    } catch {
      throw WritePlanner.PlanError("\(path) is not a bootbank undo file: not JSON")
    }
    guard record.format == formatName else {
      throw WritePlanner.PlanError("\(path): undo format \(record.format), this bootbank reads \(formatName)")
    }
    let sectorSize = record.target.sectorSize
    guard sectorSize == 512 || sectorSize == 4096, record.target.sizeBytes >= 0 else {
      throw WritePlanner.PlanError(
        "\(path): target sector size \(sectorSize) and size \(record.target.sizeBytes) are not a device's")
    }
    for range in record.ranges {
      let (end, overflow) = range.offset.addingReportingOverflow(Int64(range.count))
      guard range.offset >= 0, !overflow, range.count > 0, range.count % sectorSize == 0,
        range.offset % Int64(sectorSize) == 0, end <= record.target.sizeBytes
      else {
        throw WritePlanner.PlanError(
          "\(path): the range at byte \(range.offset) (\(range.count) bytes) is not whole sectors inside the target")
      }
    }
    return record
  }

  /// Where a JSON document departs from the undo file's shape, in one line.
  static func describe(_ error: DecodingError) -> String {
    func place(_ path: [any CodingKey]) -> String {
      path.isEmpty
        ? "the top level" : path.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }
    switch error {
    case .keyNotFound(let key, let context): return "\(place(context.codingPath + [key])) is missing"
    case .typeMismatch(_, let context), .valueNotFound(_, let context):
      return "\(place(context.codingPath)) has the wrong type"
    case .dataCorrupted(let context): return "\(place(context.codingPath)) cannot be read (not JSON)"
    @unknown default: return "not the expected JSON"
    }
  }
}

/// Where a run saves its undo record: the header, then the old bytes of every range in order.
/// `commit` returns once all of it is durable; `abandon` drops what was begun.
public protocol UndoSink: AnyObject {
  func begin(_ header: UndoRecord) throws
  func append(_ bytes: [UInt8]) throws
  func commit() throws
  func abandon()
}

/// An undo record kept in memory (small plans, tests); `onCommit` makes it durable.
public final class MemoryUndo: UndoSink {
  public private(set) var record: UndoRecord?
  public private(set) var data: [UInt8] = []
  let onCommit: (MemoryUndo) throws -> Void

  public init(onCommit: @escaping (MemoryUndo) throws -> Void = { _ in }) { self.onCommit = onCommit }

  public func begin(_ header: UndoRecord) throws {
    record = header
    data = []
  }
  public func append(_ bytes: [UInt8]) throws { data += bytes }
  public func commit() throws { try onCommit(self) }
  public func abandon() {
    record = nil
    data = []
  }

  /// The old bytes of range `index` of the record.
  public func old(_ index: Int) -> [UInt8] {
    guard let record, record.ranges.indices.contains(index) else { return [] }
    let start = Int(record.dataOffsets[index])
    return Array(data[start..<(start + record.ranges[index].count)])
  }

  /// The undo file's bytes: header, then the old bytes.
  public func file() throws -> [UInt8] {
    guard let record else { return [] }
    return try record.header() + data
  }
}

extension WritePlanner {
  /// `bootbank undo`: the old bytes of an undo file (its header `record`, its old bytes `data`)
  /// put back, last write first, each range only where it still holds what the command wrote
  /// (a range already holding its old bytes is skipped; one holding anything else refuses the
  /// whole plan, as does old data that does not match its digest).
  public static func undo(
    _ record: UndoRecord, data: any ByteSource, source: any ByteSource, layout: DiskLayout, force: Bool = false
  ) throws -> WritePlan {
    let device = try Device(source, layout: layout)
    if let difference = record.target.difference(from: device.identity) {
      return try refused(
        command: "undo", device: device, "the undo file was written for another target: this one has \(difference)")
    }
    var steps: [WritePlan.Step] = []
    var notes: [String] = []
    for (range, at) in zip(record.ranges, record.dataOffsets).reversed() {
      let old = StreamedBytes(data, offset: at, count: range.count)
      let current = try streamedSHA256(StreamedBytes(source, offset: range.offset, count: range.count))
      if current == range.oldSHA256 {
        notes.append("LBA \(range.lba): already holds its old bytes, not written")
        continue
      }
      guard current == range.newSHA256 else {
        return try refused(
          command: "undo", device: device,
          "LBA \(range.lba) (\(range.count / source.sectorSize) sectors) holds neither what \(record.command) wrote nor what was there before: it changed since, so undoing would overwrite that change"
        )
      }
      guard try streamedSHA256(old) == range.oldSHA256 else {
        return try refused(
          command: "undo", device: device,
          "the undo file is damaged: the old bytes of LBA \(range.lba) do not match their SHA-256 in its header")
      }
      steps.append(
        .copy(
          old, to: range.offset, expectedSHA256: current, newSHA256: range.oldSHA256, sectorSize: source.sectorSize,
          reason: "LBA \(range.lba): the bytes before \(record.command)"))
      steps.append(.barrier("LBA \(range.lba) restored before the next"))
    }
    if steps.isEmpty { notes.append("the target already holds every old range: nothing to write") }
    return try finish(command: "undo", device: device, steps: steps, force: force, notes: notes)
  }
}
