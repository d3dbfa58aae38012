import CBlockDevice
import DiskFormat
import SystemPackage

#if canImport(Glibc)
  import Glibc
#endif

/// An image file or a block device opened for writing: the one place bootbank writes a target.
///
/// Opening refuses what another user of the device could be hurt by:
/// - a block device is opened `O_EXCL` (the kernel refuses it while a file system, a device
///   mapper or another exclusive opener holds it), and refused when it or any of its partitions
///   is mounted (`/proc/self/mountinfo`) or held (`/sys/class/block/*/holders`);
/// - an image file is refused while a loop device backs it (`/sys/block/loop*/loop/backing_file`),
///   and is locked with an exclusive `flock` for as long as it is open.
///
/// Writes are whole logical sectors inside the target (a file is never extended); a short write
/// is an error naming the first LBA not written. `barrier()` is `fdatasync`, which also flushes a
/// block device's volatile write cache. `readBack` reads with `O_DIRECT` on a block device (the
/// medium, not the page cache); on a file it syncs, drops the file's cached pages
/// (`POSIX_FADV_DONTNEED`) and reads with `O_DIRECT` where the file system allows it, so it
/// proves the bytes are in the file as its file system stores them.
@safe public final class WritableTarget: ByteSource, ByteSink, @unchecked Sendable {
  public let path: String
  public let kind: Target.Kind
  public let byteCount: Int64
  public let sectorSize: Int
  let descriptor: FileDescriptor

  public var name: String { path }

  /// Opens `path` for writing, or refuses (see the type's description).
  ///
  /// - Parameter sectorSize: for an image file, its logical sector size (512 when nil); a block
  ///   device uses its own, and a different request is refused.
  /// - Throws: `DiskIOError` naming why the target is refused.
  public init(path: String, sectorSize requested: Int? = nil) throws(DiskIOError) {
    var info = stat()
    guard unsafe stat(path, &info) == 0 else {
      throw DiskIOError(.open, path: path, errno: Errno(rawValue: Glibc.errno))
    }
    let mode = info.st_mode & S_IFMT
    switch mode {
    case S_IFBLK:
      kind = .blockDevice
      if let reason = Self.inUse(device: info.st_rdev) {
        throw DiskIOError(.open, path: path, detail: "refusing to write: \(reason)")
      }
    case S_IFREG:
      kind = .file
      if let loop = Self.loopDevice(backing: path) {
        throw DiskIOError(.open, path: path, detail: "refusing to write: loop device \(loop) is backed by this file")
      }
    case S_IFDIR:
      throw DiskIOError(.open, path: path, detail: "is a directory, not an image file or block device")
    default:
      throw DiskIOError(.open, path: path, detail: "is neither a regular file nor a block device")
    }
    let flags = O_RDWR | O_CLOEXEC | (kind == .blockDevice ? O_EXCL : 0)
    let fd = unsafe open(path, flags)
    guard fd >= 0 else {
      let err = Errno(rawValue: Glibc.errno)
      if kind == .blockDevice && err == .resourceBusy {
        throw DiskIOError(
          .open, path: path, errno: err, detail: "refusing to write: another process holds the device exclusively")
      }
      throw DiskIOError(.open, path: path, errno: err)
    }
    descriptor = FileDescriptor(rawValue: fd)
    var opened = stat()
    guard unsafe fstat(fd, &opened) == 0, opened.st_mode & S_IFMT == mode,
      kind == .blockDevice ? opened.st_rdev == info.st_rdev : opened.st_ino == info.st_ino
    else {
      close(fd)
      throw DiskIOError(.open, path: path, detail: "refusing to write: the path changed while it was being opened")
    }
    switch kind {
    case .file:
      guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
        let err = Errno(rawValue: Glibc.errno)
        close(fd)
        throw DiskIOError(
          .open, path: path, errno: err, detail: "refusing to write: another process holds a lock on it")
      }
      let size = requested ?? 512
      guard size == 512 || size == 4096 else {
        close(fd)
        throw DiskIOError(.open, path: path, detail: "sector size \(size) is not 512 or 4096")
      }
      sectorSize = size
      byteCount = Int64(opened.st_size)
    case .blockDevice:
      var size: UInt64 = 0
      var logical: Int32 = 0
      guard unsafe CBlockDevice_ioctl_ptr(fd, CBlockDevice_BLKGETSIZE64, &size) == 0,
        unsafe CBlockDevice_ioctl_ptr(fd, CBlockDevice_BLKSSZGET, &logical) == 0
      else {
        let err = Errno(rawValue: Glibc.errno)
        close(fd)
        throw DiskIOError(.ioctl, path: path, errno: err)
      }
      if let requested, requested != Int(logical) {
        close(fd)
        throw DiskIOError(.open, path: path, detail: "the device's logical sector size is \(logical), not \(requested)")
      }
      // Mounted between the check and the open: the kernel lets O_EXCL through for a whole disk
      // whose partition is mounted, so look again now that we hold it.
      if let reason = Self.inUse(device: info.st_rdev) {
        close(fd)
        throw DiskIOError(.open, path: path, detail: "refusing to write: \(reason)")
      }
      var readOnly: Int32 = 0
      if unsafe CBlockDevice_ioctl_ptr(fd, CBlockDevice_BLKROGET, &readOnly) == 0, readOnly != 0 {
        close(fd)
        throw DiskIOError(.open, path: path, detail: "refusing to write: the device is read-only")
      }
      sectorSize = Int(logical)
      byteCount = Int64(size)
    }
    self.path = path
  }

  deinit {
    try? descriptor.close()
  }

  // MARK: Reading

  public func withBytes<R>(in range: Range<Int64>, _ body: (Span<UInt8>) throws -> R) throws -> R {
    let count = Int(clamping: range.upperBound &- range.lowerBound)
    guard range.lowerBound >= 0, range.upperBound <= byteCount else {
      throw ReadError(
        source: path, offset: range.lowerBound, count: count, sectorSize: sectorSize, kind: .outOfRange(size: byteCount)
      )
    }
    var bytes = [UInt8](repeating: 0, count: count)
    if count > 0 {
      let failure = unsafe bytes.withUnsafeMutableBytes { raw in
        unsafe readFully(descriptor.rawValue, into: raw, at: range.lowerBound)
      }
      if let failure { throw failure }
    }
    return try body(bytes.span)
  }

  private func readFully(_ fd: Int32, into raw: UnsafeMutableRawBufferPointer, at offset: Int64) -> ReadError? {
    let (done, err) = unsafe preadFully(fd, into: raw, at: offset)
    if let err {
      return ReadError(
        source: path, offset: offset + Int64(done), count: raw.count - done, sectorSize: sectorSize,
        kind: .io(errno: err, message: Errno(rawValue: err).description))
    }
    guard done == raw.count else {
      return ReadError(
        source: path, offset: offset, count: raw.count, sectorSize: sectorSize, kind: .shortRead(got: done))
    }
    return nil
  }

  // MARK: Writing

  public func write(_ bytes: [UInt8], at offset: Int64) throws {
    try checkWritable(at: offset, count: bytes.count)
    var done = 0
    while done < bytes.count {
      let n = unsafe bytes.withUnsafeBytes { raw in
        unsafe pwrite(descriptor.rawValue, raw.baseAddress! + done, raw.count - done, off_t(offset + Int64(done)))
      }
      if n > 0 {
        done += n
        continue
      }
      let err = Glibc.errno
      if n < 0 && err == EINTR { continue }
      if n == 0 || done > 0 {
        throw WriteError(
          sink: path, offset: offset, count: bytes.count, sectorSize: sectorSize, kind: .shortWrite(written: done))
      }
      throw WriteError(
        sink: path, offset: offset, count: bytes.count, sectorSize: sectorSize,
        kind: .io(errno: err, message: Errno(rawValue: err).description))
    }
  }

  public func barrier() throws {
    while fdatasync(descriptor.rawValue) != 0 {
      let err = Glibc.errno
      if err == EINTR { continue }
      throw WriteError(
        sink: path, offset: 0, count: 0, sectorSize: sectorSize,
        kind: .barrierFailed(errno: err, message: Errno(rawValue: err).description))
    }
  }

  /// Reads `count` bytes at `offset` from the medium: `O_DIRECT` in 4096-aligned buffers; an
  /// image file whose file system refuses `O_DIRECT` is read after its cached pages are dropped.
  public func readBack(at offset: Int64, count: Int) throws -> [UInt8] {
    guard offset >= 0, count >= 0, offset + Int64(count) <= byteCount else {
      throw ReadError(
        source: path, offset: offset, count: count, sectorSize: sectorSize, kind: .outOfRange(size: byteCount))
    }
    if count == 0 { return [] }
    // A block device takes its logical sector as the unit; a file system may want its own
    // block (up to 4096), so files are read in 4096-byte units, stopping at the end of file.
    let unit = Int64(kind == .blockDevice ? sectorSize : 4096)
    let start = offset - offset % unit
    let end = (offset + Int64(count) + unit - 1) / unit * unit
    let length = Int(end - start)
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: length, alignment: 4096)
    defer { unsafe buffer.deallocate() }
    let needed = Int(offset + Int64(count) - start)
    let direct = unsafe open(path, O_RDONLY | O_CLOEXEC | CBlockDevice_O_DIRECT)
    if direct >= 0 {
      defer { close(direct) }
      var done = 0
      var failure: Int32 = 0
      while done < needed {
        let n = unsafe pread(direct, buffer.baseAddress! + done, length - done, off_t(start + Int64(done)))
        if n > 0 {
          done += n
          continue
        }
        if n < 0 && Glibc.errno == EINTR { continue }
        failure = n < 0 ? Glibc.errno : EIO
        break
      }
      if done >= needed {
        let from = Int(offset - start)
        return unsafe Array(UnsafeRawBufferPointer(rebasing: buffer[from..<(from + count)]))
      }
      if kind == .blockDevice || failure != EINVAL {
        throw ReadError(
          source: path, offset: start + Int64(done), count: needed - done, sectorSize: sectorSize,
          kind: .io(errno: failure, message: "read-back with O_DIRECT: \(Errno(rawValue: failure).description)"))
      }
    } else if kind == .blockDevice {
      let err = Glibc.errno
      throw ReadError(
        source: path, offset: offset, count: count, sectorSize: sectorSize,
        kind: .io(errno: err, message: "cannot open with O_DIRECT: \(Errno(rawValue: err).description)"))
    }
    // The file system has no O_DIRECT (tmpfs) or not at this alignment: sync, drop what the
    // cache holds of the range, then read.
    _ = fdatasync(descriptor.rawValue)
    _ = posix_fadvise(descriptor.rawValue, off_t(start), off_t(length), POSIX_FADV_DONTNEED)
    var bytes = [UInt8](repeating: 0, count: count)
    let failure = unsafe bytes.withUnsafeMutableBytes { raw in
      unsafe readFully(descriptor.rawValue, into: raw, at: offset)
    }
    if let failure { throw failure }
    return bytes
  }

  // MARK: Who else uses the target

  /// Why the block device `device` (or one of its partitions) is in use, or nil.
  static func inUse(device: dev_t) -> String? {
    let major = UInt32(truncatingIfNeeded: (device >> 8) & 0xfff) | UInt32(truncatingIfNeeded: (device >> 32) & ~0xfff)
    let minor = UInt32(truncatingIfNeeded: device & 0xff) | UInt32(truncatingIfNeeded: (device >> 12) & ~0xff)
    guard let link = resolvedLink("/sys/dev/block/\(major):\(minor)") else { return nil }
    let name = link.split(separator: "/").last.map(String.init) ?? ""
    var members = [(name: name, number: "\(major):\(minor)")]
    for entry in BlockDevices.directoryEntries("/sys/class/block/\(name)")
    where BlockDevices.readText("/sys/class/block/\(name)/\(entry)/partition") != nil {
      if let number = BlockDevices.readText("/sys/class/block/\(name)/\(entry)/dev") {
        members.append((entry, number))
      }
    }
    let mounts = mountedDevices()
    for member in members {
      if let point = mounts[member.number] { return "\(member.name) is mounted on \(point)" }
      let holders = BlockDevices.directoryEntries("/sys/class/block/\(member.name)/holders")
      if !holders.isEmpty { return "\(member.name) is held by \(holders.sorted().joined(separator: ", "))" }
    }
    return nil
  }

  /// Mount points by the `major:minor` of the device mounted there (`/proc/self/mountinfo`).
  static func mountedDevices() -> [String: String] {
    var mounts: [String: String] = [:]
    for line in (readSmallFile("/proc/self/mountinfo") ?? "").split(separator: "\n") {
      let fields = line.split(separator: " ")
      guard fields.count > 4 else { continue }
      mounts[String(fields[2])] = mounts[String(fields[2])] ?? String(fields[4])
    }
    return mounts
  }

  /// The loop device whose backing file is `path`, or nil.
  static func loopDevice(backing path: String) -> String? {
    guard let real = realPath(path) else { return nil }
    for entry in BlockDevices.directoryEntries("/sys/block") where entry.hasPrefix("loop") {
      guard var backing = readSmallFile("/sys/block/\(entry)/loop/backing_file")?.trimmingWhitespace() else { continue }
      if backing.hasSuffix(" (deleted)") { backing.removeLast(" (deleted)".count) }
      if backing == real || realPath(backing) == real { return "/dev/\(entry)" }
    }
    return nil
  }

  /// `path` with every symbolic link, `.` and `..` resolved, or nil when it does not exist.
  public static func canonicalPath(_ path: String) -> String? { realPath(path) }

  static func realPath(_ path: String) -> String? {
    guard let resolved = unsafe realpath(path, nil) else { return nil }
    defer { unsafe free(resolved) }
    return unsafe String(cString: resolved)
  }

  static func resolvedLink(_ path: String) -> String? { realPath(path) }

  /// A text file of at most 4 MiB (sysfs and procfs files).
  static func readSmallFile(_ path: String) -> String? {
    guard let fd = try? FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec]) else { return nil }
    defer { try? fd.close() }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while out.count < 4 << 20 {
      guard let n = try? unsafe chunk.withUnsafeMutableBytes({ try unsafe fd.read(into: $0) }), n > 0 else { break }
      out += chunk[0..<n]
    }
    return String(decoding: out, as: UTF8.self)
  }
}
