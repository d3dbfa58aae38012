import DiskFormat
import Dispatch
import SystemPackage

#if canImport(Glibc)
  import Glibc
#endif

extension Target {
  /// How `stream` reads.
  public enum StreamMethod: String, Sendable, CaseIterable {
    /// Memory-mapped windows, each unmapped once released (files only).
    case mmap
    /// `pread` into a small ring of reused, page-aligned buffers (files and devices).
    case pread
  }

  /// The method `stream` uses when none is named: mmap for files, pread for devices.
  /// `BOOTBANK_READ=pread` forces pread for files too.
  public var defaultStreamMethod: StreamMethod {
    if kind == .blockDevice { return .pread }
    if let value = unsafe getenv("BOOTBANK_READ"), unsafe String(cString: value) == "pread" { return .pread }
    return .mmap
  }

  /// Reads `range` in order, in windows of at most `windowSize` bytes, handing each to `body`
  /// together with a `release` closure.
  ///
  /// A window stays valid until its `release` is called (from any thread, exactly once), so a
  /// consumer may keep hashing it on another thread while the next window is read. At most
  /// `depth` windows are outstanding: reading waits for a release, so memory stays bounded by
  /// `depth * windowSize` whatever the size of the target.
  ///
  /// - Throws: `ReadError` (with the LBA) when the medium fails or the range is outside the
  ///   target; whatever `body` throws. Outstanding windows are still released by the consumer.
  public func stream(
    _ range: Range<Int64>, windowSize: Int = 8 << 20, depth: Int = 4, method: StreamMethod? = nil,
    _ body: (UnsafeRawBufferPointer, _ release: @escaping @Sendable () -> Void) throws -> Void
  ) throws {
    guard range.lowerBound >= 0, range.upperBound <= byteCount else {
      throw ReadError(
        source: path, offset: range.lowerBound, count: Int(range.upperBound &- range.lowerBound),
        sectorSize: sectorSize, kind: .outOfRange(size: byteCount))
    }
    let window = Int64(max(1 << 16, windowSize))
    let method = kind == .blockDevice ? .pread : (method ?? defaultStreamMethod)
    let slots = DispatchSemaphore(value: max(1, depth))
    switch method {
    case .mmap:
      var at = range.lowerBound
      while at < range.upperBound {
        let end = min(range.upperBound, at + window)
        slots.wait()
        let mapping = try map(at..<end)
        let release: @Sendable () -> Void = {
          mapping.unmap()
          slots.signal()
        }
        try unsafe body(mapping.bytes, release)
        at = end
      }
    case .pread:
      let ring = BufferRing(count: max(1, depth), size: Int(window))
      var at = range.lowerBound
      while at < range.upperBound {
        let end = min(range.upperBound, at + window)
        let buffer = ring.take()
        let slice = unsafe UnsafeMutableRawBufferPointer(rebasing: buffer.memory[0..<Int(end - at)])
        if let failure = unsafe readFully(into: slice, at: at) {
          ring.give(buffer)
          throw failure
        }
        try unsafe body(UnsafeRawBufferPointer(slice)) { ring.give(buffer) }
        at = end
      }
      ring.waitUntilAllReturned()
    }
    // Wait until every window has been released before returning (and before unmapping state).
    for _ in 0..<max(1, depth) { slots.wait() }
    for _ in 0..<max(1, depth) { slots.signal() }
  }

  /// Maps `range` read-only (page-aligned underneath); the caller unmaps.
  func map(_ range: Range<Int64>) throws -> Mapping {
    var info = stat()
    if unsafe fstat(descriptor.rawValue, &info) == 0, Int64(info.st_size) < range.upperBound {
      throw ReadError(
        source: path, offset: range.lowerBound, count: Int(range.upperBound - range.lowerBound),
        sectorSize: sectorSize, kind: .outOfRange(size: Int64(info.st_size)))
    }
    let page = Int64(sysconf(Int32(_SC_PAGESIZE)))
    let start = range.lowerBound - range.lowerBound % page
    let length = Int(range.upperBound - start)
    let address = unsafe mmap(nil, length, PROT_READ, MAP_SHARED, descriptor.rawValue, off_t(start))
    guard let address = unsafe address, unsafe address != MAP_FAILED else {
      let err = Glibc.errno
      throw ReadError(
        source: path, offset: range.lowerBound, count: Int(range.upperBound - range.lowerBound),
        sectorSize: sectorSize, kind: .io(errno: err, message: "mmap: " + Errno(rawValue: err).description))
    }
    if length >= 1 << 20 { _ = unsafe madvise(address, length, MADV_SEQUENTIAL) }
    return Mapping(
      base: UInt(bitPattern: address), length: length, skip: Int(range.lowerBound - start),
      count: Int(range.upperBound - range.lowerBound))
  }
}

/// One mapped window, addressed by integers so it can be released from any thread.
@safe struct Mapping: Sendable {
  let base: UInt
  let length: Int
  let skip: Int
  let count: Int

  var bytes: UnsafeRawBufferPointer {
    unsafe UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: base + UInt(skip)), count: count)
  }

  func unmap() {
    _ = unsafe munmap(UnsafeMutableRawPointer(bitPattern: base), length)
  }
}

/// A fixed set of page-aligned buffers handed out and given back across threads.
@safe final class BufferRing: @unchecked Sendable {
  @safe struct Buffer: @unchecked Sendable {
    let memory: UnsafeMutableRawBufferPointer
  }
  private var free: [Buffer] = []
  private let all: [Buffer]
  private let lock = DispatchSemaphore(value: 1)
  private let available: DispatchSemaphore

  init(count: Int, size: Int) {
    var buffers: [Buffer] = []
    for _ in 0..<count {
      let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 4096)
      buffers.append(unsafe Buffer(memory: memory))
    }
    all = buffers
    free = buffers
    available = DispatchSemaphore(value: count)
  }

  func take() -> Buffer {
    available.wait()
    lock.wait()
    defer { lock.signal() }
    return free.removeLast()
  }

  func give(_ buffer: Buffer) {
    lock.wait()
    free.append(buffer)
    lock.signal()
    available.signal()
  }

  func waitUntilAllReturned() {
    for _ in all { available.wait() }
    for _ in all { available.signal() }
  }

  deinit {
    for buffer in all { unsafe buffer.memory.deallocate() }
  }
}
