import CZlib
import CZstd
import SystemPackage

#if canImport(Glibc)
  import Glibc
#endif

/// Writes a disk image file from the bytes that hold data: a sparse raw file (what is not
/// written stays a hole), or a gzip or zstd stream (holes written as compressed zeros; zstd
/// compresses on two worker threads).
///
/// Writes come in ascending offset order. `finish` sets the raw file's size (so it ends
/// with a hole when the device does) or ends the gzip stream, then syncs.
@safe public final class ImageFileWriter {
  public enum Format: String, Sendable, Codable {
    case raw
    case gzip
    case zstd
  }

  public let path: String
  public let format: Format
  let descriptor: Int32
  var position: Int64 = 0
  var deflater: UnsafeMutablePointer<z_stream>?
  var compressor: OpaquePointer?
  var output: [UInt8]
  var finished = false

  /// The format `path`'s suffix asks for.
  public static func format(of path: String) -> Format {
    path.hasSuffix(".gz") ? .gzip : path.hasSuffix(".zst") ? .zstd : .raw
  }

  /// Worker threads of the zstd compressor (the machine's two cores).
  public static let zstdWorkers: Int32 = 2

  /// Creates `path` (mode 0644). An existing file is an error unless `replace`.
  public init(path: String, format: Format, replace: Bool) throws(DiskIOError) {
    let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (replace ? O_TRUNC : O_EXCL)
    let fd = unsafe open(path, flags, 0o644)
    guard fd >= 0 else { throw DiskIOError(.open, path: path, errno: Errno(rawValue: Glibc.errno)) }
    self.path = path
    self.format = format
    descriptor = fd
    output = [UInt8](repeating: 0, count: 1 << 20)
    if format == .gzip {
      let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
      unsafe UnsafeMutableRawPointer(stream).initializeMemory(
        as: UInt8.self, repeating: 0, count: MemoryLayout<z_stream>.size)
      // deflateInit2 is a macro; this is its expansion. 31: a gzip header and trailer.
      let status = unsafe deflateInit2_(
        stream, 1, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
      guard status == Z_OK else {
        unsafe stream.deallocate()
        close(fd)
        unsafe unlink(path)
        throw DiskIOError(.write, path: path, detail: "deflateInit2 failed: \(status)")
      }
      unsafe deflater = stream
    }
    if format == .zstd {
      guard let context = ZSTD_createCCtx() else {
        close(fd)
        unsafe unlink(path)
        throw DiskIOError(.write, path: path, detail: "ZSTD_createCCtx failed")
      }
      ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, 3)
      ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1)
      // Fails (and compression stays on this thread) when libzstd was built without threads.
      ZSTD_CCtx_setParameter(context, ZSTD_c_nbWorkers, Self.zstdWorkers)
      compressor = context
    }
  }

  deinit {
    if let stream = unsafe deflater {
      unsafe deflateEnd(stream)
      unsafe stream.deallocate()
    }
    if let context = compressor { ZSTD_freeCCtx(context) }
    close(descriptor)
  }

  /// Removes the file (after a failure: a half-written image is worse than none).
  public func abandon() {
    unsafe unlink(path)
  }

  /// Stores `bytes` at `offset` (not before the end of the previous write).
  public func write(_ bytes: Span<UInt8>, at offset: Int64) throws(DiskIOError) {
    precondition(offset >= position, "image writes go in ascending order")
    switch format {
    case .raw:
      try unsafe bytes.withUnsafeBytes { (raw) throws(DiskIOError) in try unsafe pwriteAll(raw, at: offset) }
    case .gzip, .zstd:
      try zeros(upTo: offset)
      try unsafe bytes.withUnsafeBytes { (raw) throws(DiskIOError) in try unsafe compress(raw, end: false) }
    }
    position = offset + Int64(bytes.count)
  }

  /// Ends the image at `size` bytes and syncs it.
  public func finish(size: Int64) throws(DiskIOError) {
    switch format {
    case .raw:
      guard ftruncate(descriptor, off_t(size)) == 0 else {
        throw DiskIOError(.write, path: path, errno: Errno(rawValue: Glibc.errno), detail: "ftruncate")
      }
    case .gzip, .zstd:
      try zeros(upTo: size)
      try unsafe compress(UnsafeRawBufferPointer(start: nil, count: 0), end: true)
    }
    position = size
    guard fsync(descriptor) == 0 else { throw DiskIOError(.sync, path: path, errno: Errno(rawValue: Glibc.errno)) }
    finished = true
  }

  /// Compresses zeros from the current position up to `offset`.
  func zeros(upTo offset: Int64) throws(DiskIOError) {
    guard offset > position else { return }
    if format == .zstd && offset - position >= Self.zeroFrameThreshold {
      // End the frame being compressed, then store the run as a frame of RLE blocks: 4 bytes a
      // 128 KiB block, where compressing the zeros would cost a pass over every byte.
      try unsafe zstdCompress(UnsafeRawBufferPointer(start: nil, count: 0), end: true)
      let frame = Self.zeroFrame(count: offset - position)
      try unsafe frame.span.withUnsafeBytes { (raw) throws(DiskIOError) in try unsafe appendAll(raw) }
      position = offset
      return
    }
    let zero = [UInt8](repeating: 0, count: 1 << 20)
    while position < offset {
      let count = Int(min(Int64(zero.count), offset - position))
      try unsafe zero.span.extracting(0..<count).withUnsafeBytes { (raw) throws(DiskIOError) in
        try unsafe compress(raw, end: false)
      }
      position += Int64(count)
    }
  }

  /// Runs of zeros at least this long become a frame of their own (`zeroFrame`).
  static let zeroFrameThreshold: Int64 = 1 << 20

  /// A zstd frame (RFC 8878) that decodes to `count` zero bytes: no content size, no checksum,
  /// a 128 KiB window, and RLE blocks of up to 128 KiB each (a 3-byte header and the byte).
  static func zeroFrame(count: Int64) -> [UInt8] {
    precondition(count > 0)
    let blockMax: Int64 = 128 << 10
    // Magic 0xFD2FB528; descriptor 0 (window descriptor follows); window 2^(10+7) bytes.
    var frame: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD, 0x00, 0x38]
    frame.reserveCapacity(frame.count + Int((count + blockMax - 1) / blockMax) * 4)
    var left = count
    while left > 0 {
      let size = min(left, blockMax)
      left -= size
      let header = UInt32(left == 0 ? 1 : 0) | (1 << 1) | (UInt32(size) << 3)
      frame += [UInt8(header & 0xFF), UInt8((header >> 8) & 0xFF), UInt8(header >> 16), 0x00]
    }
    return frame
  }

  func compress(_ input: UnsafeRawBufferPointer, end: Bool) throws(DiskIOError) {
    if format == .zstd {
      try unsafe zstdCompress(input, end: end)
    } else {
      try unsafe deflate(input, flush: end ? Z_FINISH : Z_NO_FLUSH)
    }
  }

  func zstdCompress(_ input: UnsafeRawBufferPointer, end: Bool) throws(DiskIOError) {
    guard let context = compressor else { return }
    var inBuffer = unsafe ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
    while true {
      let (result, produced) = unsafe output.withUnsafeMutableBytes { out in
        var outBuffer = unsafe ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
        let result = unsafe ZSTD_compressStream2(context, &outBuffer, &inBuffer, end ? ZSTD_e_end : ZSTD_e_continue)
        return (result, outBuffer.pos)
      }
      guard ZSTD_isError(result) == 0 else {
        throw DiskIOError(.write, path: path, detail: "zstd: \(String(cString: ZSTD_getErrorName(result)))")
      }
      if produced > 0 {
        let filled = output
        try unsafe filled.span.extracting(0..<produced).withUnsafeBytes { (raw) throws(DiskIOError) in
          try unsafe appendAll(raw)
        }
      }
      if end {
        if result == 0 { return }
      } else if inBuffer.pos == inBuffer.size {
        return
      }
    }
  }

  func deflate(_ input: UnsafeRawBufferPointer, flush: Int32) throws(DiskIOError) {
    guard let stream = unsafe deflater else { return }
    unsafe stream.pointee.next_in = UnsafeMutablePointer(
      mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self))
    unsafe stream.pointee.avail_in = UInt32(input.count)
    while true {
      let (status, produced) = unsafe output.withUnsafeMutableBytes { out in
        unsafe stream.pointee.next_out = out.baseAddress?.assumingMemoryBound(to: UInt8.self)
        unsafe stream.pointee.avail_out = UInt32(out.count)
        let status = unsafe CZlib.deflate(stream, flush)
        return (status, out.count - Int(unsafe stream.pointee.avail_out))
      }
      guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
        throw DiskIOError(.write, path: path, detail: "deflate: error \(status)")
      }
      if produced > 0 {
        let filled = output
        try unsafe filled.span.extracting(0..<produced).withUnsafeBytes { (raw) throws(DiskIOError) in
          try unsafe appendAll(raw)
        }
      }
      if flush == Z_FINISH {
        if status == Z_STREAM_END { return }
      } else if unsafe stream.pointee.avail_in == 0 && produced < output.count {
        return
      }
    }
  }

  var compressedEnd: Int64 = 0

  func appendAll(_ raw: UnsafeRawBufferPointer) throws(DiskIOError) {
    try unsafe pwriteAll(raw, at: compressedEnd)
    compressedEnd += Int64(raw.count)
  }

  func pwriteAll(_ raw: UnsafeRawBufferPointer, at offset: Int64) throws(DiskIOError) {
    var done = 0
    while done < raw.count {
      let n = unsafe pwrite(descriptor, raw.baseAddress! + done, raw.count - done, off_t(offset + Int64(done)))
      if n < 0 && Glibc.errno == EINTR { continue }
      guard n > 0 else {
        throw DiskIOError(
          .write, path: path, errno: n < 0 ? Errno(rawValue: Glibc.errno) : nil, detail: n == 0 ? "short write" : nil)
      }
      done += n
    }
  }

  /// Why `output` must not receive an image of `target`: it is the target itself, or it lies
  /// on a file system of the target device (or of one of its partitions). Nil when neither.
  public static func refusal(output: String, target: String) -> String? {
    var targetInfo = stat()
    guard unsafe stat(target, &targetInfo) == 0 else { return nil }
    var outputInfo = stat()
    if unsafe stat(output, &outputInfo) == 0, outputInfo.st_dev == targetInfo.st_dev,
      outputInfo.st_ino == targetInfo.st_ino
    {
      return "\(output) is the target itself"
    }
    if unsafe stat(output, &outputInfo) == 0, outputInfo.st_mode & S_IFMT == S_IFBLK,
      outputInfo.st_rdev == targetInfo.st_rdev, targetInfo.st_mode & S_IFMT == S_IFBLK
    {
      return "\(output) is the target device itself"
    }
    guard targetInfo.st_mode & S_IFMT == S_IFBLK else { return nil }
    var folderInfo = stat()
    guard unsafe stat(DurableFile.parent(of: output), &folderInfo) == 0 else { return nil }
    let holder = folderInfo.st_dev
    if holder == targetInfo.st_rdev { return "\(output) lies on a file system of the target \(target)" }
    // A partition of the target: its sysfs folder sits inside the disk's.
    let partition = "/sys/dev/block/\(numbers(holder))"
    if let parentDev = BlockDevices.readText(partition + "/../dev"), parentDev == numbers(targetInfo.st_rdev) {
      return "\(output) lies on a partition of the target \(target)"
    }
    return nil
  }

  /// `MAJOR:MINOR` of a device number, as sysfs writes it (glibc's encoding).
  static func numbers(_ device: dev_t) -> String {
    let major = ((device >> 8) & 0xfff) | ((device >> 32) & ~0xfff)
    let minor = (device & 0xff) | ((device >> 12) & ~0xff)
    return "\(major):\(minor)"
  }
}
