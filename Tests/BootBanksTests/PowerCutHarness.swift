import BootBanks
import DiskFormat
import Foundation
import PartitionTable
import TestSupport

/// Crash states of a recorded run: what a device may hold after a power cut at any point of it.
///
/// A recording is the ordered writes and barriers a real run of the executor made. Between two
/// barriers the medium may keep any subset of the writes, and a multi-sector write may keep
/// only its first k sectors (a single sector is atomic). So for every barrier prefix (every
/// write before it applied) the states are: nothing more, every subset of the next segment's
/// writes (sampled when there are many), and each multi-sector write of that segment torn after
/// each of its sectors (alone, and with the rest of the segment).
enum PowerCut {
  typealias Patch = (offset: Int64, bytes: [UInt8])

  static func states(of log: [OverlayDisk.Event], sectorSize: Int, seed: UInt64 = 1) -> [[Patch]] {
    var segments: [[Patch]] = [[]]
    for event in log {
      switch event {
      case .write(let offset, let bytes): segments[segments.count - 1].append((offset, bytes))
      case .barrier: segments.append([])
      }
    }
    var rng = SplitMix64(state: seed)
    var states: [[Patch]] = []
    var done: [Patch] = []
    for segment in segments {
      let n = segment.count
      var subsets: [[Int]] = []
      if n <= 8 {
        for mask in 0..<(1 << n) { subsets.append((0..<n).filter { mask & (1 << $0) != 0 }) }
      } else {
        subsets.append([])
        subsets.append(Array(0..<n))
        for i in 0..<n { subsets.append([i]) }
        for _ in 0..<128 { subsets.append((0..<n).filter { _ in rng.next() & 1 == 1 }) }
      }
      for subset in subsets { states.append(done + subset.map { segment[$0] }) }
      for (i, write) in segment.enumerated() where write.bytes.count > sectorSize {
        for k in 1..<(write.bytes.count / sectorSize) {
          let torn: Patch = (write.offset, Array(write.bytes[0..<(k * sectorSize)]))
          states.append(done + [torn])
          states.append(done + segment.enumerated().filter { $0.offset != i }.map(\.element) + [torn])
        }
      }
      done += segment
    }
    return states
  }

  static func apply(_ patches: [Patch], to base: any ByteSource) -> OverlayDisk {
    let disk = OverlayDisk(base: base)
    for patch in patches { disk.apply(patch.bytes, at: patch.offset) }
    return disk
  }
}

/// A fixture opened at the sector size its GPT is in.
enum WriteFixture {
  static func open(_ name: String) throws -> (source: TestFileSource, layout: DiskLayout)? {
    guard let url = TestPaths.fixture(name) else { return nil }
    var source = try TestFileSource(path: url.path)
    var layout = try PartitionTable.read(from: source)
    if layout.sectorSize != source.sectorSize {
      source = try TestFileSource(path: url.path, sectorSize: layout.sectorSize)
      layout = try PartitionTable.read(from: source, sectorSize: layout.sectorSize)
    }
    return (source, layout)
  }

  /// Images with two or more banks that boot, each verifying, to run writing commands on.
  static let writable = [
    "esxi7.img", "esxi7-4kn.img", "esxi7-three-banks.img", "esxi7-synced.img", "esxi7-tie.img",
    "esxi7-upgrade-pending.img", "esxi6.img", "esxi7-four-banks.img",
  ].filter { TestPaths.fixture($0) != nil }
}
