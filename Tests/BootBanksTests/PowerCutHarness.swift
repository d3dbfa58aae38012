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
    guard let url = name.hasPrefix("/") ? URL(fileURLWithPath: name) : TestPaths.fixture(name) else { return nil }
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
    "esxi7-upgrade-pending.img", "esxi6.img", "esxi7-four-banks.img", "esxi7-real-layout.img", "esxi7-trial-failed.img",
    "esxi7-no-bootstate.img", "esxi7-bootstate-late-valid.img", "esxi-mbr.img", "esxi7-hybrid-mbr.img",
  ].filter { TestPaths.fixture($0) != nil }

  static let mtoolsAvailable = hasTool("mtype") && hasTool("mcopy")

  /// A copy of `image` with every bank's boot.cfg passed through `transform` (with mtools);
  /// nil without mtools or the fixture.
  static func edited(
    _ image: String, as name: String, in dir: ScratchDirectory, _ transform: (String) -> String
  ) throws -> String? {
    guard mtoolsAvailable, let url = TestPaths.fixture(image), let (source, layout) = try open(image) else {
      return nil
    }
    let path = dir.path(name)
    guard try run("cp", ["--sparse=always", url.path, path]).status == 0 else { return nil }
    let banks = try BankStatus.read(from: source, layout: layout).choice.banks.filter { $0.config != nil }
    for bank in banks {
      guard let partition = layout.partition(bank.partition) else { return nil }
      let spec = "\(path)@@\(partition.offsetBytes)"
      let old = try run("mtype", ["-i", spec, "::/boot.cfg"]).text
      let file = dir.path("\(name)-\(bank.partition).cfg")
      try transform(old).write(toFile: file, atomically: true, encoding: .utf8)
      guard try run("mcopy", ["-o", "-i", spec, file, "::/boot.cfg"]).status == 0 else { return nil }
    }
    return path
  }

  /// Fixtures whose banks' `bootstate=` line lies past byte 512 (behind a long comment), where
  /// the loader's writer cannot find it: what `mark --rewrite` is for.
  static func lateBootstate(in dir: ScratchDirectory) throws -> [String] {
    var out = ["esxi7-bootstate-late-valid.img", "esxi7-no-bootstate.img"].filter { TestPaths.fixture($0) != nil }
    for image in ["esxi7.img", "esxi7-4kn.img", "esxi7-three-banks.img", "esxi-mbr.img"] {
      let made = try edited(image, as: "late-\(image)", in: dir) { text in
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let at = lines.firstIndex(where: { $0.hasPrefix("bootstate=") }) else { return text }
        let line = lines.remove(at: at)
        let end = lines.last == "" ? lines.count - 1 : lines.count
        lines.insert(contentsOf: ["# " + String(repeating: "x", count: 600), line], at: end)
        return lines.joined(separator: "\n")
      }
      if let made { out.append(made) }
    }
    return out
  }

  /// Fixtures whose banks all have `updated=9`, so that raising one gains a digit.
  static func updatedNine(in dir: ScratchDirectory) throws -> [String] {
    var out: [String] = []
    for image in ["esxi7.img", "esxi7-4kn.img", "esxi7-three-banks.img", "esxi-mbr.img", "esxi6.img"] {
      let made = try edited(image, as: "nine-\(image)", in: dir) { text in
        text.split(separator: "\n", omittingEmptySubsequences: false).map {
          $0.hasPrefix("updated=") ? "updated=9" : String($0)
        }.joined(separator: "\n")
      }
      if let made { out.append(made) }
    }
    return out
  }

  /// A copy of esxi7.img whose banks' boot.cfg spans three sectors, as real ones do (a long
  /// comment line before `build=`), so `bootstate` and `updated` lie in different sectors.
  /// Made with mtools; nil without them or the fixture.
  static func longBootConfig(in dir: ScratchDirectory) throws -> String? {
    guard mtoolsAvailable, let url = TestPaths.fixture("esxi7.img") else { return nil }
    let path = dir.path("esxi7-long-boot-cfg.img")
    guard try run("cp", ["--sparse=always", url.path, path]).status == 0 else { return nil }
    let layout = try PartitionTable.read(from: try TestFileSource(path: path))
    for number in [5, 6] {
      guard let partition = layout.partition(number) else { return nil }
      let spec = "\(path)@@\(partition.offsetBytes)"
      let old = try run("mtype", ["-i", spec, "::/boot.cfg"]).text
      var lines = old.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
      let at = lines.firstIndex { $0.hasPrefix("build=") } ?? lines.count
      lines.insert("# " + String(repeating: "x", count: 1100), at: at)
      let file = dir.path("boot\(number).cfg")
      try lines.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
      guard try run("mcopy", ["-o", "-i", spec, file, "::/boot.cfg"]).status == 0 else { return nil }
    }
    return path
  }
}
