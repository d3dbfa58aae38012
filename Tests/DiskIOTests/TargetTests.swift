import DiskFormat
import DiskIO
import Foundation
import TestSupport
import Testing

@Suite("Opening targets")
struct TargetTests {
  /// A file of `count` pseudo-random bytes in a scratch directory.
  func randomFile(_ count: Int) throws -> (URL, [UInt8]) {
    var generator = SystemRandomNumberGenerator()
    let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    let url = try TestPaths.scratchDirectory("diskio").appendingPathComponent("image.img")
    try Data(bytes).write(to: url)
    return (url, bytes)
  }

  @Test func aMissingPathNamesThePathAndErrno() {
    let error = #expect(throws: DiskIOError.self) { try Target(path: "/nonexistent/disk.img") }
    #expect(error?.operation == .open)
    #expect(error?.description.contains("/nonexistent/disk.img") == true)
    #expect(error?.description.contains("No such file") == true)
  }

  @Test func aDirectoryIsRefused() throws {
    let dir = try TestPaths.scratchDirectory("dir")
    let error = #expect(throws: DiskIOError.self) { try Target(path: dir.path) }
    #expect(error?.description.contains("is a directory") == true)
  }

  @Test func aZeroLengthFileOpensAndEveryReadIsOutOfRange() throws {
    let (url, _) = try randomFile(0)
    let target = try Target(path: url.path)
    #expect(target.byteCount == 0)
    let error = #expect(throws: ReadError.self) { try target.read(at: 0, count: 512) }
    #expect(error?.kind == .outOfRange(size: 0))
  }

  @Test(
    "mapped windows return the file's bytes",
    arguments: [(0, 1), (0, 512), (4095, 2), (4096, 8192), (12345, 50000), (99_000, 1000)])
  func mappedWindows(offset: Int, count: Int) throws {
    let (url, bytes) = try randomFile(100_000)
    let target = try Target(path: url.path)
    #expect(target.kind == .file)
    #expect(target.byteCount == 100_000)
    #expect(try target.read(at: Int64(offset), count: count) == Array(bytes[offset..<(offset + count)]))
  }

  @Test func aReadPastTheEndSaysWhereTheFileEnds() throws {
    let (url, _) = try randomFile(1000)
    let target = try Target(path: url.path)
    let error = #expect(throws: ReadError.self) { try target.read(at: 512, count: 1024) }
    #expect(error?.description.contains("ends at 1000 bytes") == true)
    #expect(error?.firstLBA == 1)
  }

  @Test func aFileThatShrankIsAnErrorNotASignal() throws {
    let (url, _) = try randomFile(1 << 20)
    let target = try Target(path: url.path)
    try FileHandle(forWritingTo: url).truncate(atOffset: 4096)
    #expect(throws: ReadError.self) { try target.read(at: 1 << 19, count: 4096) }
  }

  @Test func sectorSizeOption() throws {
    let (url, _) = try randomFile(16384)
    #expect(try Target(path: url.path).sectorSize == 512)
    #expect(try Target(path: url.path, sectorSize: 4096).sectorSize == 4096)
    #expect(throws: DiskIOError.self) { try Target(path: url.path, sectorSize: 1000) }
  }

  @Test(.enabled(if: loopDevicesAvailable, "needs root and /dev/loop-control"), arguments: [512, 4096])
  func aLoopDeviceReportsItsSizeAndSectorSize(sectorSize: Int) throws {
    let (url, bytes) = try randomFile(1 << 20)
    try withLoopDevice(url, sectorSize: sectorSize) { device in
      let target = try Target(path: device)
      #expect(target.kind == .blockDevice)
      #expect(target.byteCount == 1 << 20)
      #expect(target.sectorSize == sectorSize)
      #expect(target.sectorSizeSource == "device")
      #expect(try target.read(at: 8192, count: 20000) == Array(bytes[8192..<28192]))
      #expect(throws: ReadError.self) { try target.read(at: (1 << 20) - 10, count: 20) }
      // A device's own sector size wins; asking for another is an error.
      #expect(throws: DiskIOError.self) { try Target(path: device, sectorSize: sectorSize == 512 ? 4096 : 512) }
    }
  }
}
