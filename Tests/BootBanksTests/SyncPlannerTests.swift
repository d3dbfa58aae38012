import BootBanks
import DiskFormat
import FAT
import Foundation
import PartitionTable
import TestSupport
import Testing

/// `sync` plans on generated devices, executed through a recording sink: the target ends up a
/// bank that verifies, holding the source's files, with the loader's choice the plan printed;
/// the source is not touched; and every power cut during the run leaves a device whose loader
/// boots a bank that verifies, with the target ignored or complete.
@Suite("sync plans")
struct SyncPlannerTests {
  static let images = [
    "esxi7.img", "esxi7-4kn.img", "esxi6.img", "esxi-mbr.img", "esxi7-three-banks.img", "esxi7-tie.img",
    "esxi7-synced.img", "esxi7-real-layout.img",
  ].filter { TestPaths.fixture($0) != nil }

  struct Done {
    var plan: WritePlan
    var base: any ByteSource
    var layout: DiskLayout
    var recording: OverlayDisk
    var source: Int
    var target: Int
  }

  /// Plans and executes a sync on an overlay of `base`; the run must read back clean.
  static func sync(
    _ base: any ByteSource, layout: DiskLayout, other: (source: any ByteSource, layout: DiskLayout)? = nil,
    _ request: WritePlanner.SyncRequest, label: String
  ) throws -> Done? {
    let plan = try WritePlanner.sync(base, layout: layout, from: other, request)
    #expect(plan.refusal == nil, "\(label): \(plan.refusal ?? "")")
    guard plan.refusal == nil else { return nil }
    let recording = OverlayDisk(base: base)
    let report = WritePlanExecutor.run(plan, on: recording) { _ in }
    #expect(report.outcome == .written, "\(label): \(report.problems)")
    let target = try #require(
      plan.steps.last { $0.kind == .write && $0.reason.contains("the commit") }.flatMap { step in
        layout.partitions.last {
          UInt64(step.offset ?? 0) >= $0.offsetBytes && UInt64(step.offset ?? 0) < $0.offsetBytes + $0.sizeBytes
        }?.number
      })
    let source =
      plan.notes.first { $0.hasPrefix("copies ") }.flatMap { note in
        note.split(separator: " ").drop { $0 != "partition" }.dropFirst().first.flatMap { Int($0) }
      } ?? 0
    return Done(plan: plan, base: base, layout: layout, recording: recording, source: source, target: target)
  }

  /// What must hold after any sync: the choice replayed equals the plan's, the target verifies
  /// and holds the source's files (boot.cfg aside), its UUID and serial are its own.
  static func checkAfter(_ done: Done, sourceDevice: any ByteSource, sourceLayout: DiskLayout, label: String) throws {
    let after = try WritePlanner.choice(of: done.recording, sectorSize: done.layout.sectorSize)
    #expect(after == done.plan.after, "\(label)")
    let verification = try BankVerifier.verify(done.recording, layout: done.layout)
    let bank = verification.banks.first { $0.partition == done.target }
    #expect(bank?.verdict == .ok, "\(label): target \(done.target) \(bank?.findings.map(\.message) ?? ["missing"])")
    func volume(_ source: any ByteSource, _ layout: DiskLayout, _ number: Int) throws -> FATVolume {
      let p = try #require(layout.partition(number))
      return try FATVolume(source: source.slice(Int64(p.offsetBytes)..<Int64(p.offsetBytes + p.sizeBytes)))
    }
    let from = try volume(sourceDevice, sourceLayout, done.source)
    let to = try volume(done.recording, done.layout, done.target)
    let old = try volume(done.base, done.layout, done.target)
    var files: [String: FATEntry] = [:]
    try to.walk { files[$0.path] = $0 }
    var count = 0
    var originals: [FATEntry] = []
    try from.walk { originals.append($0) }
    for entry in originals {
      let copy = files[entry.path]
      #expect(copy != nil, "\(label): \(entry.path) missing")
      guard let copy, !entry.isDirectory, entry.path.lowercased() != "/boot.cfg" else { continue }
      let copied = try to.contents(of: copy)
      #expect(try copied == from.contents(of: entry), "\(label): \(entry.path)")
      count += 1
    }
    #expect(count > 3)
    let findings = try to.check().findings
    #expect(findings.isEmpty, "\(label): \(findings.map(\.message))")
    #expect(to.serial == old.serial)
    #expect(to.bootSector == old.bootSector)
  }

  @Test("the default sync: the source stays next, the target becomes a fallback that verifies", arguments: images)
  func defaultSync(_ image: String) throws {
    let (source, layout) = try #require(try WriteFixture.open(image))
    guard let done = try Self.sync(source, layout: layout, .init(), label: image) else { return }
    #expect(done.plan.after.next == done.plan.before.next)
    #expect(done.plan.after.next == done.source)
    #expect(done.plan.after.fallback == done.target, "\(image): \(done.plan.after)")
    try Self.checkAfter(done, sourceDevice: source, sourceLayout: layout, label: image)
    // Nothing inside the source partition was written.
    let p = try #require(layout.partition(done.source))
    for (offset, _) in done.recording.writtenSectors {
      #expect(UInt64(offset) < p.offsetBytes || UInt64(offset) >= p.offsetBytes + p.sizeBytes, "\(image): \(offset)")
    }
    // Bytes written: the data in use plus metadata, far below the partition.
    let written = done.plan.writes.reduce(0) { $0 + ($1.sectorCount ?? 0) } * layout.sectorSize
    let target = try #require(layout.partition(done.target))
    #expect(UInt64(written) < target.sizeBytes / 4, "\(image): \(written) bytes written")
  }

  @Test(
    "a damaged bank that boots next is replaced from the good one with --force; the good one boots next",
    arguments: ["esxi7-fat-crosslink.img", "esxi7-fat-mismatch.img", "esxi7-digest-mismatch.img"])
  func replacesADamagedBank(_ image: String) throws {
    guard let (source, layout) = try WriteFixture.open(image) else { return }
    let verification = try BankVerifier.verify(source, layout: layout)
    let broken = try #require(verification.banks.first { $0.verdict != .ok })
    let good = try #require(verification.banks.first { $0.verdict == .ok })
    let refused = try WritePlanner.sync(
      source, layout: layout, .init(from: .partition(good.partition), to: .partition(broken.partition)))
    if try BankStatus.read(from: source, layout: layout).choice.nextPartition == broken.partition {
      #expect(refused.refusal?.contains("boots next") == true, "\(image): \(refused.refusal ?? "")")
    }
    guard
      let done = try Self.sync(
        source, layout: layout, .init(from: .partition(good.partition), to: .partition(broken.partition), force: true),
        label: image)
    else { return }
    #expect(done.plan.after.next == good.partition && done.plan.after.fallback == broken.partition)
    try Self.checkAfter(done, sourceDevice: source, sourceLayout: layout, label: image)
  }

  @Test(
    "--make-next and --trial: the target boots next (once, for a trial)", arguments: ["esxi7.img", "esxi7-4kn.img"])
  func makeNextAndTrial(_ image: String) throws {
    guard TestPaths.fixture(image) != nil else { return }
    let (source, layout) = try #require(try WriteFixture.open(image))
    for trial in [false, true] {
      let label = "\(image) \(trial ? "--trial" : "--make-next")"
      guard let done = try Self.sync(source, layout: layout, .init(makeNext: !trial, trial: trial), label: label)
      else { continue }
      #expect(done.plan.after.next == done.target, "\(label)")
      let bank = done.plan.after.banks.first { $0.partition == done.target }
      #expect(bank?.bootstate == (trial ? 1 : 0), "\(label)")
      try Self.checkAfter(done, sourceDevice: source, sourceLayout: layout, label: label)
      if trial {
        // The trial boot fails: the next boot falls back to the source.
        let status = try BankStatus.read(from: done.recording, layout: layout)
        let steps = status.after(boots: 2, outcome: .fails)
        #expect(steps.last?.choice.nextPartition == done.source, "\(label): \(steps.map(\.choice.nextPartition))")
      }
    }
  }

  @Test("refusals: the target boots next, the same partition, a source that does not verify")
  func refusals() throws {
    let (source, layout) = try #require(try WriteFixture.open("esxi7.img"))
    let next = try #require(try BankStatus.read(from: source, layout: layout).choice.nextPartition)
    let toNext = try WritePlanner.sync(source, layout: layout, .init(from: .altbootbank, to: .bootbank))
    #expect(toNext.refusal?.contains("boots next") == true, "\(toNext.refusal ?? "")")
    #expect(toNext.isEmpty)
    let same = try WritePlanner.sync(
      source, layout: layout, .init(from: .partition(next), to: .partition(next), force: true))
    #expect(same.refusal?.contains("same partition") == true)
    if let (bad, badLayout) = try WriteFixture.open("esxi7-digest-mismatch.img") {
      let verification = try BankVerifier.verify(bad, layout: badLayout)
      let broken = try #require(verification.banks.first { $0.verdict != .ok })
      let good = try #require(verification.banks.first { $0.verdict == .ok })
      let plan = try WritePlanner.sync(
        bad, layout: badLayout, .init(from: .partition(broken.partition), to: .partition(good.partition)))
      #expect(plan.refusal?.contains("does not verify") == true, "\(plan.refusal ?? "")")
    }
  }

  /// A copy of esxi7.img in which partition 5 is invalid (bootstate=3) and partition 6, the
  /// bank that boots, has updated=1: a sync 6 → 5 must raise 6's counter to keep it next.
  static func lowCounterImage(in dir: ScratchDirectory) throws -> String? {
    guard WriteFixture.mtoolsAvailable, let url = TestPaths.fixture("esxi7.img") else { return nil }
    let path = dir.path("esxi7-low-counter.img")
    guard try run("cp", ["--sparse=always", url.path, path]).status == 0 else { return nil }
    let layout = try PartitionTable.read(from: try TestFileSource(path: path))
    for (number, edit) in [(5, ("bootstate=0", "bootstate=3")), (6, ("updated=2", "updated=1"))] {
      let spec = "\(path)@@\(try #require(layout.partition(number)).offsetBytes)"
      let text = try run("mtype", ["-i", spec, "::/boot.cfg"]).text.replacingOccurrences(of: edit.0, with: edit.1)
      let file = dir.path("boot\(number).cfg")
      try text.write(toFile: file, atomically: true, encoding: .utf8)
      guard try run("mcopy", ["-o", "-i", spec, file, "::/boot.cfg"]).status == 0 else { return nil }
    }
    return path
  }

  @Test(
    "updated=1 on the source, the target scanned first: the source's counter is raised in place, and said so",
    .enabled(if: WriteFixture.mtoolsAvailable && TestPaths.fixture("esxi7.img") != nil))
  func raisesTheSourceCounter() throws {
    let dir = try ScratchDirectory("sync-raise")
    let path = try #require(try Self.lowCounterImage(in: dir))
    let (source, layout) = try #require(try WriteFixture.open(path))
    #expect(try BankStatus.read(from: source, layout: layout).choice.nextPartition == 6)
    let done = try #require(try Self.sync(source, layout: layout, .init(), label: "low counter"))
    #expect(done.plan.notes.contains { $0.contains("raised to 2") })
    #expect(done.plan.after.next == 6 && done.plan.after.fallback == 5, "\(done.plan.after)")
    let six = try #require(done.plan.after.banks.first { $0.partition == 6 })
    #expect(six.updated == 2)
    try Self.checkAfter(done, sourceDevice: source, sourceLayout: layout, label: "low counter")
  }

  @Test("--source: the bank comes from another image; host configuration is said to come from there")
  func fromAnotherImage() throws {
    guard let (other, otherLayout) = try WriteFixture.open("esxi7-synced.img"),
      let (source, layout) = try WriteFixture.open("esxi7.img")
    else { return }
    let done = try #require(
      try Self.sync(source, layout: layout, other: (other, otherLayout), .init(to: .altbootbank), label: "--source"))
    #expect(done.plan.notes.contains { $0.contains("host configuration") && $0.contains("copied from") })
    #expect(done.plan.after.next == done.plan.before.next)
    let verification = try BankVerifier.verify(done.recording, layout: layout)
    #expect(verification.banks.allSatisfy { $0.verdict == .ok }, "\(verification.banks.map(\.verdict))")
  }

  // MARK: Power cuts

  /// The harness's crash states (`PowerCut.states`), with each multi-sector write torn after
  /// at most `tears` sector counts spread over its length instead of after every sector: a
  /// sync's data writes are hundreds of sectors each.
  static func crashStates(of log: [OverlayDisk.Event], sectorSize: Int, tears: Int = 6) -> [[PowerCut.Patch]] {
    var segments: [[PowerCut.Patch]] = [[]]
    for event in log {
      switch event {
      case .write(let offset, let bytes): segments[segments.count - 1].append((offset, bytes))
      case .barrier: segments.append([])
      }
    }
    var rng = SplitMix64(state: 7)
    var states: [[PowerCut.Patch]] = []
    var done: [PowerCut.Patch] = []
    for segment in segments {
      let n = segment.count
      var subsets: [[Int]] = []
      if n <= 6 {
        for mask in 0..<(1 << n) { subsets.append((0..<n).filter { mask & (1 << $0) != 0 }) }
      } else {
        subsets.append([])
        subsets.append(Array(0..<n))
        for i in 0..<n { subsets.append([i]) }
        for _ in 0..<32 { subsets.append((0..<n).filter { _ in rng.next() & 1 == 1 }) }
      }
      for subset in subsets { states.append(done + subset.map { segment[$0] }) }
      for (i, write) in segment.enumerated() where write.bytes.count > sectorSize {
        let sectors = write.bytes.count / sectorSize
        let points = Set((1...tears).map { max(1, min(sectors - 1, $0 * sectors / (tears + 1))) })
        for k in points.sorted() {
          let torn: PowerCut.Patch = (write.offset, Array(write.bytes[0..<(k * sectorSize)]))
          states.append(done + [torn])
          states.append(done + segment.enumerated().filter { $0.offset != i }.map(\.element) + [torn])
        }
      }
      done += segment
    }
    return states
  }

  /// Checks every crash state of a sync run: the loader boots a bank that verifies, the source
  /// partition is as before (or as the plan's counter raise leaves it), the target is ignored
  /// by the loader or complete. Returns the number of states checked.
  static func checkPowerCuts(_ done: Done, label: String) throws -> Int {
    let sectorSize = done.layout.sectorSize
    let states = Self.crashStates(of: done.recording.log, sectorSize: sectorSize)
    let sourcePartition = try #require(done.layout.partition(done.source))
    let targetPartition = try #require(done.layout.partition(done.target))
    func inside(_ p: Partition, _ offset: Int64) -> Bool {
      UInt64(offset) >= p.offsetBytes && UInt64(offset) < p.offsetBytes + p.sizeBytes
    }
    // Sectors the plan may write inside the source partition (a counter raise).
    let allowed = Set(done.plan.writes.compactMap(\.offset).filter { inside(sourcePartition, $0) })
    let complete = try done.recording.read(
      Int64(targetPartition.offsetBytes)..<Int64(targetPartition.offsetBytes + targetPartition.sizeBytes))
    var verdicts: [String: Verification.Verdict] = [:]
    var count = 0
    for patches in states {
      count += 1
      let disk = PowerCut.apply(patches, to: done.base)
      let place = "\(label) state \(count) [\(patches.count) writes]"
      for patch in patches where inside(sourcePartition, patch.offset) {
        #expect(allowed.contains(patch.offset), "\(place): the source partition written at \(patch.offset)")
      }
      let choice = try WritePlanner.choice(of: disk, sectorSize: sectorSize)
      guard let next = choice.next else {
        Issue.record("\(place): no bank boots")
        continue
      }
      #expect(next == done.plan.before.next || next == done.plan.after.next, "\(place): boots \(next)")
      // The target counts as a bank only when it is complete.
      if choice.banks.contains(where: { $0.partition == done.target }) {
        let now = try disk.read(
          Int64(targetPartition.offsetBytes)..<Int64(targetPartition.offsetBytes + targetPartition.sizeBytes))
        #expect(now == complete, "\(place): the loader sees the target before it is complete")
      }
      // The bank that boots verifies: its bytes are either untouched or complete, so the
      // verdict is cached by which of those it is.
      let p = try #require(done.layout.partition(next))
      let touched = patches.contains { inside(p, $0.offset) }
      let key = "\(next)|\(touched)"
      if verdicts[key] == nil {
        let found = try BankVerifier.verify(disk, layout: done.layout).banks.first { $0.partition == next }?.verdict
        verdicts[key] = found ?? .broken
      }
      #expect(verdicts[key] != .broken, "\(place): partition \(next) does not verify")
    }
    return count
  }

  @Test(
    "every power cut during a sync leaves a loader that boots a verified bank (≥ 500 states)",
    .disabled(
      "over 8 minutes on the shared machine (each state replays the loader through an OverlayDisk); not yet cut down"))
  func powerCuts() throws {
    let dir = try ScratchDirectory("sync-powercut")
    var runs: [(String, any ByteSource, DiskLayout, WritePlanner.SyncRequest)] = []
    for image in ["esxi7.img", "esxi7-4kn.img", "esxi-mbr.img", "esxi6.img"] {
      guard let (source, layout) = try WriteFixture.open(image) else { continue }
      runs.append((image, source, layout, .init()))
      runs.append((image + " --trial", source, layout, .init(trial: true)))
    }
    if let path = try Self.lowCounterImage(in: dir), let (source, layout) = try WriteFixture.open(path) {
      runs.append(("low counter", source, layout, .init()))
    }
    var total = 0
    for (label, source, layout, request) in runs {
      guard let done = try Self.sync(source, layout: layout, request, label: label) else { continue }
      total += try Self.checkPowerCuts(done, label: label)
    }
    print("power cuts: sync: \(total) crash states checked from \(runs.count) runs")
    #expect(total >= 500)
  }
}
