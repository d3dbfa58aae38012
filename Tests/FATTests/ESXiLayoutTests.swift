import DiskFormat
import FAT
import Foundation
import TestSupport
import Testing

/// A FAT16 volume by the BPB (FATSz16 != 0) with 65526 clusters of 16 KiB, above the 65524 that
/// Microsoft's rule and fsck.fat 4.2 ("Too many clusters (65526) for FAT16 filesystem") allow.
/// The Linux-style reader reads it as FAT16, as Linux does, for ls/cat/fsck. ESXi's loader cannot
/// open it (FAT32 by its cluster count, with too small a FAT: `LoaderFATTests`), so real banks
/// are not laid out this way.
@Suite("ESXi bank layout")
struct ESXiLayoutTests {
  static let clusters = 65_526
  static let totalSectors = 2 + 2 * 256 + 32 + clusters * 32

  /// A sparse 1 GiB image: boot sector, "VMWARE FAT16" marker in sector 1, the two FATs'
  /// reserved entries, a volume label in the root; the rest zeros.
  static func makeImage() throws -> String {
    var boot = [UInt8](repeating: 0, count: 512)
    boot.replaceSubrange(0..<3, with: [0xEB, 0x3C, 0x90])
    boot.replaceSubrange(3..<11, with: Array("VMWARE  ".utf8))
    boot.storeLittleEndian(UInt16(512), at: 0x0B)
    boot[0x0D] = 32  // 16 KiB clusters
    boot.storeLittleEndian(UInt16(2), at: 0x0E)  // sector 1 holds the VMware marker
    boot[0x10] = 2
    boot.storeLittleEndian(UInt16(512), at: 0x11)
    boot[0x15] = 0xF8
    boot.storeLittleEndian(UInt16(256), at: 0x16)
    boot.storeLittleEndian(UInt32(totalSectors), at: 0x20)
    boot[0x26] = 0x29
    boot.storeLittleEndian(UInt32(0xDEAD_BEEF), at: 0x27)
    boot.replaceSubrange(0x2B..<0x36, with: Array("BOOTBANK   ".utf8))
    boot.replaceSubrange(0x36..<0x3E, with: Array("FAT16   ".utf8))
    boot[0x1FE] = 0x55
    boot[0x1FF] = 0xAA
    let dir = try TestPaths.scratchDirectory("esxi-layout")
    let path = dir.appendingPathComponent("bank.img").path
    _ = FileManager.default.createFile(atPath: path, contents: nil)
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    try handle.truncate(atOffset: UInt64(totalSectors) * 512)
    func write(_ bytes: [UInt8], at offset: Int) throws {
      try handle.seek(toOffset: UInt64(offset))
      try handle.write(contentsOf: Data(bytes))
    }
    try write(boot, at: 0)
    try write(Array("VMWARE FAT16    ".utf8) + (0..<16).map { UInt8($0 * 17) }, at: 512)
    try write([0xF8, 0xFF, 0xFF, 0xFF], at: 1024)
    try write([0xF8, 0xFF, 0xFF, 0xFF], at: 1024 + 256 * 512)
    var label = Array("BOOTBANK   ".utf8)
    label += [0x08] + [UInt8](repeating: 0, count: 20)
    try write(label, at: 1024 + 512 * 512)
    return path
  }

  @Test func aBankOf65526ClustersIsFAT16AndChecksClean() throws {
    let path = try Self.makeImage()
    let source = try TestFileSource(path: path)
    let fat = try FATVolume(source: source)
    #expect(fat.type == .fat16)
    #expect(Int(fat.clusterCount) == Self.clusters)
    #expect(fat.bootSector.bytesPerCluster == 16_384)
    let report = try fat.check()
    #expect(report.findings.isEmpty, "\(report.findings)")
    #expect(report.label == "BOOTBANK")
    #expect(report.serial == "DEAD-BEEF")
    #expect(Int(report.freeClusters) == Self.clusters)
    let magic = try #require(try VMwareFATMagic.read(from: source))
    #expect(magic.offset == 512)
    #expect(magic.kernelForm == "00112233445566778899aabbccddeeff")
    #expect(magic.volumeForm == "33221100-77665544-9988-aabbccddeeff")
    let probe = try #require(FATProbe.probe(bootSector: try source.read(at: 0, count: 512)))
    #expect(probe.type == .fat16)
  }
}
