// bootbank-bench: throughput of the checksum kernels in memory, and of the two file readers
// (mapped windows, pread ring) feeding the pipelined digester. A benchmark, not a test:
// `Benchmarks/bench.sh` runs it beside dd, rhash and openssl.
//
//   bootbank-bench kernels [--mib N] [--seconds S]
//   bootbank-bench file PATH [--reader mmap|pread] [--algo crc32,sha256] [--window MiB]
//                  [--threading automatic|inline|pipelined] [--populate] [--quiet]

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
func measure(bytesPerCall: Int, seconds: Double, clock: () -> Double, _ body: () -> Void) -> Double {
  body()  // warm up
  var best = 0.0
  for _ in 0..<3 {
    var calls = 0
    let start = clock()
    var elapsed = 0.0
    repeat {
      body()
      calls += 1
      elapsed = clock() - start
    } while elapsed < seconds / 3
    best = max(best, Double(calls * bytesPerCall) / elapsed)
  }
  return best
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
  print("# pipelined rows by wall-clock time (they use two threads; other load on the machine lowers them)")
  print("kernel                               1MiB GB/s   \(mib)MiB GB/s")
  let only = option("--only", in: args)
  func row(_ name: String, wall: Bool = false, _ run: ([UInt8]) -> Void) {
    if let only, !name.contains(only) { return }
    let clock = wall ? now : threadCPUTime
    let a = measure(bytesPerCall: small.count, seconds: seconds, clock: clock) { run(small) }
    let b = measure(bytesPerCall: big.count, seconds: seconds, clock: clock) { run(big) }
    print(name.rightSpaced(36) + " " + formatRate(a, 1).leftSpaced(9)
      + "   " + formatRate(b, 1).leftSpaced(9))
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

/// Hashes `path` through mapped windows, each unmapped as soon as every algorithm is done with it.
func digestMapped(
  path: String, algorithms: Set<Algorithm>, threading: Threading, window: Int, populate: Bool
) throws -> Digests {
  let fd = open(path, O_RDONLY | O_CLOEXEC)
  guard fd >= 0 else { throw FileError(description: "open \(path): \(errnoText())") }
  defer { close(fd) }
  var st = stat()
  guard fstat(fd, &st) == 0 else { throw FileError(description: "fstat \(path): \(errnoText())") }
  let size = Int(st.st_size)
  return try Digester.digest(algorithms, threading: threading) { digester in
    var offset = 0
    while offset < size {
      let length = min(window, size - offset)
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

/// Hashes `path` with pread into a ring of reused aligned buffers.
func digestPread(path: String, algorithms: Set<Algorithm>, threading: Threading, buffer: Int) throws -> Digests {
  let fd = open(path, O_RDONLY | O_CLOEXEC)
  guard fd >= 0 else { throw FileError(description: "open \(path): \(errnoText())") }
  defer { close(fd) }
  _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
  var offset: off_t = 0
  return try Digester.digest(algorithms, threading: threading, bufferSize: buffer, ringDepth: 4) { free in
    var done = 0
    while done < free.count {
      let n = pread(fd, free.baseAddress! + done, free.count - done, offset)
      if n < 0 {
        if errno == EINTR { continue }
        throw FileError(description: "pread \(path) at \(offset): \(errnoText())")
      }
      if n == 0 { break }
      done += n
      offset += off_t(n)
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
  let start = now()
  let digests: Digests
  do {
    switch reader {
    case "mmap":
      digests = try digestMapped(
        path: path, algorithms: algorithms, threading: threading, window: windowMiB << 20,
        populate: args.contains("--populate"))
    case "pread":
      digests = try digestPread(path: path, algorithms: algorithms, threading: threading, buffer: windowMiB << 20)
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
  fail("usage: bootbank-bench kernels [--mib N] [--seconds S] | file PATH [--reader mmap|pread] [--algo LIST] [--window MiB] [--threading automatic|inline|pipelined] [--populate]")
}
