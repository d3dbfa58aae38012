import DiskFormat
import Foundation

/// Carries out a `WritePlan` on a device: check, undo, write, read back.
///
/// 1. Every write's expected old bytes are read again from the medium and their digest compared
///    with the plan's: a device that changed since the plan was made is refused before any write.
/// 2. The undo record (target identity, then the old bytes of every range about to change) is
///    handed to `saveUndo`, which must return only once it is durable; a failure refuses.
/// 3. The steps run in order: writes, and barriers between them.
/// 4. After the last barrier every written range is read back from the medium and compared.
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

  public static func run<Device: ByteSource & ByteSink>(
    _ plan: WritePlan, on device: Device, saveUndo: (UndoRecord) throws -> Void
  ) -> Report {
    func refuse(_ why: String) -> Report { Report(outcome: .refused, problems: [why], writesIssued: [], undo: nil) }
    if let refusal = plan.refusal { return refuse(refusal) }
    guard device.byteCount == plan.target.sizeBytes, device.sectorSize == plan.target.sectorSize else {
      return refuse(
        "\(device.name) is \(device.byteCount) bytes in \(device.sectorSize)-byte sectors; the plan was made for \(plan.target.sizeBytes) bytes in \(plan.target.sectorSize)-byte sectors"
      )
    }
    guard !plan.isEmpty else { return Report(outcome: .written, problems: [], writesIssued: [], undo: nil) }

    // 1. The device still holds what the plan expects. A range the plan writes twice is checked
    //    on the device once, before its first write; its later writes must expect what the
    //    earlier one leaves.
    var ranges: [UndoRecord.Range] = []
    var planned: [Int64: [UInt8]] = [:]
    for step in plan.writes {
      guard let offset = step.offset, let expected = step.expectedSHA256, step.newSHA256 != nil else {
        return refuse("a write step has no offset or digest")
      }
      if let earlier = planned[offset] {
        guard earlier.count == step.bytes.count, sha256Hex(earlier) == expected else {
          return refuse("the plan is inconsistent: LBA \(step.lba ?? 0) is written twice with different expectations")
        }
        planned[offset] = step.bytes
        continue
      }
      let end = offset + Int64(step.bytes.count)
      if planned.contains(where: { $0.key < end && $0.key + Int64($0.value.count) > offset }) {
        return refuse("the plan is inconsistent: LBA \(step.lba ?? 0) overlaps another write of a different range")
      }
      do {
        let current = try device.readBack(at: offset, count: step.bytes.count)
        guard sha256Hex(current) == expected else {
          return refuse(
            "LBA \(step.lba ?? 0) changed since the plan was made (SHA-256 \(sha256Hex(current)), the plan expects \(expected)): nothing written"
          )
        }
        ranges.append(UndoRecord.Range(offset: offset, lba: step.lba ?? 0, old: .init(current), newSHA256: ""))
        planned[offset] = step.bytes
      } catch {
        return refuse("cannot read LBA \(step.lba ?? 0) to check it: \(error)")
      }
    }
    for i in ranges.indices { ranges[i].newSHA256 = sha256Hex(planned[ranges[i].offset] ?? []) }

    // 2. The undo record is durable before the first write.
    let undo = UndoRecord(command: plan.command, target: plan.target, ranges: ranges)
    do {
      try saveUndo(undo)
    } catch {
      return refuse("cannot save the undo file: \(error)")
    }

    // 3. The steps, in order, ending with a barrier.
    var issued: [Int] = []
    var needsBarrier = false
    for (index, step) in plan.steps.enumerated() {
      do {
        switch step.kind {
        case .write:
          issued.append(index)
          try device.write(step.bytes, at: step.offset ?? -1)
          needsBarrier = true
        case .barrier:
          try device.barrier()
          needsBarrier = false
        }
      } catch {
        return Report(
          outcome: .stopped, problems: ["step \(index + 1) (\(step.reason)): \(error)"], writesIssued: issued,
          undo: undo)
      }
    }
    if needsBarrier {
      do { try device.barrier() } catch {
        return Report(outcome: .stopped, problems: ["the final barrier: \(error)"], writesIssued: issued, undo: undo)
      }
    }

    // 4. Read back from the medium: every range holds the last bytes the plan put there.
    var problems: [String] = []
    for range in ranges {
      let want = planned[range.offset] ?? []
      do {
        let back = try device.readBack(at: range.offset, count: want.count)
        if back != want {
          let first = zip(back, want).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? 0
          problems.append(
            "read-back of LBA \(range.lba) differs from what was written, first at byte \(first) of the range")
        }
      } catch {
        problems.append("read-back of LBA \(range.lba) failed: \(error)")
      }
    }
    return Report(
      outcome: problems.isEmpty ? .written : .readBackFailed, problems: problems, writesIssued: issued, undo: undo)
  }
}
