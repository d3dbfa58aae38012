import DiskFormat
import DiskIO
import Foundation
import Testing
import TestSupport

/// A FUSE file with an unreadable range (Tests/Fixtures/badsectors.py) under a loop device:
/// a block device with bad sectors, as a worn USB/SD card has.
@Suite("Bad sectors", .serialized)
struct BadSectorTests {
  static let available: Bool =
    loopDevicesAvailable && FileManager.default.fileExists(atPath: "/dev/fuse")
    && hasTool("fusermount3") && (try? run("/usr/bin/python3", ["-c", "import pyfuse3"]).status) == 0

  @Test(.enabled(if: available, "needs root, /dev/fuse, fusermount3 and python3-pyfuse3"))
  func anUnreadableSectorIsAnErrorNamingItsLBA() throws {
    let dir = try TestPaths.scratchDirectory("badsectors")
    let image = dir.appendingPathComponent("source.img")
    let bytes = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
    try Data(bytes).write(to: image)
    let mount = dir.appendingPathComponent("mnt")
    try FileManager.default.createDirectory(at: mount, withIntermediateDirectories: true)
    // Bytes 65536..<69632 are bad: LBA 128-135 with 512-byte sectors.
    let server = Process()
    server.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
    server.arguments = [
      TestPaths.packageRoot.appendingPathComponent("Tests/Fixtures/badsectors.py").path,
      image.path, mount.path, "65536", "4096",
    ]
    try server.run()
    defer {
      _ = try? run("fusermount3", ["-u", mount.path])
      server.waitUntilExit()
    }
    let served = mount.appendingPathComponent("disk.img")
    for _ in 0..<100 where !FileManager.default.fileExists(atPath: served.path) { usleep(50_000) }
    try withLoopDevice(served) { device in
      let target = try Target(path: device)
      // Good sectors read back exactly.
      #expect(try target.read(at: 0, count: 4096) == Array(bytes[0..<4096]))
      // A read across the bad range fails, and the error names the first bad LBA.
      let error = #expect(throws: ReadError.self) { try target.read(at: 100 * 512, count: 50 * 512) }
      #expect(error?.firstLBA == 128)
      if case .io(let errno, _)? = error?.kind { #expect(errno == EIO) } else { Issue.record("expected an I/O error") }
      #expect(error?.description.contains("LBA 128") == true)
    }
  }
}
