import DiskFormat
import DiskIO
import Foundation
import TestSupport
import Testing

@Suite("writable targets")
struct WritableTargetTests {
  func scratchImage(_ dir: ScratchDirectory, size: Int = 1 << 20) throws -> String {
    let path = dir.path("disk.img")
    var bytes = [UInt8](repeating: 0, count: size)
    for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: i / 512) }
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
  }

  @Test func writesWholeSectorsInsideTheFileAndReadsThemBack() throws {
    let dir = try ScratchDirectory("writable")
    let path = try scratchImage(dir)
    let target = try WritableTarget(path: path)
    let sector = [UInt8](repeating: 0xAB, count: 512)
    try target.write(sector, at: 4096)
    try target.barrier()
    #expect(try target.readBack(at: 4096, count: 512) == sector)
    #expect(try target.readBack(at: 4000, count: 100) == [UInt8](repeating: 7, count: 96) + [0xAB, 0xAB, 0xAB, 0xAB])
    let onDisk = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    #expect(Array(onDisk[4096..<4608]) == sector)
    #expect(onDisk[4095] == 7 && onDisk[4608] == 9)
  }

  @Test func readsBackTheLastSectorOfAFileThatEndsInsideAPage() throws {
    let dir = try ScratchDirectory("writable")
    let path = try scratchImage(dir, size: (1 << 20) + 512)
    let target = try WritableTarget(path: path)
    let sector = [UInt8](repeating: 0xC3, count: 512)
    try target.write(sector, at: 1 << 20)
    try target.barrier()
    #expect(try target.readBack(at: 1 << 20, count: 512) == sector)
    #expect(try target.readBack(at: (1 << 20) - 1, count: 2) == [UInt8(truncatingIfNeeded: 2047), 0xC3])
  }

  @Test func refusesMisalignedWritesAndNeverExtendsTheFile() throws {
    let dir = try ScratchDirectory("writable")
    let path = try scratchImage(dir)
    let target = try WritableTarget(path: path)
    #expect(throws: WriteError.self) { try target.write([UInt8](repeating: 1, count: 512), at: 100) }
    #expect(throws: WriteError.self) { try target.write([UInt8](repeating: 1, count: 100), at: 512) }
    do {
      try target.write([UInt8](repeating: 1, count: 1024), at: (1 << 20) - 512)
      Issue.record("a write past the end was accepted")
    } catch let error as WriteError {
      #expect(error.description.contains("LBA 2047"))
    }
    let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int
    #expect(size == 1 << 20)
    let onDisk = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    #expect(onDisk[(1 << 20) - 1] == UInt8(truncatingIfNeeded: 2047))
  }

  @Test func aSecondWriterOfTheSameFileIsRefused() throws {
    let dir = try ScratchDirectory("writable")
    let path = try scratchImage(dir)
    let first = try WritableTarget(path: path)
    #expect(throws: DiskIOError.self) { _ = try WritableTarget(path: path) }
    // flock is held per open file description: another process is refused too.
    let other = try run(
      "python3",
      [
        "-c", "import fcntl,os,sys; fd=os.open(sys.argv[1],os.O_RDWR); fcntl.flock(fd, fcntl.LOCK_EX|fcntl.LOCK_NB)",
        path,
      ])
    #expect(other.status != 0)
    _ = first
  }

  @Test func theUndoFileIsCreatedOnceAndReadBack() throws {
    let dir = try ScratchDirectory("undo")
    let path = dir.path("a/b/undo.json")
    try DurableFile.create(path, bytes: Array("hello".utf8))
    #expect(try DurableFile.read(path) == Array("hello".utf8))
    #expect(throws: DiskIOError.self) { try DurableFile.create(path, bytes: [1]) }
    let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
    #expect(mode == 0o600)
  }

  // MARK: Loop devices (root)

  @Test(.enabled(if: loopDevicesAvailable, "needs root and /dev/loop-control"), arguments: [512, 4096])
  func aLoopDeviceIsWrittenAndReadBackWithODirect(sectorSize: Int) throws {
    let dir = try ScratchDirectory("loop")
    let path = try scratchImage(dir, size: 4 << 20)
    try withLoopDevice(URL(fileURLWithPath: path), sectorSize: sectorSize, readOnly: false) { device in
      // The image file a loop device backs is refused.
      #expect(throws: DiskIOError.self) { _ = try WritableTarget(path: path) }
      let target = try WritableTarget(path: device)
      #expect(target.sectorSize == sectorSize)
      let bytes = [UInt8](repeating: 0x5A, count: sectorSize)
      try target.write(bytes, at: Int64(sectorSize) * 3)
      try target.barrier()
      #expect(try target.readBack(at: Int64(sectorSize) * 3, count: sectorSize) == bytes)
      // Half a sector (a 4096-byte device refuses 512 bytes too).
      #expect(throws: WriteError.self) { try target.write([UInt8](repeating: 0, count: sectorSize / 2), at: 0) }
    }
  }

  @Test(.enabled(if: loopDevicesAvailable, "needs root and /dev/loop-control"))
  func aLoopDeviceHeldExclusivelyByAnotherProcessIsRefused() throws {
    let dir = try ScratchDirectory("loop")
    let path = try scratchImage(dir, size: 4 << 20)
    try withLoopDevice(URL(fileURLWithPath: path), readOnly: false) { device in
      let holder = Process()
      holder.executableURL = URL(fileURLWithPath: "/usr/bin/env")
      holder.arguments = [
        "python3", "-c",
        "import os,sys,time; fd=os.open(sys.argv[1], os.O_RDONLY|os.O_EXCL); print('held', flush=True); time.sleep(30)",
        device,
      ]
      let out = Pipe()
      holder.standardOutput = out
      try holder.run()
      defer {
        holder.terminate()
        holder.waitUntilExit()
      }
      _ = out.fileHandleForReading.availableData  // "held"
      do {
        _ = try WritableTarget(path: device)
        Issue.record("a device held O_EXCL by another process was opened for writing")
      } catch let error as DiskIOError {
        #expect(error.description.contains("exclusively"))
      }
    }
  }

  @Test(.enabled(if: loopDevicesAvailable, "needs root and /dev/loop-control"))
  func aReadOnlyLoopDeviceIsRefused() throws {
    let dir = try ScratchDirectory("loop")
    let path = try scratchImage(dir, size: 4 << 20)
    try withLoopDevice(URL(fileURLWithPath: path), readOnly: true) { device in
      #expect(throws: DiskIOError.self) { _ = try WritableTarget(path: device) }
    }
  }

  /// A mounted file system on the device (this machine's kernel makes no loop partitions and has
  /// no vfat, so the mount is ext2 on the whole loop device; the partitions' mounts are found by
  /// the same mountinfo lookup).
  @Test(.enabled(if: loopDevicesAvailable && hasTool("mkfs.ext2"), "needs root, loop devices and mkfs.ext2"))
  func aMountedDeviceIsRefused() throws {
    let dir = try ScratchDirectory("loop")
    let path = dir.path("fs.img")
    _ = try dir.sparseFile("fs.img", size: 8 << 20)
    #expect(try run("mkfs.ext2", ["-q", "-F", path]).status == 0)
    try withLoopDevice(URL(fileURLWithPath: path), readOnly: false) { device in
      let mountPoint = dir.path("mnt")
      try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
      let mount = try run("mount", ["-o", "ro", device, mountPoint])
      #expect(mount.status == 0, "\(mount.stderr)")
      guard mount.status == 0 else { return }
      defer { _ = try? run("umount", [mountPoint]) }
      do {
        _ = try WritableTarget(path: device)
        Issue.record("a mounted device was opened for writing")
      } catch let error as DiskIOError {
        #expect(error.description.contains("is mounted on \(mountPoint)"), "\(error)")
      }
    }
  }
}
