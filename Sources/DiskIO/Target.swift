import CBlockDevice
import DiskFormat
import SystemPackage

#if canImport(Glibc)
  import Glibc
#endif

/// An image file or a block device opened read-only, as a `ByteSource`.
///
/// - Files and block devices are read with `pread` into a buffer (the default, measured the
///   faster here), so an unreadable sector is a `ReadError` naming its LBA, never a signal; a
///   failed buffered read is retried sector by sector with O_DIRECT to name the sector that
///   really fails. The holes of sparse files are not read.
/// - Files can instead be read through memory-mapped windows (`fileStreamMethod`): each
///   window maps just the pages it needs and is unmapped when the body returns, and the file
///   size is checked again before each mapping, so a file that shrank is an error, not a SIGBUS.
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
    case .file where defaultStreamMethod == .mmap: return try mapped(range, body)
    case .file, .blockDevice: return try preadBytes(range, body)
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
    // Reused buffers: a fresh allocation per read would fault its pages in every time.
    let buffer = ScratchBuffers.shared.take(count)
    defer { ScratchBuffers.shared.give(buffer) }
    let raw = unsafe UnsafeMutableRawBufferPointer(rebasing: buffer.memory[0..<count])
    if let failure = unsafe readFully(into: raw, at: range.lowerBound) { throw failure }
    let bytes = unsafe UnsafeRawBufferPointer(raw).bindMemory(to: UInt8.self)
    return try body(unsafe Span(_unsafeElements: bytes))
  }

  /// Fills `raw` from `offset`; returns the error instead of throwing it.
  func readFully(into raw: UnsafeMutableRawBufferPointer, at offset: Int64) -> ReadError? {
    let (done, err) = unsafe preadFully(descriptor.rawValue, into: raw, at: offset)
    if err != nil {
      // A buffered read fails for a whole readahead window around a bad sector. Read the rest
      // again sector by sector, bypassing the cache: good sectors are kept, and the error names
      // the first sector that really fails.
      return unsafe readPrecisely(into: raw, from: done, at: offset)
    }
    guard done == raw.count else {
      return ReadError(
        source: path, offset: offset, count: raw.count, sectorSize: sectorSize, kind: .shortRead(got: done))
    }
    return nil
  }

  /// Reads `raw[from...]` (device offset `offset + from`) one logical sector at a time with
  /// O_DIRECT; returns the error of the first sector that fails, or nil when all read.
  private func readPrecisely(
    into raw: UnsafeMutableRawBufferPointer, from start: Int, at offset: Int64
  ) -> ReadError? {
    let size = sectorSize
    let direct = unsafe open(path, O_RDONLY | CBlockDevice_O_DIRECT | O_CLOEXEC)
    let fd = direct >= 0 ? direct : descriptor.rawValue
    defer { if direct >= 0 { close(direct) } }
    let bounce = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: max(4096, size))
    defer { unsafe bounce.deallocate() }
    // Whole sectors covering raw[start...], from the sector that holds its first byte.
    let first = offset + Int64(start)
    var sector = first - first % Int64(size)
    let end = offset + Int64(raw.count)
    while sector < end {
      var n = -1
      repeat { n = unsafe pread(fd, bounce.baseAddress!, size, off_t(sector)) } while n < 0 && Glibc.errno == EINTR
      if n < 0 {
        let err = Glibc.errno
        return ReadError(
          source: path, offset: sector, count: size, sectorSize: size,
          kind: .io(errno: err, message: Errno(rawValue: err).description))
      }
      if n < size {
        return ReadError(
          source: path, offset: sector, count: size, sectorSize: size, kind: .shortRead(got: max(0, n)))
      }
      // Copy the part of this sector that lies in raw[start...].
      let from = max(sector, first)
      let to = min(sector + Int64(size), end)
      unsafe (raw.baseAddress! + Int(from - offset)).copyMemory(
        from: bounce.baseAddress! + Int(from - sector), byteCount: Int(to - from))
      sector += Int64(size)
    }
    return nil
  }

}
