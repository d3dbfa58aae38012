import BootBanks
import BootConfig
import DiskFormat
import Foundation
import PartitionTable
import TestSupport
import Testing

/// A disk that reads back something other than what was written to it.
final class LyingDisk: ByteSource, ByteSink, @unchecked Sendable {
  let inner: OverlayDisk
  init(_ inner: OverlayDisk) { self.inner = inner }
  var name: String { inner.name }
  var byteCount: Int64 { inner.byteCount }
  var sectorSize: Int { inner.sectorSize }
  var writes = 0
  func withBytes<R>(in range: Range<Int64>, _ body: (Span<UInt8>) throws -> R) throws -> R {
    try inner.withBytes(in: range, body)
  }
  func write(_ bytes: [UInt8], at offset: Int64) throws {
    writes += 1
    try inner.write(bytes, at: offset)
  }
  func barrier() throws { try inner.barrier() }
  func readBack(at offset: Int64, count: Int) throws -> [UInt8] {
    var bytes = try inner.readBack(at: offset, count: count)
    if writes > 0 { bytes[0] ^= 0xFF }
    return bytes
  }
}

@Suite("write plans")
struct WritePlanTests {
  static let available = TestPaths.fixture("esxi7.img") != nil
  static let reason: Comment = "images/ has no fixtures: run `make images`"

  func esxi7() throws -> (TestFileSource, DiskLayout) {
    try #require(try WriteFixture.open("esxi7.img"))
  }

  @Test(.enabled(if: available, reason))
  func markWritesOneDigitWhereTheLoadersWriterFindsIt() throws {
    let (source, layout) = try esxi7()
    let before = try BankStatus.read(from: source, layout: layout)
    let alt = try #require(before.choice.banks.first { $0.role == .altbootbank })
    let plan = try WritePlanner.mark(source, layout: layout, bank: .altbootbank, state: 3)
    #expect(plan.refusal == nil)
    #expect(plan.writes.count == 1)
    #expect(plan.steps.last?.kind == .barrier)
    let disk = WritePlanner.planned(plan, on: source)
    // Exactly one byte of the device differs, and it is the writer's digit, now '3'.
    let step = try #require(plan.writes.first)
    let old = try source.read(at: step.offset!, count: step.bytes.count)
    let changed = zip(old, step.bytes).enumerated().filter { $0.element.0 != $0.element.1 }
    #expect(changed.count == 1)
    #expect(changed.first?.element.1 == UInt8(ascii: "3"))
    let after = try BankStatus.read(from: disk, layout: layout)
    let config = try #require(after.choice.verdict(for: alt.partition)?.config)
    #expect(config.bankOptions?.bootstate == 3)
    #expect(config.bytes.count == alt.config?.bytes.count)
    // The replayed choice after is computed, and matches a replay on the planned bytes.
    #expect(plan.after.next == after.choice.nextPartition)
    #expect(plan.after.fallback == nil)
  }

  @Test(.enabled(if: available, reason))
  func markingTheOnlyBootableBankInvalidIsRefusedUnlessForced() throws {
    let (source, layout) = try esxi7()
    let first = try WritePlanner.mark(source, layout: layout, bank: .altbootbank, state: 3)
    let disk = WritePlanner.planned(first, on: source)
    let plan = try WritePlanner.mark(disk, layout: layout, bank: .bootbank, state: 3)
    #expect(plan.refusal?.contains("no bank would boot") == true)
    #expect(plan.after.next == nil)
    let forced = try WritePlanner.mark(disk, layout: layout, bank: .bootbank, state: 3, force: true)
    #expect(forced.refusal == nil)
  }

  @Test(.enabled(if: available, reason))
  func setNextRaisesUpdatedAndTheReplayAgrees() throws {
    let (source, layout) = try esxi7()
    let status = try BankStatus.read(from: source, layout: layout)
    let alt = try #require(status.choice.banks.first { $0.role == .altbootbank })
    let highest = status.choice.countedBanks.compactMap(\.updated).max() ?? 0
    for trial in [false, true] {
      let plan = try WritePlanner.setNext(source, layout: layout, bank: .altbootbank, trial: trial)
      #expect(plan.refusal == nil, "\(plan.refusal ?? "")")
      #expect(plan.after.next == alt.partition)
      let after = try BankStatus.read(from: WritePlanner.planned(plan, on: source), layout: layout)
      let config = try #require(after.choice.verdict(for: alt.partition)?.config?.bankOptions)
      #expect(config.updated == highest + 1)
      #expect(config.bootstate == (trial ? 1 : 0))
      #expect(after.choice.verdict(for: alt.partition)?.bootstateAfter == (trial ? 2 : 0))
    }
  }

  @Test(.enabled(if: available, reason))
  func rollbackKillsTheDefaultBankAndRefusesWithoutAnAlternate() throws {
    let (source, layout) = try esxi7()
    let plan = try WritePlanner.rollback(source, layout: layout)
    #expect(plan.refusal == nil)
    #expect(plan.before.next != plan.after.next)
    #expect(plan.after.next == plan.before.fallback)
    // On the rolled-back device the only valid bank is the other: no alternate any more.
    let disk = WritePlanner.planned(plan, on: source)
    let again = try WritePlanner.rollback(disk, layout: layout)
    #expect(again.refusal == "the loader says: \(BankChoice.noAlternate)")
  }

  @Test(.enabled(if: available, reason))
  func aDeviceThatChangedSinceThePlanIsRefusedBeforeAnyWrite() throws {
    let (source, layout) = try esxi7()
    let plan = try WritePlanner.mark(source, layout: layout, bank: .altbootbank, state: 3)
    let step = try #require(plan.writes.first)
    let disk = OverlayDisk(base: source)
    var changed = try source.read(at: step.offset!, count: step.bytes.count)
    changed[changed.count - 1] ^= 1
    disk.apply(changed, at: step.offset!)
    var undoSaved = false
    let report = WritePlanExecutor.run(plan, on: disk) { _ in undoSaved = true }
    #expect(report.outcome == .refused)
    #expect(report.problems.first?.contains("changed since the plan was made") == true)
    #expect(disk.log.isEmpty)
    #expect(!undoSaved)
  }

  @Test(.enabled(if: available, reason))
  func anUndoThatCannotBeSavedRefusesBeforeAnyWrite() throws {
    let (source, layout) = try esxi7()
    let plan = try WritePlanner.mark(source, layout: layout, bank: .altbootbank, state: 3)
    let disk = OverlayDisk(base: source)
    struct Full: Error {}
    let report = WritePlanExecutor.run(plan, on: disk) { _ in throw Full() }
    #expect(report.outcome == .refused)
    #expect(disk.log.isEmpty)
  }

  @Test(.enabled(if: available, reason))
  func aFailedWriteStopsPartWayAndSaysWhatWasIssued() throws {
    let (source, layout) = try esxi7()
    let plan = try WritePlanner.setNext(source, layout: layout, bank: .altbootbank, trial: true)
    #expect(plan.writes.count >= 2)
    let disk = OverlayDisk(base: source, failingAfter: 1)
    var saved: UndoRecord?
    let report = WritePlanExecutor.run(plan, on: disk) { saved = $0 }
    #expect(report.outcome == .stopped)
    #expect(report.writesIssued.count == 2)
    #expect(disk.log.first == .write(offset: plan.writes[0].offset!, bytes: plan.writes[0].bytes))
    #expect(disk.log.dropFirst().first == .barrier)
    // The undo record was saved first and holds every range's old bytes.
    let undo = try #require(saved)
    #expect(undo.ranges.count == Set(plan.writes.compactMap(\.offset)).count)
    for range in undo.ranges {
      #expect(try source.read(at: range.offset, count: range.old.count) == [UInt8](range.old))
    }
  }

  @Test(.enabled(if: available, reason))
  func aReadBackThatDiffersIsReported() throws {
    let (source, layout) = try esxi7()
    let plan = try WritePlanner.mark(source, layout: layout, bank: .altbootbank, state: 3)
    let disk = LyingDisk(OverlayDisk(base: source))
    let report = WritePlanExecutor.run(plan, on: disk) { _ in }
    #expect(report.outcome == .readBackFailed)
    #expect(report.problems.first?.contains("read-back of LBA \(plan.writes[0].lba!)") == true)
  }

  @Test(.enabled(if: available, reason))
  func undoRefusesAnotherTargetAndARangeChangedSince() throws {
    let (source, layout) = try esxi7()
    let plan = try WritePlanner.mark(source, layout: layout, bank: .altbootbank, state: 3)
    let disk = OverlayDisk(base: source)
    var saved: UndoRecord?
    _ = WritePlanExecutor.run(plan, on: disk) { saved = $0 }
    var record = try #require(saved)
    // The file round-trips.
    #expect(try UndoRecord.decode(try record.encoded(), path: "x") == record)
    let good = try WritePlanner.undo(record, source: disk, layout: layout)
    #expect(good.refusal == nil)
    #expect(good.after.next == plan.before.next)
    record.target.diskGUID = "00000000-0000-0000-0000-000000000000"
    let other = try WritePlanner.undo(record, source: disk, layout: layout)
    #expect(other.refusal?.contains("another target") == true)
    // A range that holds neither the written bytes nor the old ones.
    let step = plan.writes[0]
    var third = step.bytes
    third[third.count - 1] ^= 0x55
    disk.apply(third, at: step.offset!)
    let changed = try WritePlanner.undo(try #require(saved), source: disk, layout: layout)
    #expect(changed.refusal?.contains("changed since") == true)
  }

  @Test func aPartitionWindowRefusesEverythingOutsideIt() throws {
    let disk = OverlayDisk(base: MemoryImage([UInt8](repeating: 0, count: 8192)))
    let window = PartitionWindow(base: disk, range: 1024..<2048)
    try window.write([UInt8](repeating: 1, count: 512), at: 512)
    #expect(try disk.read(at: 1536, count: 512) == [UInt8](repeating: 1, count: 512))
    #expect(throws: WriteError.self) { try window.write([UInt8](repeating: 2, count: 512), at: 1024) }
    #expect(throws: WriteError.self) { try window.write([UInt8](repeating: 2, count: 1024), at: 512) }
    #expect(throws: WriteError.self) { try window.write([UInt8](repeating: 2, count: 512), at: -512) }
    #expect(throws: WriteError.self) { try window.write([UInt8](repeating: 2, count: 100), at: 0) }
    #expect(throws: ReadError.self) { try window.read(at: 1000, count: 48) }
    #expect(throws: ReadError.self) { try window.readBack(at: 0, count: 1025) }
    #expect(try window.read(at: 0, count: 1024).count == 1024)
    #expect(disk.log.count == 1)
  }
}

/// Undo files are read back from disk: garbage, a zero sector size and ranges past 2^63 are
/// refused with the file's name, never a trap.
@Suite("undo files: bad input")
struct UndoFileInputTests {
  static func file(sectorSize: Int, size: Int64, offset: Int64, old: String = "AAAAAA==") -> [UInt8] {
    Array(
      """
      {"format": "bootbank-undo-1", "command": "mark", "target": {"path": "/x.img", "sizeBytes": \(size),
       "sectorSize": \(sectorSize), "diskGUID": null},
       "ranges": [{"offset": \(offset), "lba": 0, "old": "\(old)", "newSHA256": "00"}]}
      """.utf8)
  }

  @Test(
    arguments: [
      ("garbage", Array("not json at all".utf8), "not a bootbank undo file"),
      ("truncated", Array("{\"format\": \"bootbank-undo-1\", \"comm".utf8), "not a bootbank undo file"),
      ("missing key", Array("{\"format\": \"bootbank-undo-1\"}".utf8), "is missing"),
      ("sector size 0", file(sectorSize: 0, size: 1 << 20, offset: 0), "sector size 0"),
      ("sector size -512", file(sectorSize: -512, size: 1 << 20, offset: 0), "sector size -512"),
      ("offset past 2^63", file(sectorSize: 512, size: Int64.max, offset: Int64.max - 1), "not whole sectors"),
      ("not whole sectors", file(sectorSize: 512, size: 1 << 20, offset: 0), "not whole sectors"),
    ])
  func refusedWithItsName(label: String, bytes: [UInt8], says: String) {
    #expect {
      _ = try UndoRecord.decode(bytes, path: "/tmp/u.json")
    } throws: { error in
      let text = "\(error)"
      return text.contains("/tmp/u.json") && text.contains(says) && !text.contains("DecodingError")
    }
  }
}
