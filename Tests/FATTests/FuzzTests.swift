import DiskFormat
import FAT
import TestSupport
import Testing

/// Random damage to a small volume: opening, checking, walking and reading never trap and
/// always finish. (A trap would end the test process; the time limit catches a hang.)
@Suite("Random damage", .timeLimit(.minutes(2)))
struct FuzzTests {
  static let base: [UInt8] = {
    var tiny = TinyFAT()
    let short = TinyFAT.name83("LONGNA~1", "TXT")
    for slot in TinyFAT.longNameSlots("A Long Name With 😀.txt", short: short) { tiny.addSlot(directory: nil, slot) }
    tiny.addFile(short, clusters: [2, 3, 4], size: 1400)
    tiny.addDirectory(parent: nil, TinyFAT.name83("DIR"), cluster: 5)
    tiny.addFile(directory: 5, TinyFAT.name83("INNER", "BIN"), clusters: [6, 8, 7], size: 1536)
    tiny.addDirectory(parent: 5, TinyFAT.name83("NESTED"), cluster: 9)
    tiny.addFile(directory: 9, TinyFAT.name83("LEAF"), clusters: [10], size: 12)
    return tiny.bytes
  }()

  /// Regions worth hitting: boot sector, the start of both FATs, the root directory, and the
  /// first data clusters (subdirectories).
  static let regions: [Range<Int>] = [
    0..<512, TinyFAT.fatOffset..<(TinyFAT.fatOffset + 64),
    (TinyFAT.fatOffset + 32 * 512)..<(TinyFAT.fatOffset + 32 * 512 + 64),
    TinyFAT.rootOffset..<(TinyFAT.rootOffset + 256), TinyFAT.dataOffset..<(TinyFAT.dataOffset + 10 * 512),
  ]

  @Test("flipped bytes never trap or hang", arguments: 0..<8)
  func flips(batch: Int) throws {
    var rng = SplitMix64(state: UInt64(batch) &* 7919 &+ 1)
    for _ in 0..<40 {
      var bytes = Self.base
      for _ in 0..<Int.random(in: 1...12, using: &rng) {
        let region = Self.regions.randomElement(using: &rng) ?? 0..<512
        bytes[Int.random(in: region, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
      }
      // Sometimes cut the image short.
      if Int.random(in: 0..<8, using: &rng) == 0 { bytes.removeLast(Int.random(in: 0..<bytes.count, using: &rng)) }
      exercise(MemoryImage(bytes))
    }
  }

  /// Everything a caller can do with a volume; errors are fine, traps and hangs are not.
  func exercise(_ image: MemoryImage) {
    guard let fat = try? FATVolume(source: image) else { return }
    _ = try? fat.check()
    _ = try? fat.label()
    _ = fat.allocationMap().usedRanges
    var entries: [FATEntry] = []
    _ = try? fat.walk { entries.append($0) }
    for entry in entries {
      _ = fat.clusterChain(of: entry)
      _ = try? fat.lookup(entry.path)
      if !entry.isDirectory { try? fat.forEachRun(of: entry) { _ in } }
    }
  }
}
