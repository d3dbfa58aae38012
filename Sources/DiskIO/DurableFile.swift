import DiskFormat
import SystemPackage

#if canImport(Glibc)
  import Glibc
#endif

/// Small files that must be on disk before bootbank goes on (undo files).
public enum DurableFile {
  /// Creates `path` (never replacing an existing file) with `bytes`, mode 0600, creating its
  /// directory (0700) when missing, and returns once the file and its directory entry are
  /// synced.
  public static func create(_ path: String, bytes: [UInt8]) throws(DiskIOError) {
    let directory = parent(of: path)
    try makeDirectories(directory)
    let fd = unsafe open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw DiskIOError(.open, path: path, errno: Errno(rawValue: Glibc.errno)) }
    defer { close(fd) }
    var done = 0
    while done < bytes.count {
      let n = unsafe bytes.withUnsafeBytes { raw in unsafe write(fd, raw.baseAddress! + done, raw.count - done) }
      if n < 0 && Glibc.errno == EINTR { continue }
      guard n > 0 else {
        let err = Glibc.errno
        unsafe unlink(path)
        throw DiskIOError(
          .write, path: path, errno: n < 0 ? Errno(rawValue: err) : nil, detail: n == 0 ? "short write" : nil)
      }
      done += n
    }
    guard fsync(fd) == 0 else {
      let err = Errno(rawValue: Glibc.errno)
      unsafe unlink(path)
      throw DiskIOError(.sync, path: path, errno: err)
    }
    let dir = unsafe open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard dir >= 0 else { throw DiskIOError(.sync, path: directory, errno: Errno(rawValue: Glibc.errno)) }
    defer { close(dir) }
    guard fsync(dir) == 0 else { throw DiskIOError(.sync, path: directory, errno: Errno(rawValue: Glibc.errno)) }
  }

  /// A file written in pieces that is on disk, with its directory entry, once `finish`
  /// returns; `discard` removes it. Created like `create` (never replacing a file, 0600).
  public final class Writer {
    public let path: String
    private var fd: Int32

    public init(creating path: String) throws(DiskIOError) {
      self.path = path
      try DurableFile.makeDirectories(DurableFile.parent(of: path))
      fd = unsafe open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
      guard fd >= 0 else { throw DiskIOError(.open, path: path, errno: Errno(rawValue: Glibc.errno)) }
    }

    deinit { if fd >= 0 { close(fd) } }

    public func append(_ bytes: [UInt8]) throws(DiskIOError) {
      var done = 0
      while done < bytes.count {
        let n = unsafe bytes.withUnsafeBytes { raw in unsafe write(fd, raw.baseAddress! + done, raw.count - done) }
        if n < 0 && Glibc.errno == EINTR { continue }
        guard n > 0 else {
          throw DiskIOError(
            .write, path: path, errno: n < 0 ? Errno(rawValue: Glibc.errno) : nil, detail: n == 0 ? "short write" : nil)
        }
        done += n
      }
    }

    /// Syncs the file and its directory, and closes it.
    public func finish() throws(DiskIOError) {
      guard fsync(fd) == 0 else { throw DiskIOError(.sync, path: path, errno: Errno(rawValue: Glibc.errno)) }
      close(fd)
      fd = -1
      let directory = DurableFile.parent(of: path)
      let dir = unsafe open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
      guard dir >= 0 else { throw DiskIOError(.sync, path: directory, errno: Errno(rawValue: Glibc.errno)) }
      defer { close(dir) }
      guard fsync(dir) == 0 else { throw DiskIOError(.sync, path: directory, errno: Errno(rawValue: Glibc.errno)) }
    }

    /// Closes and removes the file.
    public func discard() {
      if fd >= 0 { close(fd) }
      fd = -1
      unsafe unlink(path)
    }
  }

  /// The bytes of a file of at most `limit` bytes.
  public static func read(_ path: String, limit: Int = 64 << 20) throws(DiskIOError) -> [UInt8] {
    let fd = unsafe open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw DiskIOError(.open, path: path, errno: Errno(rawValue: Glibc.errno)) }
    defer { close(fd) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
      let n = unsafe chunk.withUnsafeMutableBytes { raw in unsafe Glibc.read(fd, raw.baseAddress!, raw.count) }
      if n < 0 && Glibc.errno == EINTR { continue }
      guard n >= 0 else { throw DiskIOError(.read, path: path, errno: Errno(rawValue: Glibc.errno)) }
      if n == 0 { break }
      out += chunk[0..<n]
      guard out.count <= limit else { throw DiskIOError(.read, path: path, detail: "larger than \(limit) bytes") }
    }
    return out
  }

  static func parent(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    return slash == path.startIndex ? "/" : String(path[..<slash])
  }

  static func makeDirectories(_ path: String) throws(DiskIOError) {
    var info = stat()
    if unsafe stat(path, &info) == 0 {
      guard info.st_mode & S_IFMT == S_IFDIR else { throw DiskIOError(.open, path: path, detail: "is not a directory") }
      return
    }
    let up = parent(of: path)
    if up != path && up != "." { try makeDirectories(up) }
    guard unsafe mkdir(path, 0o700) == 0 || Glibc.errno == EEXIST else {
      throw DiskIOError(.open, path: path, errno: Errno(rawValue: Glibc.errno), detail: "cannot create the directory")
    }
  }
}
