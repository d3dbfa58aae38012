// bootbank-bench: throughput of the checksum kernels in memory, and of the two file readers
// (mapped windows, pread ring) feeding the pipelined digester. A benchmark, not a test:
// `Benchmarks/bench.sh` runs it beside dd, rhash and openssl.
//
//   bootbank-bench kernels [--mib N] [--seconds S]
//   bootbank-bench file PATH [--reader mmap|pread] [--algo crc32,sha256] [--window MiB]
//                  [--threading automatic|inline|pipelined] [--populate] [--no-holes]

import CISAL
import CZlib
import Checksum
import Glibc

func now() -> Double {
  var ts = timespec()
  clock_gettime(CLOCK_MONOTONIC, &ts)
  return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// User CPU time of the calling thread (`getrusage(RUSAGE_THREAD)`), the divisor `openssl speed`
/// uses by default (its `times()` user time), so the two tools' figures compare under load.
func threadCPUTime() -> Double {
  var usage = rusage()
  getrusage(__rusage_who_t(1), &usage)  // RUSAGE_THREAD
  return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
}

func fail(_ message: String) -> Never {
  let line = "bootbank-bench: \(message)\n"
  _ = line.withCString { write(2, $0, strlen($0)) }
  exit(2)
}

func option(_ name: String, in args: [String]) -> String? {
  guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
  return args[i + 1]
}

func formatRate(_ bytes: Double, _ seconds: Double) -> String {
  let gbs = bytes / seconds / 1e9
  return String(Int((gbs * 100).rounded())).leftPadded(4).inserting(dotAt: 2)
}

extension String {
  func leftPadded(_ width: Int) -> String {
    count >= width ? self : String(repeating: "0", count: width - count) + self
  }
  func inserting(dotAt fromEnd: Int) -> String {
    var s = self
    s.insert(".", at: s.index(s.endIndex, offsetBy: -fromEnd))
    while s.hasPrefix("0") && !s.hasPrefix("0.") { s.removeFirst() }
    return s
  }
}

/// Runs `body` (which processes `bytesPerCall` bytes) repeatedly for about `seconds` of
/// `clock` time; returns bytes per second of the best of three timed rounds.
func measure(bytesPerCall: Int, seconds: Double, clock: () -> Double, _ body: () -> Void) -> (
  rate: Double, cpuRate: Double
) {
  body()  // warm up
  var best = (rate: 0.0, cpuRate: 0.0)
  for _ in 0..<3 {
    var calls = 0
    let start = clock()
    let cpuStart = processCPUTime()
    var elapsed = 0.0
    repeat {
      body()
      calls += 1
      elapsed = clock() - start
    } while elapsed < seconds / 3
    let bytes = Double(calls * bytesPerCall)
    if bytes / elapsed > best.rate { best = (bytes / elapsed, bytes / (processCPUTime() - cpuStart)) }
  }
  return best
}

/// User + system CPU time of the whole process (all threads).
func processCPUTime() -> Double {
  var usage = rusage()
  getrusage(__rusage_who_t(0), &usage)  // RUSAGE_SELF
  return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
    + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

func kernels(_ args: [String]) {
  let mib = Int(option("--mib", in: args) ?? "") ?? 256
  let seconds = Double(option("--seconds", in: args) ?? "") ?? 3
  var generator = SystemRandomNumberGenerator()
  let big = (0..<(mib << 20) / 8).flatMap { _ -> [UInt8] in
    let v = generator.next() as UInt64
    return withUnsafeBytes(of: v) { Array($0) }
  }
  let small = Array(big[0..<(1 << 20)])
  print("# kernels in memory: 1 MiB buffer (cache-hot, as `openssl speed -bytes 1048576`) and \(mib) MiB buffer")
  print("# single-thread rows divide by the thread's CPU time (as `openssl speed` does by default),")
  print("# pipelined rows by wall-clock time (they use two threads; other load on the machine lowers them),")
  print("# then bytes per CPU-second of all threads (the pipeline's overhead, independent of load)")
  print("kernel                               1MiB GB/s   \(mib)MiB GB/s")
  let only = option("--only", in: args)
  func row(_ name: String, wall: Bool = false, _ run: ([UInt8]) -> Void) {
    if let only, !name.contains(only) { return }
    let clock = wall ? now : threadCPUTime
    let a = measure(bytesPerCall: small.count, seconds: seconds, clock: clock) { run(small) }
    let b = measure(bytesPerCall: big.count, seconds: seconds, clock: clock) { run(big) }
    var line =
      name.rightSpaced(36) + " " + formatRate(a.rate, 1).leftSpaced(9)
      + "   " + formatRate(b.rate, 1).leftSpaced(9)
    if wall {
      line += "   (per CPU-second: " + formatRate(a.cpuRate, 1) + ", " + formatRate(b.cpuRate, 1) + ")"
    }
    print(line)
  }
  row("crc32 isa-l (crc32_gzip_refl)") { bytes in _ = CRC32.checksum(bytes, backend: .isal) }
  row("crc32 zlib") { bytes in _ = CRC32.checksum(bytes, backend: .zlib) }
  row("sha256 swift-crypto") { bytes in
    var h = SHA256Hasher()
    h.update(bytes)
    _ = h.finalize()
  }
  row("sha1 swift-crypto") { bytes in
    var h = SHA1Hasher()
    h.update(bytes)
    _ = h.finalize()
  }
  row("crc32+sha256 inline") { bytes in _ = Digester.digest([.crc32, .sha256], of: bytes) }
  row("crc32+sha256 pipelined (wall)", wall: true) { bytes in
    _ = try? Digester.digest([.crc32, .sha256], threading: .pipelined) { d in
      bytes.withUnsafeBytes { d.consume($0) }
    }
  }
  row("crc32+sha256+sha1 pipelined (wall)", wall: true) { bytes in
    _ = try? Digester.digest([.crc32, .sha256, .sha1], threading: .pipelined) { d in
      bytes.withUnsafeBytes { d.consume($0) }
    }
  }
}

extension String {
  func rightSpaced(_ width: Int) -> String {
    count >= width ? self : self + String(repeating: " ", count: width - count)
  }
  func leftSpaced(_ width: Int) -> String {
    count >= width ? self : String(repeating: " ", count: width - count) + self
  }
}

struct FileError: Error, CustomStringConvertible {
  let description: String
}

func errnoText() -> String { String(cString: strerror(errno)) }

/// The segment of a file that starts at `position`: data up to `end`, or a hole up to `end`.
///
/// Uses `lseek(SEEK_DATA/SEEK_HOLE)`; a file system without them reports all data. Holes read
/// as zeros, so a reader can feed zeros instead of faulting in or copying zero pages.
func segment(fd: Int32, at position: Int, size: Int, skipHoles: Bool) -> (isHole: Bool, end: Int) {
  guard skipHoles else { return (false, size) }
  let seekData: Int32 = 3
  let seekHole: Int32 = 4  // SEEK_DATA, SEEK_HOLE (need _GNU_SOURCE in C)
  let data = lseek(fd, off_t(position), seekData)
  if data < 0 { return errno == ENXIO ? (true, size) : (false, size) }
  let page = 4096
  let dataStart = Int(data) / page * page
  if dataStart > position { return (true, dataStart) }
  let hole = lseek(fd, off_t(position), seekHole)
  return (false, hole < 0 ? size : min(Int(hole), size))
}

/// A zero-filled buffer fed for holes; lives until the digest is finished.
final class Zeros: @unchecked Sendable {
  let buffer: UnsafeMutableRawBufferPointer
  init(count: Int) {
    buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 4096)
    buffer.initializeMemory(as: UInt8.self, repeating: 0)
  }
  deinit { buffer.deallocate() }
}

/// Hashes `path` through mapped windows, each unmapped as soon as every algorithm is done with
/// it; holes are fed from a zero buffer instead of being mapped.
func digestMapped(
  path: String, algorithms: Set<Algorithm>, threading: Threading, window: Int, populate: Bool, skipHoles: Bool
) throws -> Digests {
  let fd = open(path, O_RDONLY | O_CLOEXEC)
  guard fd >= 0 else { throw FileError(description: "open \(path): \(errnoText())") }
  defer { close(fd) }
  var st = stat()
  guard fstat(fd, &st) == 0 else { throw FileError(description: "fstat \(path): \(errnoText())") }
  let size = Int(st.st_size)
  let zeros = Zeros(count: 1 << 20)
  // Chunk size and queue depth of the pipeline: BENCH_CHUNK_KIB, BENCH_DEPTH (for tuning).
  let chunk = (Int(getenv("BENCH_CHUNK_KIB").map { String(cString: $0) } ?? "") ?? 1024) << 10
  let depth = Int(getenv("BENCH_DEPTH").map { String(cString: $0) } ?? "") ?? 8
  return try withExtendedLifetime(zeros) {
    let digester = PipelinedDigester(algorithms, threading: threading, chunkSize: chunk, depth: depth)
    defer { digester.drain() }
    do {
      var offset = 0
      while offset < size {
        let (isHole, end) = segment(fd: fd, at: offset, size: size, skipHoles: skipHoles)
        if isHole {
          while offset < end {
            let n = min(zeros.buffer.count, end - offset)
            digester.consume(UnsafeRawBufferPointer(rebasing: zeros.buffer[0..<n]), release: {})
            offset += n
          }
          continue
        }
        while offset < end {
          let length = min(window, end - offset)
          let flags = MAP_SHARED | (populate ? MAP_POPULATE : 0)
          guard let base = mmap(nil, length, PROT_READ, flags, fd, off_t(offset)), base != MAP_FAILED else {
            throw FileError(description: "mmap \(path) at \(offset): \(errnoText())")
          }
          _ = madvise(base, length, MADV_SEQUENTIAL)
          let address = UInt(bitPattern: base)
          digester.consume(UnsafeRawBufferPointer(start: base, count: length)) {
            _ = munmap(UnsafeMutableRawPointer(bitPattern: address), length)
          }
          offset += length
        }
      }
    }
    return digester.finalize()
  }
}

/// Hashes `path` with pread into a ring of reused aligned buffers; holes are zero-filled
/// instead of read.
func digestPread(
  path: String, algorithms: Set<Algorithm>, threading: Threading, buffer: Int, skipHoles: Bool
) throws -> Digests {
  let fd = open(path, O_RDONLY | O_CLOEXEC)
  guard fd >= 0 else { throw FileError(description: "open \(path): \(errnoText())") }
  defer { close(fd) }
  var st = stat()
  guard fstat(fd, &st) == 0 else { throw FileError(description: "fstat \(path): \(errnoText())") }
  let size = Int(st.st_size)
  _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
  var offset = 0
  var current = (isHole: false, end: 0)
  return try Digester.digest(algorithms, threading: threading, bufferSize: buffer, ringDepth: 4) { free in
    var done = 0
    while done < free.count && offset < size {
      if offset >= current.end { current = segment(fd: fd, at: offset, size: size, skipHoles: skipHoles) }
      let want = min(free.count - done, current.end - offset)
      guard let target = free.baseAddress?.advanced(by: done) else { break }
      if current.isHole {
        target.initializeMemory(as: UInt8.self, repeating: 0, count: want)
        done += want
        offset += want
        continue
      }
      let n = pread(fd, target, want, off_t(offset))
      if n < 0 {
        if errno == EINTR { continue }
        throw FileError(description: "pread \(path) at \(offset): \(errnoText())")
      }
      if n == 0 { break }  // the file shrank
      done += n
      offset += n
    }
    return done
  }
}

func file(_ args: [String]) {
  guard args.count >= 2 else { fail("file: missing PATH") }
  let path = args[1]
  let reader = option("--reader", in: args) ?? "mmap"
  let algorithms: Set<Algorithm>
  switch Algorithm.parseList(option("--algo", in: args) ?? "crc32,sha256") {
  case .success(let set) where !set.isEmpty: algorithms = set
  case .success: fail("--algo: empty list")
  case .failure(let error): fail(error.description)
  }
  let threading: Threading =
    switch option("--threading", in: args) ?? "automatic" {
    case "inline": .inline
    case "pipelined": .pipelined
    default: .automatic
    }
  let windowMiB = Int(option("--window", in: args) ?? "") ?? (reader == "mmap" ? 8 : 2)
  let windowBytes = Int(option("--window-kib", in: args) ?? "").map { $0 << 10 } ?? windowMiB << 20
  let start = now()
  let digests: Digests
  do {
    switch reader {
    case "mmap":
      digests = try digestMapped(
        path: path, algorithms: algorithms, threading: threading, window: windowBytes,
        populate: args.contains("--populate"), skipHoles: !args.contains("--no-holes"))
    case "pread":
      digests = try digestPread(
        path: path, algorithms: algorithms, threading: threading, buffer: windowBytes,
        skipHoles: !args.contains("--no-holes"))
    default:
      fail("--reader: expected mmap or pread")
    }
  } catch {
    fail("\(error)")
  }
  let elapsed = now() - start
  var fields: [String] = []
  for algorithm in algorithms.sorted() {
    if let hex = digests.hex(algorithm) { fields.append("\(algorithm.rawValue)=\(hex)") }
  }
  fields.append("bytes=\(digests.byteCount)")
  fields.append("seconds=\(elapsed)")
  fields.append("gbps=\(formatRate(Double(digests.byteCount), elapsed))")
  print(fields.joined(separator: " "))
}

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "kernels": kernels(arguments)
case "file": file(arguments)
default:
  fail(
    "usage: bootbank-bench kernels [--mib N] [--seconds S] | file PATH [--reader mmap|pread] [--algo LIST] [--window MiB] [--threading automatic|inline|pipelined] [--populate] [--no-holes]"
  )
}
