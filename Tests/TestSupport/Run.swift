import Foundation

/// The result of running an external program.
public struct ProcessResult: Sendable {
  public var status: Int32
  public var stdout: Data
  public var stderr: String
  public var text: String { String(decoding: stdout, as: UTF8.self) }
}

/// Runs `program` (looked up on PATH) with `arguments`, collecting its output.
@discardableResult
public func run(
  _ program: String, _ arguments: [String], stdin: Data? = nil, environment overrides: [String: String] = [:]
) throws -> ProcessResult {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
  process.arguments = [program] + arguments
  var environment = ProcessInfo.processInfo.environment
  environment["LC_ALL"] = "C.UTF-8"
  environment["MTOOLS_SKIP_CHECK"] = "1"
  environment["TZ"] = "UTC"
  environment.merge(overrides) { _, new in new }
  process.environment = environment
  let out = Pipe()
  let err = Pipe()
  process.standardOutput = out
  process.standardError = err
  let input = Pipe()
  process.standardInput = input
  try process.run()
  if let stdin { input.fileHandleForWriting.write(stdin) }
  try? input.fileHandleForWriting.close()
  // Read both pipes concurrently so a full stderr cannot block the child.
  let errBox = DataBox()
  let group = DispatchGroup()
  group.enter()
  let errHandle = err.fileHandleForReading
  DispatchQueue.global().async {
    errBox.data = errHandle.readDataToEndOfFile()
    group.leave()
  }
  let outData = out.fileHandleForReading.readDataToEndOfFile()
  group.wait()
  let errData = errBox.data
  process.waitUntilExit()
  return ProcessResult(
    status: process.terminationStatus, stdout: outData, stderr: String(decoding: errData, as: UTF8.self))
}

/// True when `program` is on PATH.
public func hasTool(_ program: String) -> Bool {
  (try? run("sh", ["-c", "command -v \(program)"]).status) == 0
}

/// True when running as root with loop devices available.
public let loopDevicesAvailable: Bool = {
  guard getuid() == 0 else { return false }
  return FileManager.default.fileExists(atPath: "/dev/loop-control")
}()

/// Attaches `image` to a read-only loop device (optionally with 4096-byte sectors, or from
/// byte `offset` on), runs `body` with the device path, and detaches it.
public func withLoopDevice<R>(
  _ image: URL, sectorSize: Int = 512, readOnly: Bool = true, offset: Int = 0, _ body: (String) throws -> R
) throws -> R {
  var arguments = ["--find", "--show"]
  if readOnly { arguments.append("--read-only") }
  if offset != 0 { arguments += ["--offset", String(offset)] }
  if sectorSize != 512 { arguments += ["--sector-size", String(sectorSize)] }
  arguments.append(image.path)
  let result = try run("losetup", arguments)
  guard result.status == 0 else {
    throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "losetup failed: \(result.stderr)"])
  }
  let device = result.text.trimmingCharacters(in: .whitespacesAndNewlines)
  defer { _ = try? run("losetup", ["--detach", device]) }
  return try body(device)
}

/// Holds bytes a background reader fills in before the group it leaves is waited on.
private final class DataBox: @unchecked Sendable {
  var data = Data()
}

/// Serves `image` through FUSE (Tests/Fixtures/faultydisk.py) as a file whose bytes
/// `first..<first+count` fail: reads fail there, or with `badWrites` writes fail there (and
/// writes elsewhere go to `image`). Runs `body` with the served file, then unmounts.
public func withFaultyFile<R>(
  _ image: URL, first: Int, count: Int, badWrites: Bool = false, _ body: (URL) throws -> R
) throws -> R {
  let mount = image.deletingLastPathComponent().appendingPathComponent("mnt-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: mount, withIntermediateDirectories: true)
  let server = Process()
  server.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
  server.arguments = [
    TestPaths.packageRoot.appendingPathComponent("Tests/Fixtures/faultydisk.py").path,
    badWrites ? "writes" : "reads", image.path, mount.path, String(first), String(count),
  ]
  try server.run()
  defer {
    _ = try? run("fusermount3", ["-u", mount.path])
    server.waitUntilExit()
  }
  let served = mount.appendingPathComponent("disk.img")
  for _ in 0..<100 where !FileManager.default.fileExists(atPath: served.path) { usleep(50_000) }
  return try body(served)
}

/// A read-only loop device over `image` with bytes `first..<first+count` unreadable.
public func withUnreadableRange<R>(_ image: URL, first: Int, count: Int, _ body: (String) throws -> R) throws -> R {
  try withFaultyFile(image, first: first, count: count) { try withLoopDevice($0, body) }
}

/// True when loop devices over FUSE files with bad sectors can be made here (root, /dev/fuse,
/// fusermount3, python3-pyfuse3).
public let badSectorDevicesAvailable: Bool =
  loopDevicesAvailable && FileManager.default.fileExists(atPath: "/dev/fuse")
  && hasTool("fusermount3") && (try? run("/usr/bin/python3", ["-c", "import pyfuse3"]).status) == 0
