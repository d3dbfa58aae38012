import DiskFormat
import FAT
import Foundation
import TestSupport
import Testing

/// A root-directory file rewritten with contents of another size: the plan applied to the
/// volume's bytes, then checked with mtools (the file reads back as the new contents, every
/// other file as before) and fsck.fat -n (clean); every prefix up to a barrier leaves a volume
/// on which the file reads as the old contents or the new ones, never anything else.
@Suite(
  "FAT single-file rewrite",
  .enabled(if: hasTool("mkfs.fat") && hasTool("mcopy") && hasTool("mtype") && hasTool("fsck.fat")))
struct FATFileRewriteTests {
  /// A volume made by mkfs.fat holding BOOT.CFG (`old`) between two other files, so its
  /// neighbours' clusters are allocated on both sides.
  static func volume(
    fat: Int, sectors: Int = 40960, sectorSize: Int = 512, clusterSectors: Int = 4, old: [UInt8],
    in dir: ScratchDirectory
  ) throws -> String {
    let path = dir.path("fat\(fat)-\(sectorSize).img")
    try? FileManager.default.removeItem(atPath: path)
    let made = try run(
      "mkfs.fat",
      [
        "-C", "-F", String(fat), "-S", String(sectorSize), "-s", String(clusterSectors), "-i", "12345678", "-n",
        "BANK", path, String(sectors * sectorSize / 1024),
      ])
    #expect(made.status == 0, "\(made.stderr)")
    for (name, bytes) in [
      ("a.v00", [UInt8](repeating: 0x41, count: 5000)), ("boot.cfg", old),
      ("b.v00", [UInt8](repeating: 0x42, count: 3000)),
    ] {
      let file = dir.path(name)
      try Data(bytes).write(to: URL(fileURLWithPath: file))
      let copied = try run("mcopy", ["-i", path, file, "::/\(name)"])
      #expect(copied.status == 0, "\(copied.stderr)")
    }
    return path
  }

  static func bootConfig(lines: Int, width: Int = 30) -> [UInt8] {
    Array((0..<lines).map { "key\($0)=" + String(repeating: "v", count: width) + "\n" }.joined().utf8)
  }

  /// The plan, applied in full to a copy of the image on disk.
  static func apply(_ rewrite: FATFileRewrite, to path: String) throws {
    let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    for write in rewrite.writes {
      try handle.seek(toOffset: UInt64(write.offset))
      try handle.write(contentsOf: Data(write.new))
    }
  }

  @Test(
    arguments: [
      (12, 512, 100, 3), (16, 512, 3, 100), (16, 512, 40, 41), (32, 512, 2, 300), (16, 4096, 10, 300),
      (32, 4096, 300, 2),
    ])
  func rewritesToAnySizeAndFsckIsClean(fat: Int, sectorSize: Int, oldLines: Int, newLines: Int) throws {
    let dir = try ScratchDirectory("fatrewrite")
    let old = Self.bootConfig(lines: oldLines)
    let new = Self.bootConfig(lines: newLines, width: 31)
    // FAT32 needs 65525 clusters or more for mtools (and the ESXi loader) to take it for FAT32.
    let clusterSectors = fat == 32 || sectorSize == 4096 ? 1 : 4
    let sectors = fat == 32 ? 70_000 : (fat == 12 ? 8000 : 40960) * 512 / sectorSize
    let path = try Self.volume(
      fat: fat, sectors: sectors, sectorSize: sectorSize, clusterSectors: clusterSectors, old: old, in: dir)
    let source = try TestFileSource(path: path, sectorSize: sectorSize)
    let volume = try FATVolume(source: source)
    let rewrite = try volume.planRewrite(of: "boot.cfg", with: new)
    #expect(rewrite.oldSize == UInt32(old.count) && rewrite.newSize == UInt32(new.count))
    #expect(Set(rewrite.oldChain).isDisjoint(with: rewrite.newChain), "the new chain reuses a live cluster")
    // The FAT sectors that link the new chain and those that free the old one are distinct (there
    // is room here), so restoring the old sectors in reverse order never frees a live chain.
    let linking = Set(rewrite.writes.filter { $0.reason.contains("new chain") }.map(\.offset))
    let freeing = Set(rewrite.writes.filter { $0.reason.contains("old chain freed") }.map(\.offset))
    #expect(linking.isDisjoint(with: freeing))
    // One write per FAT copy at least (mkfs.fat makes two).
    #expect(linking.count >= 2 && freeing.count >= 2)

    // Every write is whole device sectors; the directory entry is written once, alone in its stage.
    for write in rewrite.writes {
      #expect(write.offset % Int64(sectorSize) == 0 && write.new.count % sectorSize == 0 && write.new.count > 0)
      #expect(try source.read(at: write.offset, count: write.new.count) == write.old || write.reason.contains("FAT"))
    }
    // Nothing before the commit touches the data of the old chain or the entry's sector.
    let boot = volume.bootSector
    let oldData = rewrite.oldChain.map { volume.absoluteOffset(ofCluster: $0) }
    let commit = try #require(rewrite.writes.firstIndex { $0.reason.contains("directory entry") })
    for write in rewrite.writes[..<commit] {
      for start in oldData {
        #expect(!(write.offset < start + Int64(boot.bytesPerCluster) && start < write.offset + Int64(write.new.count)))
      }
    }

    // Crash states at every barrier, and with each write of the next stage alone: the file is old or new.
    var done: [FATFileRewrite.Write] = []
    var segments: [[FATFileRewrite.Write]] = [[]]
    for step in rewrite.steps {
      switch step {
      case .write(let w): segments[segments.count - 1].append(w)
      case .barrier: segments.append([])
      }
    }
    var states = 0
    for segment in segments {
      for extra in [[]] + segment.map({ [$0] }) + [segment] {
        let disk = OverlayDisk(base: source)
        for w in done + extra { disk.apply(w.new, at: w.offset) }
        let v = try FATVolume(source: disk)
        let entry = try #require(try v.lookup("/boot.cfg"))
        let bytes = try v.contents(of: entry)
        #expect(bytes == old || bytes == new, "a crash state reads boot.cfg as neither old nor new")
        #expect(try v.contents(of: #require(try v.lookup("/a.v00"))) == [UInt8](repeating: 0x41, count: 5000))
        states += 1
      }
      done += segment
    }
    #expect(states > segments.count)

    try Self.apply(rewrite, to: path)
    let typed = try run("mtype", ["-i", path, "::/boot.cfg"])
    #expect([UInt8](typed.stdout) == new)
    #expect([UInt8](try run("mtype", ["-i", path, "::/b.v00"]).stdout) == [UInt8](repeating: 0x42, count: 3000))
    let fsck = try run("fsck.fat", ["-n", path])
    #expect(fsck.status == 0, "fsck.fat -n: \(fsck.text)\(fsck.stderr)")
    #expect(!fsck.text.contains("differ") && !fsck.text.contains("Free cluster summary"), "\(fsck.text)")
  }

  @Test func refusedWithoutRoomForBothCopies() throws {
    let dir = try ScratchDirectory("fatrewrite")
    let path = try Self.volume(fat: 12, sectors: 8000, old: Self.bootConfig(lines: 10), in: dir)
    // Fill the volume so that fewer clusters are free than the new contents need.
    let volume0 = try FATVolume(source: try TestFileSource(path: path))
    let freeBytes = Int(volume0.freeClusterCount) * volume0.bootSector.bytesPerCluster
    let filler = dir.path("fill")
    try Data(count: freeBytes - 2 * volume0.bootSector.bytesPerCluster).write(to: URL(fileURLWithPath: filler))
    #expect(try run("mcopy", ["-i", path, filler, "::/fill"]).status == 0)
    let volume = try FATVolume(source: try TestFileSource(path: path))
    #expect(volume.freeClusterCount == 2)
    let big = [UInt8](repeating: 0x78, count: 3 * volume.bootSector.bytesPerCluster)
    #expect {
      try volume.planRewrite(of: "BOOT.CFG", with: big)
    } throws: { error in
      guard case .noSpace(let name, let old, let new, let needed, let free, _) = error as? FATFileRewriteError else {
        return false
      }
      return name.uppercased() == "BOOT.CFG" && old == 10 * 36 && new == big.count && needed == 3 && free == 2
    }
    // Two clusters fit.
    let fits = try volume.planRewrite(of: "BOOT.CFG", with: Array(big.prefix(2 * volume.bootSector.bytesPerCluster)))
    #expect(fits.newChain.count == 2)
  }

  /// A power cut between the two FAT copies' writes: they differ only in the entries of the new
  /// chain, which no file owns yet. The check calls that a warning (with the lost clusters);
  /// the same difference in a cluster a file owns stays an error.
  @Test func fatCopiesThatDifferOnlyInUnownedClustersAreAWarning() throws {
    let dir = try ScratchDirectory("fatrewrite")
    let path = try Self.volume(fat: 16, old: Self.bootConfig(lines: 3), in: dir)
    let source = try TestFileSource(path: path)
    let volume = try FATVolume(source: source)
    let rewrite = try volume.planRewrite(of: "BOOT.CFG", with: Self.bootConfig(lines: 200))
    let firstCopy = try #require(rewrite.writes.first { $0.reason.hasPrefix("FAT copy 1") })
    let cut = OverlayDisk(base: source)
    cut.apply(firstCopy.new, at: firstCopy.offset)
    let findings = try FATVolume(source: cut).check().findings
    #expect(Set(findings.map(\.kind)) == ["fatCopiesDiffer", "lostClusters"], "\(findings)")
    #expect(findings.allSatisfy { $0.severity == .warning }, "\(findings)")

    // FAT copy 2's entry of BOOT.CFG's own (last) cluster changed: an error.
    let owned = try #require(rewrite.oldChain.last)
    let boot = volume.bootSector
    let at = boot.fatOffset(copy: 1) + Int64(owned) * 2
    let damaged = OverlayDisk(base: source)
    var sector = try source.read(at: at - at % 512, count: 512)
    sector[Int(at % 512)] ^= 0x01
    damaged.apply(sector, at: at - at % 512)
    let errors = try FATVolume(source: damaged).check().findings.filter { $0.kind == "fatCopiesDiffer" }
    #expect(errors.count == 1 && errors.allSatisfy { $0.severity == .error }, "\(errors)")
  }

  @Test func aMissingFileIsNamed() throws {
    let dir = try ScratchDirectory("fatrewrite")
    let path = try Self.volume(fat: 16, old: Self.bootConfig(lines: 2), in: dir)
    let volume = try FATVolume(source: try TestFileSource(path: path))
    #expect(throws: FATFileRewriteError.notFound(name: "STATE.TGZ")) {
      try volume.planRewrite(of: "state.tgz", with: [1, 2, 3])
    }
  }
}
