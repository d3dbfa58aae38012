import Checksum
import DiskFormat
import Foundation

/// Carries out a `WritePlan` on a device: check, undo, write, read back.
///
/// 1. Every write's expected old bytes are read again from the medium, in bounded pieces, and
///    their digest compared with the plan's: a device that changed since the plan was made is
///    refused before any write. The same pass hands those old bytes to the undo sink, which
///    must have them durable when `commit` returns; a failure refuses.
/// 2. The steps run in order: writes (held bytes, or streamed from their source in pieces,
///    their digest checked against the plan's), and barriers between them.
/// 3. After the last barrier every written range is read back from the medium and compared.
public enum WritePlanExecutor {
  /// How a run ended.
  public enum Outcome: Hashable, Sendable {
    /// Written, and every range read back as planned.
    case written
    /// Written, but a range read back differs (or could not be read).
    case readBackFailed
    /// Nothing was written.
    case refused
    /// Stopped part-way: some steps were done.
    case stopped
  }

  public struct Report: Hashable, Sendable {
    public var outcome: Outcome
    /// What went wrong (refusal, the error that stopped it, each read-back mismatch).
    public var problems: [String]
    /// Indices into `plan.steps` of the writes issued (the last one may be partial when stopped).
    public var writesIssued: [Int]
    /// The undo record saved (nil when refused before it).
    public var undo: UndoRecord?
  }

  /// The largest piece read or written at once.
  static let chunk = 4 << 20

  /// A range the plan writes: its first expectation and its last write.
  struct Planned {
    var offset: Int64
    var count: Int
    var oldSHA256: String
    var last: WritePlan.Step
  }

  /// Runs `plan`, with the undo record kept in memory and handed to `saveUndo` (which must
  /// return only once it is durable) before the first write: for plans of a few sectors, and tests.
  public static func run<Device: ByteSource & ByteSink>(
    _ plan: WritePlan, on device: Device, saveUndo: @escaping (MemoryUndo) throws -> Void
  ) -> Report {
    run(plan, on: device, undo: MemoryUndo(onCommit: saveUndo))
  }

  public static func run<Device: ByteSource & ByteSink>(
    _ plan: WritePlan, on device: Device, undo: some UndoSink
  ) -> Report {
    func refuse(_ why: String) -> Report { Report(outcome: .refused, problems: [why], writesIssued: [], undo: nil) }
    if let refusal = plan.refusal { return refuse(refusal) }
    guard device.byteCount == plan.target.sizeBytes, device.sectorSize == plan.target.sectorSize else {
      return refuse(
        "\(device.name) is \(device.byteCount) bytes in \(device.sectorSize)-byte sectors; the plan was made for \(plan.target.sizeBytes) bytes in \(plan.target.sectorSize)-byte sectors"
      )
    }
    guard !plan.isEmpty else { return Report(outcome: .written, problems: [], writesIssued: [], undo: nil) }

    let ranges: [Planned]
    switch plannedRanges(plan) {
    case .success(let found): ranges = found
    case .failure(let why): return refuse(why.message)
    }

    // 1. The device still holds what the plan expects, and the undo sink has those bytes.
    let header = UndoRecord(
      command: plan.command, target: plan.target,
      ranges: ranges.map {
        UndoRecord.Range(
          offset: $0.offset, lba: UInt64($0.offset) / UInt64(device.sectorSize), count: $0.count,
          oldSHA256: $0.oldSHA256, newSHA256: $0.last.newSHA256 ?? "")
      })
    if let why = saveOldBytes(header, from: device, to: undo) { return refuse(why) }

    // 2. The steps, in order, ending with a barrier.
    var issued: [Int] = []
    var needsBarrier = false
    for (index, step) in plan.steps.enumerated() {
      do {
        switch step.kind {
        case .write:
          issued.append(index)
          try write(step, on: device)
          needsBarrier = true
        case .barrier:
          try device.barrier()
          needsBarrier = false
        }
      } catch {
        return Report(
          outcome: .stopped, problems: ["step \(index + 1) (\(step.reason)): \(error)"], writesIssued: issued,
          undo: header)
      }
    }
    if needsBarrier {
      do { try device.barrier() } catch {
        return Report(outcome: .stopped, problems: ["the final barrier: \(error)"], writesIssued: issued, undo: header)
      }
    }

    // 3. Read back from the medium: every range holds the last bytes the plan put there.
    let problems = ranges.compactMap { readBackProblem($0, on: device) }
    return Report(
      outcome: problems.isEmpty ? .written : .readBackFailed, problems: problems, writesIssued: issued, undo: header)
  }

  struct Inconsistent: Error { var message: String }

  /// The ranges the plan writes, in the order of their first write. A range written twice must
  /// be held both times, of one size, the second expecting what the first leaves; ranges that
  /// overlap otherwise make the plan inconsistent.
  static func plannedRanges(_ plan: WritePlan) -> Result<[Planned], Inconsistent> {
    var order: [Int64] = []
    var byOffset: [Int64: Planned] = [:]
    for step in plan.writes {
      guard let offset = step.offset, let expected = step.expectedSHA256, step.newSHA256 != nil else {
        return .failure(Inconsistent(message: "a write step has no offset or digest"))
      }
      if var earlier = byOffset[offset] {
        guard earlier.last.streamed == nil, step.streamed == nil, earlier.count == step.byteCount,
          earlier.last.newSHA256 == expected
        else {
          return .failure(
            Inconsistent(
              message:
                "the plan is inconsistent: LBA \(step.lba ?? 0) is written twice with different expectations"))
        }
        earlier.last = step
        byOffset[offset] = earlier
        continue
      }
      byOffset[offset] = Planned(offset: offset, count: step.byteCount, oldSHA256: expected, last: step)
      order.append(offset)
    }
    let sorted = byOffset.values.sorted { $0.offset < $1.offset }
    for (a, b) in zip(sorted, sorted.dropFirst()) where a.offset + Int64(a.count) > b.offset {
      return .failure(
        Inconsistent(
          message: "the plan is inconsistent: LBA \(b.last.lba ?? 0) overlaps another write of a different range"))
    }
    return .success(order.compactMap { byOffset[$0] })
  }

  /// Reads every range's old bytes from the medium, checks their digest against the plan's
  /// and hands them to `undo`; the reason to refuse, or nil once the undo is committed.
  static func saveOldBytes<Device: ByteSink>(_ header: UndoRecord, from device: Device, to undo: some UndoSink)
    -> String?
  {
    do { try undo.begin(header) } catch { return "cannot save the undo file: \(error)" }
    for range in header.ranges {
      var hasher = SHA256Hasher()
      var done = 0
      while done < range.count {
        let n = min(chunk, range.count - done)
        let piece: [UInt8]
        do { piece = try device.readBack(at: range.offset + Int64(done), count: n) } catch {
          undo.abandon()
          return "cannot read LBA \(range.lba) to check it: \(error)"
        }
        hasher.update(piece)
        do { try undo.append(piece) } catch {
          undo.abandon()
          return "cannot save the undo file: \(error)"
        }
        done += n
      }
      let found = SHA256Hasher.hex(hasher.finalize())
      guard found == range.oldSHA256 else {
        undo.abandon()
        return
          "LBA \(range.lba) changed since the plan was made (SHA-256 \(found), the plan expects \(range.oldSHA256)): nothing written"
      }
    }
    do { try undo.commit() } catch {
      undo.abandon()
      return "cannot save the undo file: \(error)"
    }
    return nil
  }

  struct SourceChanged: Error, CustomStringConvertible {
    var description: String
  }

  /// One write step: held bytes at once, streamed content in pieces with its digest checked.
  static func write<Device: ByteSink>(_ step: WritePlan.Step, on device: Device) throws {
    let offset = step.offset ?? -1
    guard let streamed = step.streamed else {
      try device.write(step.bytes, at: offset)
      return
    }
    var hasher = SHA256Hasher()
    try streamed.forEachChunk(chunk) { at, piece in
      hasher.update(piece)
      try device.write(piece, at: offset + Int64(at))
    }
    let written = SHA256Hasher.hex(hasher.finalize())
    guard written == step.newSHA256 else {
      throw SourceChanged(
        description:
          "\(streamed.source.name) at byte \(streamed.offset) changed since the plan was made (SHA-256 \(written), the plan expects \(step.newSHA256 ?? "?"))"
      )
    }
  }

  /// Why a range read back from the medium is not what the plan put there, or nil.
  static func readBackProblem<Device: ByteSink>(_ range: Planned, on device: Device) -> String? {
    let lba = range.last.lba ?? 0
    do {
      if range.last.streamed == nil {
        let want = range.last.bytes
        let back = try device.readBack(at: range.offset, count: want.count)
        guard back != want else { return nil }
        let first = zip(back, want).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? 0
        return "read-back of LBA \(lba) differs from what was written, first at byte \(first) of the range"
      }
      var hasher = SHA256Hasher()
      var done = 0
      while done < range.count {
        let n = min(chunk, range.count - done)
        hasher.update(try device.readBack(at: range.offset + Int64(done), count: n))
        done += n
      }
      let back = SHA256Hasher.hex(hasher.finalize())
      guard back != range.last.newSHA256 else { return nil }
      return
        "read-back of LBA \(lba) (\(range.count / device.sectorSize) sectors) differs from what was written (SHA-256 \(back), written \(range.last.newSHA256 ?? "?"))"
    } catch {
      return "read-back of LBA \(lba) failed: \(error)"
    }
  }
}
