import BootBanks
import BootConfig
import DiskFormat
import Foundation
import PartitionTable
import TestSupport
import Testing

/// Every writing command, run for real on generated devices through a recording sink, then
/// every power cut its recording allows replayed: in each crash state the loader (our replay)
/// boots a bank, that bank verifies, and the loader's choice is the one before the command or
/// the one its plan promised, never a third.
@Suite("power cuts during writes")
struct PowerCutTests {
  struct Run {
    var image: String
    var plan: WritePlan
    var base: any ByteSource
    var layout: DiskLayout
    var recording: OverlayDisk
    var undo: MemoryUndo?
  }

  /// A bank's verdict and the kinds of its findings ("warning:lostClusters").
  struct Checked {
    var verdict: Verification.Verdict
    var findings: Set<String>
    static let betweenBarriers: Set<String> = [
      "warning:lostClusters", "warning:fatCopiesDiffer", "warning:fsInfoFreeCountWrong",
    ]
  }

  /// Runs `plan` on an overlay of `base`, recording; the run must read back clean.
  static func execute(_ plan: WritePlan, image: String, base: any ByteSource, layout: DiskLayout) throws -> Run {
    let recording = OverlayDisk(base: base)
    var saved: MemoryUndo?
    let report = WritePlanExecutor.run(plan, on: recording) { saved = $0 }
    #expect(report.outcome == .written, "\(image) \(plan.command): \(report.problems)")
    return Run(image: image, plan: plan, base: base, layout: layout, recording: recording, undo: saved)
  }

  /// The plans of one command on every writable fixture, every bank and option it takes.
  static func runs(_ command: String, scratch: ScratchDirectory) throws -> [Run] {
    var runs: [Run] = []
    let long = try WriteFixture.longBootConfig(in: scratch)
    let images: [String]
    switch command {
    case "mark --rewrite": images = try WriteFixture.lateBootstate(in: scratch)
    case "set-next (new digit)": images = try WriteFixture.updatedNine(in: scratch)
    default: images = WriteFixture.writable + [long].compactMap(\.self)
    }
    for image in images {
      guard let (source, layout) = try WriteFixture.open(image) else { continue }
      let status = try BankStatus.read(from: source, layout: layout)
      let banks = status.choice.countedBanks.map(\.partition)
      var plans: [WritePlan] = []
      switch command {
      case "mark":
        for bank in banks {
          for state: Int32 in [0, 1, 3] {
            plans.append(try WritePlanner.mark(source, layout: layout, bank: .partition(bank), state: state))
          }
        }
      case "set-next":
        for bank in banks {
          for trial in [false, true] {
            plans.append(try WritePlanner.setNext(source, layout: layout, bank: .partition(bank), trial: trial))
          }
        }
      case "rollback":
        plans.append(try WritePlanner.rollback(source, layout: layout))
      case "mark --rewrite":
        for bank in banks {
          for state: Int32 in [0, 1, 3] {
            let plan = try WritePlanner.mark(
              source, layout: layout, bank: .partition(bank), state: state, rewrite: true)
            let writable = status.choice.verdict(for: bank)?.config?.writerView.isWritable ?? true
            // Where the writer finds the digit the plan is one sector in place; otherwise a rewrite
            // (also one sector in place when the whole file changes within one, as on 4Kn).
            #expect(
              plan.refusal != nil || plan.isEmpty || !writable || plan.writes.count == 1,
              "\(image) mark \(bank) \(state): \(plan.writes.count) writes")
            plans.append(plan)
          }
        }
      case "set-next (new digit)":
        for bank in banks {
          for trial in [false, true] {
            let plan = try WritePlanner.setNext(source, layout: layout, bank: .partition(bank), trial: trial)
            #expect(plan.refusal == nil, "\(image) set-next \(bank): \(plan.refusal ?? "")")
            plans.append(plan)
          }
        }
      default:
        Issue.record("unknown command \(command)")
      }
      for plan in plans where plan.refusal == nil && !plan.isEmpty {
        runs.append(try execute(plan, image: image, base: source, layout: layout))
      }
    }
    return runs
  }

  /// Checks every crash state of `run`; returns how many distinct states were checked.
  static func checkStates(
    _ run: Run, cache: inout [String: Checked], extra: ((OverlayDisk) -> String?)? = nil
  ) throws -> Int {
    let states = PowerCut.states(of: run.recording.log, sectorSize: run.base.sectorSize)
    var seen = Set<String>()
    for patches in states {
      let disk = PowerCut.apply(patches, to: run.base)
      let key = disk.writtenSectors.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value.hashValue)" }.joined(
        separator: ",")
      guard seen.insert(key).inserted else { continue }
      let label = "\(run.image) \(run.plan.command) state [\(patches.map { "\($0.offset)+\($0.bytes.count)" })]"
      let choice = try WritePlanner.choice(of: disk, sectorSize: run.layout.sectorSize)
      #expect(choice.next != nil, "\(label): no bank boots")
      #expect(
        choice.next == run.plan.before.next || choice.next == run.plan.after.next,
        "\(label): the loader boots \(String(describing: choice.next)), neither before (\(String(describing: run.plan.before.next))) nor after (\(String(describing: run.plan.after.next)))"
      )
      if let problem = extra?(disk) { Issue.record("\(label): \(problem)") }
      guard let next = choice.next else { continue }
      // The bank verifies, and no worse than it did before the command or after it, but for
      // what a rewrite through the FAT leaves between its barriers by design: clusters the FAT
      // holds for no file (the new chain before its entry, the old one before it is freed),
      // FAT copies that differ only there, and the FSInfo count that goes with them.
      func verdict(_ source: any ByteSource, _ key: String) throws -> Checked {
        if let known = cache[key] { return known }
        let layout = try PartitionTable.read(from: source, sectorSize: run.layout.sectorSize)
        let bank = try BankVerifier.verify(source, layout: layout).banks.first { $0.partition == next }
        let found = Checked(
          verdict: bank?.verdict ?? .broken,
          findings: Set((bank?.findings ?? []).map { "\($0.severity):\($0.kind)" }))
        cache[key] = found
        return found
      }
      // Keys name the base by identity: an undo run's base is another run's result.
      let base = "\(run.image)|\(ObjectIdentifier(run.base as AnyObject))"
      // A bank's verdict depends on its own partition's bytes: states that differ only
      // elsewhere share one verification.
      let inside =
        run.layout.partition(next).map { p in
          disk.writtenSectors.filter { $0.key >= Int64(p.offsetBytes) && $0.key < Int64(p.offsetBytes + p.sizeBytes) }
            .sorted { $0.key < $1.key }.map { "\($0.key):\($0.value.hashValue)" }.joined(separator: ",")
        } ?? key
      let now = try verdict(disk, "\(base)|\(inside)|\(next)")
      let before = try verdict(run.base, "\(base)|before|\(next)")
      let after = try verdict(run.recording, "\(base)|\(ObjectIdentifier(run.recording))|\(next)")
      #expect(now.verdict != .broken, "\(label): partition \(next) does not verify: \(now.findings)")
      let extra = now.findings.subtracting(before.findings).subtracting(after.findings)
      #expect(
        now.verdict <= max(before.verdict, after.verdict) || extra.isSubset(of: Checked.betweenBarriers),
        "\(label): partition \(next) verifies \(now.verdict), worse than before and after: \(extra)")
    }
    return seen.count
  }

  @Test(
    .enabled(if: !WriteFixture.writable.isEmpty, "images/ has no fixtures: run `make images`"),
    arguments: ["mark", "set-next", "rollback", "mark --rewrite", "set-next (new digit)"])
  func everyCrashStateBootsAVerifiedBank(command: String) throws {
    let scratch = try ScratchDirectory("powercut")
    let runs = try Self.runs(command, scratch: scratch)
    #expect(!runs.isEmpty, "no \(command) plan could be executed")
    var cache: [String: Checked] = [:]
    var count = 0
    var writes = 0
    for run in runs {
      count += try Self.checkStates(run, cache: &cache)
      writes += run.plan.writes.count
    }
    print("power cuts: \(command): \(count) crash states checked from \(runs.count) runs (\(writes) writes)")
    #expect(count >= runs.count * 2)
    if command.contains(" ") {
      // The rewrites: at least 200 states, every plan rewriting boot.cfg through the FAT.
      #expect(count >= 200, "\(command): only \(count) crash states")
      let rewrites = runs.filter { $0.plan.steps.contains { $0.reason.contains("directory entry") } }
      #expect(
        !rewrites.isEmpty && rewrites.count * 2 >= runs.count, "\(command): \(rewrites.count) of \(runs.count) rewrite")
    }
  }

  @Test(.enabled(if: !WriteFixture.writable.isEmpty, "images/ has no fixtures: run `make images`"))
  func everyCrashStateOfAnUndoIsBeforeOrAfter() throws {
    var cache: [String: Checked] = [:]
    var count = 0
    var runs = 0
    let scratch = try ScratchDirectory("powercut")
    // Every run stays alive to the end: the verdict cache names bases by object identity.
    var alive: [Run] = []
    for command in ["mark", "set-next", "rollback", "mark --rewrite", "set-next (new digit)"] {
      let forwards = try Self.runs(command, scratch: scratch)
      alive += forwards
      for forward in forwards {
        let undo = try #require(forward.undo)
        let record = try #require(undo.record)
        let done = forward.recording
        let plan = try WritePlanner.undo(record, data: MemoryImage(undo.data), source: done, layout: forward.layout)
        #expect(plan.refusal == nil, "\(forward.image): \(plan.refusal ?? "")")
        guard plan.refusal == nil else { continue }
        #expect(plan.after.next == forward.plan.before.next)
        let run = try Self.execute(plan, image: forward.image, base: done, layout: forward.layout)
        alive.append(run)
        // After the undo every range holds its old bytes again.
        for (index, range) in record.ranges.enumerated() {
          #expect(try run.recording.read(at: range.offset, count: range.count) == undo.old(index))
        }
        runs += 1
        // Every sector (the medium's atomic unit: a torn multi-sector write keeps some) is
        // before or after.
        let size = forward.base.sectorSize
        count += try Self.checkStates(run, cache: &cache) { disk in
          for (index, range) in record.ranges.enumerated() {
            guard let now = try? disk.read(at: range.offset, count: range.count) else { return "unreadable" }
            let written = (try? done.read(at: range.offset, count: range.count)) ?? []
            let old = undo.old(index)
            for at in stride(from: 0, to: old.count, by: size) {
              let sector = now[at..<(at + size)]
              if sector != old[at..<(at + size)] && (written.count != old.count || sector != written[at..<(at + size)])
              {
                return "LBA \(range.lba + UInt64(at / size)) is neither before nor after"
              }
            }
          }
          return nil
        }
      }
    }
    print("power cuts: undo: \(count) crash states checked from \(runs) runs (\(alive.count) kept)")
    #expect(runs > 0)
  }
}

/// repair-gpt under power cuts: the good copy is never touched and one valid copy always remains.
@Suite("power cuts during repair-gpt")
struct RepairGPTPowerCutTests {
  static let images = ["esxi7-bad-backup-gpt.img", "esxi7-bad-primary-gpt.img"].filter { TestPaths.fixture($0) != nil }

  @Test(.enabled(if: !images.isEmpty, "images/ has no fixtures: run `make images`"))
  func theGoodCopyIsNeverTouchedAndOneValidCopyRemains() throws {
    var count = 0
    for image in Self.images {
      let (source, layout) = try #require(try WriteFixture.open(image))
      let before = try GPTTable.read(from: source, sectorSize: source.sectorSize)
      #expect(before.primaryOK != before.backupOK, "\(image): the fixture has exactly one damaged copy")
      let good = try #require(before.primaryOK ? before.primaryHeader : before.backupHeader)
      let plan = try WritePlanner.repairGPT(source, layout: layout)
      #expect(plan.refusal == nil, "\(image): \(plan.refusal ?? "")")
      guard plan.refusal == nil else { continue }
      let run = try PowerCutTests.execute(plan, image: image, base: source, layout: layout)
      let after = try GPTTable.read(from: run.recording, sectorSize: source.sectorSize)
      #expect(after.primaryOK && after.backupOK, "\(image): both copies valid after the repair")
      let entrySectors = Int64(
        ((good.entryArrayBytes ?? 0) + UInt64(source.sectorSize) - 1) / UInt64(source.sectorSize))
      let goodRanges = [
        (Int64(good.myLBA) * Int64(source.sectorSize), source.sectorSize),
        (Int64(good.partitionEntryLBA) * Int64(source.sectorSize), Int(entrySectors) * source.sectorSize),
      ]
      let goodBytes = try goodRanges.map { try source.read(at: $0.0, count: $0.1) }
      for patches in PowerCut.states(of: run.recording.log, sectorSize: source.sectorSize) {
        let disk = PowerCut.apply(patches, to: source)
        count += 1
        let label = "\(image) state [\(patches.map { "\($0.offset)+\($0.bytes.count)" })]"
        for (range, bytes) in zip(goodRanges, goodBytes) {
          #expect(try disk.read(at: range.0, count: range.1) == bytes, "\(label): the good copy changed")
        }
        let table = try GPTTable.read(from: disk, sectorSize: source.sectorSize)
        #expect(table.primaryOK || table.backupOK, "\(label): no valid GPT copy")
        let choice = try WritePlanner.choice(of: disk, sectorSize: source.sectorSize)
        #expect(choice.next == plan.before.next || choice.next == plan.after.next, "\(label): a third choice")
      }
    }
    print("power cuts: repair-gpt: \(count) crash states checked")
    #expect(count > 0)
  }
}
