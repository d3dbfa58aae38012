import CBlockDevice
import DiskFormat
import Foundation
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

  /// The method `stream` uses when none is named: pread, which measured faster than mapped
  /// windows on page-cached files (BENCHMARKS.md) and is the only safe one for devices.
  /// Files use `fileStreamMethod`; devices always pread.
  public var defaultStreamMethod: StreamMethod { kind == .file ? unsafe Target.fileStreamMethod : .pread }

  /// How `stream` reads files when no method is named. A program sets it once, before any work
  /// starts (the command line maps `BOOTBANK_READ=mmap` onto it).
  nonisolated(unsafe) public static var fileStreamMethod: StreamMethod = .pread

  /// Reads `range` in order, in windows of at most `windowSize` bytes, handing each to `body`
  /// together with a `release` closure.
  ///
  /// A window stays valid until its `release` is called (from any thread, exactly once), so a
  /// consumer may keep hashing it on another thread while the next window is read. At most
  /// `depth` windows are outstanding: reading waits for a release, so memory stays bounded by
  /// `depth * windowSize` whatever the size of the target. Holes of a sparse image file are not
  /// read: they are handed over as zeros from one shared buffer (`SEEK_DATA`/`SEEK_HOLE`).
  ///
  /// Returns (or throws) only after every window handed out has been released.
  ///
  /// - Throws: `ReadError` (with the LBA) when the medium fails or the range is outside the
  ///   target; whatever `body` throws.
  public func stream(
    _ range: Range<Int64>, windowSize: Int = 2 << 20, depth: Int = 4, method: StreamMethod? = nil,
    _ body: (UnsafeRawBufferPointer, _ release: @escaping @Sendable () -> Void) throws -> Void
  ) throws {
    guard range.lowerBound >= 0, range.upperBound <= byteCount else {
      throw ReadError(
        source: path, offset: range.lowerBound, count: Int(range.upperBound &- range.lowerBound),
        sectorSize: sectorSize, kind: .outOfRange(size: byteCount))
    }
    let window = max(1 << 16, windowSize)
    let method = kind == .blockDevice ? .pread : (method ?? defaultStreamMethod)
    let ring = BufferRing(count: max(1, depth), size: window, allocate: method == .pread)
    defer { ring.waitUntilAllReturned() }
    let zeros = unsafe ZeroBuffer.shared(window)
    var at = range.lowerBound
    while at < range.upperBound {
      var end = min(range.upperBound, at + Int64(window))
      if kind == .file, let (isHole, extentEnd) = extent(at: at) {
        end = min(end, max(extentEnd, at + 1))
        if isHole {
          ring.acquireSlot()
          try unsafe body(UnsafeRawBufferPointer(rebasing: zeros[0..<Int(end - at)])) { ring.releaseSlot() }
          at = end
          continue
        }
      }
      switch method {
      case .mmap:
        ring.acquireSlot()
        let mapping: Mapping
        do { mapping = try map(at..<end) } catch {
          ring.releaseSlot()
          throw error
        }
        try unsafe body(mapping.bytes) {
          mapping.unmap()
          ring.releaseSlot()
        }
      case .pread:
        let buffer = ring.take()
        let slice = unsafe UnsafeMutableRawBufferPointer(rebasing: buffer.memory[0..<Int(end - at)])
        if let failure = unsafe readFully(into: slice, at: at) {
          ring.give(buffer)
          throw failure
        }
        try unsafe body(UnsafeRawBufferPointer(slice)) { ring.give(buffer) }
      }
      at = end
    }
  }

  /// Whether `offset` lies in a hole of the (sparse) file, and where that hole or data extent
  /// ends; nil where the file system cannot say.
  func extent(at offset: Int64) -> (isHole: Bool, end: Int64)? {
    let data = lseek(descriptor.rawValue, off_t(offset), CBlockDevice_SEEK_DATA)
    if data < 0 {
      // ENXIO: no data at or after offset: the rest is one hole.
      return Glibc.errno == ENXIO ? (true, byteCount) : nil
    }
    if Int64(data) > offset { return (true, Int64(data)) }
    let hole = lseek(descriptor.rawValue, off_t(offset), CBlockDevice_SEEK_HOLE)
    guard hole >= 0 else { return nil }
    return (false, Int64(hole))
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

/// Zeros handed out for holes; never written.
enum ZeroBuffer {
  nonisolated(unsafe) private static var buffers: [Int: UnsafeRawBufferPointer] = unsafe [:]
  private static let lock = NSLock()

  static func shared(_ size: Int) -> UnsafeRawBufferPointer {
    lock.lock()
    defer { lock.unlock() }
    if let buffer = unsafe buffers[size] { return unsafe buffer }
    let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 4096)
    unsafe memory.initializeMemory(as: UInt8.self, repeating: 0)
    let buffer = UnsafeRawBufferPointer(memory)
    unsafe buffers[size] = buffer
    return unsafe buffer
  }
}

/// A fixed number of slots (and, for pread, page-aligned buffers) handed out and given back
/// across threads. A condition variable, not semaphores: a stream that stops early on an error
/// must still be able to wait for its outstanding windows and be torn down cleanly.
@safe final class BufferRing: @unchecked Sendable {
  @safe struct Buffer: @unchecked Sendable {
    let memory: UnsafeMutableRawBufferPointer
  }
  private var free: [Buffer] = []
  private let all: [Buffer]
  private let slots: Int
  private var outstanding = 0
  private let condition = NSCondition()

  init(count: Int, size: Int, allocate: Bool) {
    var buffers: [Buffer] = []
    if allocate {
      for _ in 0..<count {
        let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 4096)
        buffers.append(unsafe Buffer(memory: memory))
      }
    }
    all = buffers
    free = buffers
    slots = count
  }

  /// Waits for a free slot and takes it (windows with no buffer of the ring: holes, mappings).
  func acquireSlot() {
    condition.lock()
    while outstanding >= slots { condition.wait() }
    outstanding += 1
    condition.unlock()
  }

  func releaseSlot() {
    condition.lock()
    outstanding -= 1
    condition.broadcast()
    condition.unlock()
  }

  /// Waits for a free slot and takes a buffer with it.
  func take() -> Buffer {
    condition.lock()
    while outstanding >= slots || free.isEmpty { condition.wait() }
    outstanding += 1
    let buffer = free.removeLast()
    condition.unlock()
    return buffer
  }

  func give(_ buffer: Buffer) {
    condition.lock()
    free.append(buffer)
    outstanding -= 1
    condition.broadcast()
    condition.unlock()
  }

  func waitUntilAllReturned() {
    condition.lock()
    while outstanding > 0 { condition.wait() }
    condition.unlock()
  }

  deinit {
    for buffer in all { unsafe buffer.memory.deallocate() }
  }
}

/// A small pool of reusable read buffers for `withBytes` (scoped reads), shared by all targets.
@safe final class ScratchBuffers: @unchecked Sendable {
  static let shared = ScratchBuffers()
  private var free: [BufferRing.Buffer] = []
  private let lock = NSLock()
  /// Buffers up to this size are kept for reuse; larger ones are freed after use.
  private let keepLimit = 4 << 20

  func take(_ size: Int) -> BufferRing.Buffer {
    lock.lock()
    if let index = free.firstIndex(where: { unsafe $0.memory.count >= size }) {
      let buffer = free.remove(at: index)
      lock.unlock()
      return buffer
    }
    lock.unlock()
    let capacity = max(size, 1 << 16)
    return unsafe BufferRing.Buffer(
      memory: UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 4096))
  }

  func give(_ buffer: BufferRing.Buffer) {
    lock.lock()
    defer { lock.unlock() }
    if unsafe buffer.memory.count <= keepLimit, free.count < 8 {
      free.append(buffer)
    } else {
      unsafe buffer.memory.deallocate()
    }
  }
}
