import DiskFormat
import Foundation
import PartitionTable

/// The old content of every sector a plan writes, saved before the first write: what
/// `bootbank undo` puts back.
public struct UndoRecord: Hashable, Sendable, Codable {
  public static let formatName = "bootbank-undo-1"

  /// One written range: its old bytes and the digest of the bytes written over them.
  public struct Range: Hashable, Sendable, Codable {
    public var offset: Int64
    public var lba: UInt64
    /// The bytes before the write (base64 in the file).
    public var old: Data
    /// SHA-256 of the bytes the command wrote there.
    public var newSHA256: String
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

  /// The file's bytes (JSON, sorted keys).
  public func encoded() throws -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    return Array(try encoder.encode(self)) + [0x0A]
  }

  /// Reads an undo file's bytes.
  ///
  /// - Throws: `WritePlanner.PlanError` naming what is wrong with the file.
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
      let (end, overflow) = range.offset.addingReportingOverflow(Int64(range.old.count))
      guard range.offset >= 0, !overflow, !range.old.isEmpty, range.old.count % sectorSize == 0,
        range.offset % Int64(sectorSize) == 0, end <= record.target.sizeBytes
      else {
        throw WritePlanner.PlanError(
          "\(path): the range at byte \(range.offset) (\(range.old.count) bytes) is not whole sectors inside the target"
        )
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
    case .dataCorrupted(let context): return "\(place(context.codingPath)) cannot be read (not JSON, or bad base64)"
    @unknown default: return "not the expected JSON"
    }
  }
}

extension WritePlanner {
  /// `bootbank undo`: the old bytes of an undo file put back, last write first, each range
  /// only where it still holds what the command wrote (a range already holding its old bytes is
  /// skipped; one holding anything else refuses the whole plan).
  public static func undo(
    _ record: UndoRecord, source: any ByteSource, layout: DiskLayout, force: Bool = false
  ) throws -> WritePlan {
    let device = try Device(source, layout: layout)
    if let difference = record.target.difference(from: device.identity) {
      return try refused(
        command: "undo", device: device, "the undo file was written for another target: this one has \(difference)")
    }
    var steps: [WritePlan.Step] = []
    var notes: [String] = []
    for range in record.ranges.reversed() {
      let old = [UInt8](range.old)
      let current = try source.read(at: range.offset, count: old.count)
      if current == old {
        notes.append("LBA \(range.lba): already holds its old bytes, not written")
        continue
      }
      guard sha256Hex(current) == range.newSHA256 else {
        return try refused(
          command: "undo", device: device,
          "LBA \(range.lba) (\(old.count / source.sectorSize) sectors) holds neither what \(record.command) wrote nor what was there before: it changed since, so undoing would overwrite that change"
        )
      }
      steps.append(
        .write(
          offset: range.offset, old: current, new: old, sectorSize: source.sectorSize,
          reason: "LBA \(range.lba): the bytes before \(record.command)"))
      steps.append(.barrier("LBA \(range.lba) restored before the next"))
    }
    if steps.isEmpty { notes.append("the target already holds every old range: nothing to write") }
    return try finish(command: "undo", device: device, steps: steps, force: force, notes: notes)
  }
}
