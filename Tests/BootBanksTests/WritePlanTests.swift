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
    var saved: MemoryUndo?
    let report = WritePlanExecutor.run(plan, on: disk) { saved = $0 }
    #expect(report.outcome == .stopped)
    #expect(report.writesIssued.count == 2)
    #expect(disk.log.first == .write(offset: plan.writes[0].offset!, bytes: plan.writes[0].bytes))
    #expect(disk.log.dropFirst().first == .barrier)
    // The undo record was saved first and holds every range's old bytes.
    let undo = try #require(saved)
    let record = try #require(undo.record)
    #expect(record.ranges.count == Set(plan.writes.compactMap(\.offset)).count)
    for (index, range) in record.ranges.enumerated() {
      #expect(try source.read(at: range.offset, count: range.count) == undo.old(index))
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
    var saved: MemoryUndo?
    _ = WritePlanExecutor.run(plan, on: disk) { saved = $0 }
    let undo = try #require(saved)
    var record = try #require(undo.record)
    // The file round-trips: header, then the old bytes.
    let file = MemoryImage(try undo.file())
    #expect(file.byteCount % 512 == 0)
    let (read, data) = try UndoRecord.read(from: file, path: "x")
    #expect(read == record)
    #expect(try data.read(at: 0, count: Int(data.byteCount)) == undo.data)
    let good = try WritePlanner.undo(record, data: data, source: disk, layout: layout)
    #expect(good.refusal == nil)
    #expect(good.after.next == plan.before.next)
    #expect(good.writes.allSatisfy { $0.streamed != nil })
    record.target.diskGUID = "00000000-0000-0000-0000-000000000000"
    let other = try WritePlanner.undo(record, data: data, source: disk, layout: layout)
    #expect(other.refusal?.contains("another target") == true)
    // Old bytes that do not match their digest: a damaged undo file.
    var damaged = undo.data
    damaged[0] ^= 0x01
    let bad = try WritePlanner.undo(
      try #require(undo.record), data: MemoryImage(damaged), source: disk, layout: layout)
    #expect(bad.refusal?.contains("the undo file is damaged") == true)
    // A range that holds neither the written bytes nor the old ones.
    let step = plan.writes[0]
    var third = step.bytes
    third[third.count - 1] ^= 0x55
    disk.apply(third, at: step.offset!)
    let changed = try WritePlanner.undo(try #require(undo.record), data: data, source: disk, layout: layout)
    #expect(changed.refusal?.contains("changed since") == true)
  }

  /// A plan whose write streams 9 MiB from another source: `count` bytes of seeded noise.
  static func noise(_ count: Int, seed: UInt64) -> MemoryImage {
    var rng = SplitMix64(state: seed)
    return MemoryImage(rng.bytes(count), name: "noise-\(seed)")
  }

  func streamedPlan(_ source: any ByteSource, layout: DiskLayout, content: StreamedBytes) throws -> WritePlan {
    var plan = try WritePlanner.mark(source, layout: layout, bank: .altbootbank, state: 3)
    // Free space after the last partition would do as well: the executor does not replay.
    plan.steps = [try .copy(content, to: 16 << 20, on: source, reason: "streamed"), .barrier("done")]
    return plan
  }

  @Test(.enabled(if: available, reason))
  func aStreamedWriteGoesInPiecesReadsBackAndUndoes() throws {
    let (source, layout) = try esxi7()
    let content = StreamedBytes(Self.noise(9 << 20, seed: 7), offset: 512, count: (9 << 20) - 4096)
    let plan = try streamedPlan(source, layout: layout, content: content)
    #expect(plan.writes.first?.sectorCount == content.count / 512)
    let disk = OverlayDisk(base: source)
    var saved: MemoryUndo?
    let report = WritePlanExecutor.run(plan, on: disk) { saved = $0 }
    #expect(report.outcome == .written, "\(report.problems)")
    let want = try content.source.read(at: content.offset, count: content.count)
    #expect(try disk.read(at: 16 << 20, count: content.count) == want)
    // Bounded pieces: 4 MiB, 4 MiB, and the rest.
    let writes = disk.log.compactMap { event -> Int? in
      if case .write(_, let bytes) = event { return bytes.count }
      return nil
    }
    #expect(writes == [4 << 20, 4 << 20, content.count - (8 << 20)])
    let undo = try #require(saved)
    #expect(undo.data == (try source.read(at: 16 << 20, count: content.count)))
    // The undo puts the old bytes back, streamed from the undo file's data.
    let back = try WritePlanner.undo(
      try #require(undo.record), data: MemoryImage(undo.data), source: disk, layout: layout)
    #expect(back.refusal == nil)
    let again = WritePlanExecutor.run(back, on: disk) { _ in }
    #expect(again.outcome == .written, "\(again.problems)")
    #expect(try disk.read(at: 16 << 20, count: content.count) == undo.data)
  }

  @Test(.enabled(if: available, reason))
  func aStreamedSourceThatChangedStopsAndAStreamedReadBackIsChecked() throws {
    let (source, layout) = try esxi7()
    let planned = StreamedBytes(Self.noise(1 << 20, seed: 1), offset: 0, count: 1 << 20)
    var plan = try streamedPlan(source, layout: layout, content: planned)
    // The same range of another source: what the plan expects is not what gets read.
    plan.steps[0].streamed = StreamedBytes(Self.noise(1 << 20, seed: 2), offset: 0, count: 1 << 20)
    let report = WritePlanExecutor.run(plan, on: OverlayDisk(base: source)) { _ in }
    #expect(report.outcome == .stopped)
    #expect(report.problems.first?.contains("noise-2 at byte 0 changed since the plan was made") == true)

    let honest = try streamedPlan(source, layout: layout, content: planned)
    let lying = WritePlanExecutor.run(honest, on: LyingDisk(OverlayDisk(base: source))) { _ in }
    #expect(lying.outcome == .readBackFailed)
    #expect(lying.problems.first?.contains("(2048 sectors) differs from what was written (SHA-256") == true)
  }

  @Test func anOverlayKeepsTheLastWriteOfHeldAndStreamedBytes() throws {
    let disk = OverlayDisk(base: MemoryImage([UInt8](repeating: 0, count: 8 * 512)))
    disk.apply([UInt8](repeating: 1, count: 512), at: 2 * 512)
    disk.apply(StreamedBytes(MemoryImage([UInt8](repeating: 7, count: 4 * 512)), offset: 0, count: 4 * 512), at: 512)
    disk.apply([UInt8](repeating: 9, count: 512), at: 3 * 512)
    let sectors = try (0..<8).map { try disk.read(at: Int64($0 * 512), count: 512)[0] }
    #expect(sectors == [0, 7, 7, 9, 7, 0, 0, 0])
    // A read across the boundaries of both kinds.
    let across: [UInt8] = [0] + [UInt8](repeating: 7, count: 1024) + [UInt8](repeating: 9, count: 512) + [7]
    #expect(try disk.read(at: 511, count: 3 * 512 + 2) == across)
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
  static func file(sectorSize: Int, size: Int64, offset: Int64, count: Int = 3) -> [UInt8] {
    Array(
      """
      {"format": "bootbank-undo-2", "command": "mark", "target": {"path": "/x.img", "sizeBytes": \(size), \
      "sectorSize": \(sectorSize), "diskGUID": null}, \
      "ranges": [{"offset": \(offset), "lba": 0, "count": \(count), "oldSHA256": "00", "newSHA256": "00"}]}

      """.utf8)
  }

  @Test(
    arguments: [
      ("garbage", Array("not json at all".utf8), "not a bootbank undo file"),
      ("truncated", Array("{\"format\": \"bootbank-undo-2\", \"comm\n".utf8), "not a bootbank undo file"),
      ("missing key", Array("{\"format\": \"bootbank-undo-2\"}\n".utf8), "is missing"),
      ("an old format", Array("{\"format\": \"bootbank-undo-1\", \"command\": \"mark\"".utf8), "no header line"),
      ("sector size 0", file(sectorSize: 0, size: 1 << 20, offset: 0), "sector size 0"),
      ("sector size -512", file(sectorSize: -512, size: 1 << 20, offset: 0), "sector size -512"),
      (
        "offset past 2^63", file(sectorSize: 512, size: Int64.max, offset: Int64.max - 1, count: 512),
        "not whole sectors"
      ),
      ("not whole sectors", file(sectorSize: 512, size: 1 << 20, offset: 0), "not whole sectors"),
      ("old bytes missing", file(sectorSize: 512, size: 1 << 20, offset: 0, count: 512), "the file holds 0 after it"),
    ])
  func refusedWithItsName(label: String, bytes: [UInt8], says: String) {
    #expect {
      _ = try UndoRecord.read(from: MemoryImage(bytes), path: "/tmp/u.json")
    } throws: { error in
      let text = "\(error)"
      return text.contains("/tmp/u.json") && text.contains(says) && !text.contains("DecodingError")
    }
  }
}
