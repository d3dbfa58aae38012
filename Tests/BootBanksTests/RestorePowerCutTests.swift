import BootBanks
import DiskFormat
import Foundation
import PartitionTable
import TestSupport
import Testing

/// A device of pseudo-random bytes (a fresh or foreign card), computed per offset, never stored.
final class RandomDevice: ByteSource, @unchecked Sendable {
  let name = "random"
  let byteCount: Int64
  let sectorSize: Int
  init(byteCount: Int64, sectorSize: Int) {
    self.byteCount = byteCount
    self.sectorSize = sectorSize
  }
  func withBytes<R>(in range: Range<Int64>, _ body: (Span<UInt8>) throws -> R) throws -> R {
    var bytes = [UInt8](repeating: 0, count: Int(range.count))
    for i in bytes.indices {
      var rng = SplitMix64(state: UInt64(range.lowerBound + Int64(i)) / 8)
      bytes[i] = UInt8(truncatingIfNeeded: rng.next() >> (8 * UInt64((range.lowerBound + Int64(i)) % 8)))
    }
    return try body(bytes.span)
  }
}

/// restore under power cuts: every crash state is the old device, a device the loader boots
/// nothing from (the marker `status` names), or the complete image.
@Suite("power cuts during restore")
struct RestorePowerCutTests {
  /// The image (a fixture read in place) and its bmap, as `bootbank image` makes them.
  static func imageAndMap(_ name: String) throws -> (TestFileSource, Bmap)? {
    guard let (source, layout) = try WriteFixture.open(name) else { return nil }
    let plan = DiskImagePlan.make(source: source, layout: layout)
    let result = try DiskImageCapture.run(source, plan: plan) { _, _ in }
    return (source, Bmap(imageSize: plan.imageSize, blockSize: plan.blockSize, ranges: result.ranges))
  }

  static func plan(image: any ByteSource, map: Bmap, onto target: any ByteSource) throws -> WritePlan {
    try WritePlanner.restore(image: image, bmap: map, target: target)
  }

  @Test(
    .enabled(
      if: TestPaths.fixture("esxi7.img") != nil && TestPaths.fixture("esxi7-synced.img") != nil, "run `make images`"),
    arguments: ["esxi7-synced.img", "random"])
  func everyCrashStateIsOldNotBootedOrComplete(old: String) throws {
    let (image, map) = try #require(try Self.imageAndMap("esxi7.img"))
    let base: any ByteSource =
      old == "random"
      ? RandomDevice(byteCount: image.byteCount, sectorSize: 512) : try #require(try WriteFixture.open(old)).source
    let plan = try Self.plan(image: image, map: map, onto: base)
    try #require(plan.refusal == nil, "\(plan.refusal ?? "")")
    #expect(plan.after.next != nil)
    #expect(plan.steps.first?.offset == 0 && plan.steps.last?.kind == .barrier)
    let recording = OverlayDisk(base: base)
    let report = WritePlanExecutor.run(plan, on: recording) { _ in }
    #expect(report.outcome == .written, "\(report.problems)")
    // Complete: every mapped byte is the image's.
    for range in map.ranges {
      let bytes = map.byteRange(of: range)
      #expect(try recording.read(bytes) == image.read(bytes), "blocks \(range.first)-\(range.last)")
    }
    let completeChoice = try WritePlanner.choice(of: recording, sectorSize: 512)
    #expect(completeChoice.next == plan.after.next)

    let states = PowerCut.states(of: recording.log, sectorSize: 512)
    // Every state of the first and last segments, and a fixed sample of the middle ones (all
    // of them have LBA 0-1 marked, which the checks below confirm).
    var rng = SplitMix64(state: 11)
    let fullCount = recording.log.filter { if case .write = $0 { true } else { false } }.count
    var checked = 0
    var notBooted = 0
    var seen = Set<String>()
    for patches in states {
      // Before the first barrier: at most the marker; after the second: every range and
      // perhaps the head. In between, one state in eight.
      let middle = patches.count > 1 && patches.count < fullCount - 1
      if middle && rng.next() % 8 != 0 { continue }
      let disk = PowerCut.apply(patches, to: base)
      let key = patches.map { "\($0.offset)+\($0.bytes.count)" }.joined(separator: ",")
      guard seen.insert(key).inserted else { continue }
      checked += 1
      let label = "\(old) state [\(key.prefix(200))]"
      let choice = try WritePlanner.choice(of: disk, sectorSize: 512)
      let isOld = try disk.writtenSectors.allSatisfy { try base.read(at: $0.key, count: $0.value.count) == $0.value }
      let isComplete = try map.ranges.allSatisfy {
        try disk.read(map.byteRange(of: $0)) == image.read(map.byteRange(of: $0))
      }
      if choice.next == nil {
        notBooted += 1
        if !isOld {
          #expect(RestoreMarker.isPresent(on: disk) || isComplete, "\(label): not booted, and no marker says why")
        }
      } else {
        #expect(isOld || isComplete, "\(label): the loader boots partition \(choice.next!) of a half-written device")
        if isComplete { #expect(choice.next == plan.after.next, "\(label)") }
        if isOld { #expect(choice.next == plan.before.next, "\(label)") }
      }
    }
    print("power cuts: restore onto \(old): \(checked) crash states checked (\(notBooted) not booted)")
    #expect(checked >= 200)
  }

  /// The plan refuses what it cannot do right, with nothing to write.
  @Test(.enabled(if: TestPaths.fixture("esxi7.img") != nil, "run `make images`"))
  func aSmallerTargetOrAnotherSectorSizeIsRefused() throws {
    let (image, map) = try #require(try Self.imageAndMap("esxi7.img"))
    let small = RandomDevice(byteCount: image.byteCount - 4096, sectorSize: 512)
    let refused = try Self.plan(image: image, map: map, onto: small)
    #expect(refused.refusal?.contains("smaller than the image") == true)
    #expect(refused.steps.isEmpty)
    let fourK = RandomDevice(byteCount: image.byteCount, sectorSize: 4096)
    let image4K = try TestFileSource(path: image.name, sectorSize: 4096)
    let other = try Self.plan(image: image4K, map: map, onto: fourK)
    #expect(other.refusal?.contains("GPT is in 512-byte sectors") == true, "\(other.refusal ?? "")")
    #expect(other.steps.isEmpty)
  }
}
