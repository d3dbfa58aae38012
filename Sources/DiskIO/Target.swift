import CBlockDevice
import DiskFormat
import SystemPackage

#if canImport(Glibc)
  import Glibc
#endif

/// An image file or a block device opened read-only, as a `ByteSource`.
///
/// - Files are read through memory-mapped windows: each `withBytes` maps just the pages it
///   needs and unmaps them when the body returns, so resident memory does not grow with the
///   image. The file size is checked again before each mapping, so a file that shrank is an
///   error, not a SIGBUS.
/// - Block devices are read with `pread` into a buffer, so an unreadable sector is a
///   `ReadError` naming its LBA, never a signal.
@safe public final class Target: ByteSource, @unchecked Sendable {
  public enum Kind: String, Sendable, Codable {
    case file
    case blockDevice
  }

  public let path: String
  public let kind: Kind
  public let byteCount: Int64
  public let sectorSize: Int
  /// Physical sector size reported by the device (files: the logical size).
  public let physicalSectorSize: Int
  /// Where the logical sector size came from: "device", "option" or "default".
  public let sectorSizeSource: String
  let descriptor: FileDescriptor

  public var name: String { path }

  /// Opens `path` read-only.
  ///
  /// - Parameters:
  ///   - sectorSize: the logical sector size to use for an image file (512 when nil). For a
  ///     block device the device's own size (BLKSSZGET) is used and a different request is an error.
  /// - Throws: `DiskIOError` when the path cannot be opened, is a directory, or is neither a
  ///   regular file nor a block device.
  public init(path: String, sectorSize requested: Int? = nil) throws(DiskIOError) {
    let descriptor: FileDescriptor
    do {
      descriptor = try FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec])
    } catch let error as Errno {
      throw DiskIOError(.open, path: path, errno: error)
    } catch {
      throw DiskIOError(.open, path: path, detail: "\(error)")
    }
    var info = stat()
    guard unsafe fstat(descriptor.rawValue, &info) == 0 else {
      let err = Errno(rawValue: Glibc.errno)
      try? descriptor.close()
      throw DiskIOError(.stat, path: path, errno: err)
    }
    let mode = info.st_mode & S_IFMT
    switch mode {
    case S_IFREG:
      kind = .file
      byteCount = Int64(info.st_size)
      if let requested {
        guard requested == 512 || requested == 4096 else {
          try? descriptor.close()
          throw DiskIOError(.open, path: path, detail: "sector size \(requested) is not 512 or 4096")
        }
        sectorSize = requested
        sectorSizeSource = "option"
      } else {
        sectorSize = 512
        sectorSizeSource = "default"
      }
      physicalSectorSize = sectorSize
    case S_IFBLK:
      kind = .blockDevice
      var size: UInt64 = 0
      var logical: Int32 = 0
      var physical: UInt32 = 0
      guard unsafe CBlockDevice_ioctl_ptr(descriptor.rawValue, CBlockDevice_BLKGETSIZE64, &size) == 0,
        unsafe CBlockDevice_ioctl_ptr(descriptor.rawValue, CBlockDevice_BLKSSZGET, &logical) == 0
      else {
        let err = Errno(rawValue: Glibc.errno)
        try? descriptor.close()
        throw DiskIOError(.ioctl, path: path, errno: err)
      }
      if unsafe CBlockDevice_ioctl_ptr(descriptor.rawValue, CBlockDevice_BLKPBSZGET, &physical) != 0 {
        physical = UInt32(logical)
      }
      if let requested, requested != Int(logical) {
        try? descriptor.close()
        throw DiskIOError(
          .open, path: path, detail: "the device's logical sector size is \(logical), not \(requested)")
      }
      byteCount = Int64(size)
      sectorSize = Int(logical)
      physicalSectorSize = Int(physical)
      sectorSizeSource = "device"
    case S_IFDIR:
      try? descriptor.close()
      throw DiskIOError(.open, path: path, detail: "is a directory, not an image file or block device")
    default:
      try? descriptor.close()
      throw DiskIOError(.open, path: path, detail: "is neither a regular file nor a block device")
    }
    self.path = path
    self.descriptor = descriptor
  }

  deinit {
    try? descriptor.close()
  }

  public func withBytes<R>(in range: Range<Int64>, _ body: (Span<UInt8>) throws -> R) throws -> R {
    guard range.lowerBound >= 0, range.upperBound <= byteCount else {
      throw ReadError(
        source: path, offset: range.lowerBound, count: Int(range.upperBound &- range.lowerBound),
        sectorSize: sectorSize, kind: .outOfRange(size: byteCount))
    }
    if range.isEmpty {
      let empty = [UInt8]()
      return try body(empty.span)
    }
    switch kind {
    case .file: return try mapped(range, body)
    case .blockDevice: return try preadBytes(range, body)
    }
  }

  /// Maps the pages that hold `range`, calls `body`, unmaps.
  private func mapped<R>(_ range: Range<Int64>, _ body: (Span<UInt8>) throws -> R) throws -> R {
    let mapping = try map(range)
    defer { mapping.unmap() }
    let buffer = unsafe mapping.bytes.bindMemory(to: UInt8.self)
    return try body(unsafe Span(_unsafeElements: buffer))
  }

  /// Reads `range` with pread, retrying short reads and EINTR; an I/O error is narrowed to
  /// the first unreadable sector.
  private func preadBytes<R>(_ range: Range<Int64>, _ body: (Span<UInt8>) throws -> R) throws -> R {
    let count = Int(range.upperBound - range.lowerBound)
    var buffer = [UInt8](repeating: 0, count: count)
    let failure: ReadError? = unsafe buffer.withUnsafeMutableBytes { raw in
      unsafe readFully(into: raw, at: range.lowerBound)
    }
    if let failure { throw failure }
    return try body(buffer.span)
  }

  /// Fills `raw` from `offset`; returns the error instead of throwing it.
  func readFully(into raw: UnsafeMutableRawBufferPointer, at offset: Int64) -> ReadError? {
    var done = 0
    while done < raw.count {
      let n = unsafe pread(descriptor.rawValue, raw.baseAddress! + done, raw.count - done, off_t(offset + Int64(done)))
      if n > 0 {
        done += n
        continue
      }
      if n == 0 {
        return ReadError(
          source: path, offset: offset, count: raw.count, sectorSize: sectorSize, kind: .shortRead(got: done))
      }
      let err = Glibc.errno
      if err == EINTR { continue }
      // Narrow the failure to its first sector so the caller can name the LBA.
      let failedAt = offset + Int64(done)
      let bad = firstUnreadableSector(from: failedAt, upTo: offset + Int64(raw.count))
      return ReadError(
        source: path, offset: bad, count: sectorSize, sectorSize: sectorSize,
        kind: .io(errno: err, message: Errno(rawValue: err).description))
    }
    return nil
  }

  /// The offset of the first sector in `start..<end` that fails to read (bounded scan).
  private func firstUnreadableSector(from start: Int64, upTo end: Int64) -> Int64 {
    let size = Int64(sectorSize)
    var at = start - start % size
    var sector = [UInt8](repeating: 0, count: sectorSize)
    var tries = 0
    while at < end, tries < 65536 {
      let n = unsafe sector.withUnsafeMutableBytes { raw in
        unsafe pread(descriptor.rawValue, raw.baseAddress!, raw.count, off_t(at))
      }
      if n < 0 { return at }
      at += size
      tries += 1
    }
    return start
  }
}
