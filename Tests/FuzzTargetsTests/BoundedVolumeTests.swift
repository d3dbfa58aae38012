import DiskFormat
import FAT
import Foundation
import Testing

@testable import FuzzTargets

/// The FAT target lowers the cluster count of big volumes; mkfs.fat and mtools build the volumes.
@Suite("Fuzz harness FAT bound")
struct BoundedVolumeTests {
  static let tools = ["/usr/sbin/mkfs.fat", "/usr/bin/mcopy"].allSatisfy {
    FileManager.default.isExecutableFile(atPath: $0)
  }

  /// A `megabytes` MiB volume made by mkfs.fat with `arguments`, holding one file HELLO.TXT.
  static func volume(megabytes: Int, _ arguments: [String]) throws -> [UInt8] {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("bounded-\(UUID().uuidString).img")
    let payload = FileManager.default.temporaryDirectory.appendingPathComponent("hello-\(UUID().uuidString).txt")
    defer {
      try? FileManager.default.removeItem(at: file)
      try? FileManager.default.removeItem(at: payload)
    }
    try Data(count: megabytes << 20).write(to: file)
    try Data("hello\n".utf8).write(to: payload)
    try tool("/usr/sbin/mkfs.fat", arguments + [file.path])
    try tool("/usr/bin/mcopy", ["-i", file.path, payload.path, "::/HELLO.TXT"])
    return Array(try Data(contentsOf: file))
  }

  static func tool(_ path: String, _ arguments: [String]) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0, "\(path) \(arguments)")
  }

  @Test(
    "a FAT16 or FAT32 volume past the bound keeps its type, its FATs and its files, with at most 8192 clusters",
    .enabled(if: tools, "needs mkfs.fat and mcopy"), arguments: [["-F", "16", "-s", "2"], ["-F", "32", "-s", "1"]])
  func bounded(arguments: [String]) throws {
    let original = try Self.volume(megabytes: 40, arguments)
    let before = try FATVolume(source: MemoryImage(original))
    #expect(before.clusterCount > FuzzTarget.maximumFuzzedClusters)
    let bytes = FuzzTarget.boundedVolume(original)
    #expect(bytes.count == original.count)
    let after = try FATVolume(source: MemoryImage(bytes))
    #expect(after.clusterCount <= FuzzTarget.maximumFuzzedClusters)
    #expect(after.clusterCount > FuzzTarget.maximumFuzzedClusters - UInt32(after.bootSector.sectorsPerCluster))
    #expect(after.type == before.type)
    #expect(after.bootSector.fatOffset(copy: 1) == before.bootSector.fatOffset(copy: 1))
    let file = try #require(try after.lookup("/HELLO.TXT"))
    #expect(try after.contents(of: file) == Array("hello\n".utf8))
    // Only the total sector count changed: 0x13 (16-bit) and 0x20 (32-bit).
    let changed = (0..<original.count).filter { original[$0] != bytes[$0] }
    #expect(changed.allSatisfy { (0x13..<0x15).contains($0) || (0x20..<0x24).contains($0) }, "\(changed)")
  }

  @Test("a volume within the bound and bytes that are no volume are left alone", .enabled(if: tools, "needs mkfs.fat"))
  func unchanged() throws {
    let small = try Self.volume(megabytes: 2, ["-F", "12"])
    #expect(try FATVolume(source: MemoryImage(small)).clusterCount <= FuzzTarget.maximumFuzzedClusters)
    #expect(FuzzTarget.boundedVolume(small) == small)
    let noise = (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 37) }
    #expect(FuzzTarget.boundedVolume(noise) == noise)
    #expect(FuzzTarget.boundedVolume([]) == [])
  }
}
