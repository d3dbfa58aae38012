import FuzzTargets

#if canImport(Glibc)
  import Glibc
#endif
#if FUZZING
  import CLibFuzzer
#endif

/// Writes `message` on standard error and exits.
func fail(_ message: String, status: Int32) -> Never {
  let line = message + "\n"
  _ = line.withCString { write(2, $0, strlen($0)) }
  exit(status)
}

/// The target a libFuzzer run fuzzes, from `BOOTBANK_FUZZ_TARGET` (libFuzzer owns the arguments).
let selectedTarget: FuzzTarget = {
  guard let name = getenv("BOOTBANK_FUZZ_TARGET").map({ String(cString: $0) }), let target = FuzzTarget(rawValue: name)
  else {
    let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
    fail("bootbank-fuzz: set BOOTBANK_FUZZ_TARGET to one of: \(names)", status: 2)
  }
  return target
}()

/// One input, fed to the selected parser (libFuzzer's `LLVMFuzzerTestOneInput`, which its
/// runtime references even when `main` starts the driver).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
  selectedTarget.run(bytes)
  return 0
}

/// Built with `-sanitize=fuzzer,address -D FUZZING` (`make fuzz`): libFuzzer's driver with its
/// usual flags, `BOOTBANK_FUZZ_TARGET=fat bootbank-fuzz -max_total_time=30 CORPUS SEEDS`.
/// Otherwise `bootbank-fuzz TARGET FILE...` replays saved inputs without the fuzzer.
@main
enum Main {
  static func main() {
    #if FUZZING
      _ = selectedTarget
      var argc = CommandLine.argc
      var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
      exit(LLVMFuzzerRunDriver(&argc, &argv) { fuzzOneInput($0, $1) })
    #else
      let arguments = CommandLine.arguments.dropFirst()
      guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
        let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")
        fail("usage: bootbank-fuzz \(names) FILE...", status: 2)
      }
      for path in arguments.dropFirst() {
        guard let file = fopen(path, "rb") else { fail("bootbank-fuzz: cannot open \(path)", status: 1) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
          let count = fread(&chunk, 1, chunk.count, file)
          if count <= 0 { break }
          bytes += chunk[..<count]
        }
        fclose(file)
        target.run(bytes)
        print("\(path): \(bytes.count) bytes, no crash")
      }
    #endif
  }
}
