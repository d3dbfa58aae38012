import ArgumentParser
import DiskIO

/// The target every reading command takes.
struct TargetOptions: ParsableArguments {
  @Argument(help: "An image file or a block device (e.g. /dev/sdb).", completion: .file())
  var target: String

  @Option(
    name: .long, parsing: .unconditional,
    help:
      "Logical sector size of an image file: 512 or 4096 (default: 512, or 4096 when the GPT is found only there). Block devices report their own."
  )
  var sectorSize: Int?

  func validate() throws {
    if let sectorSize, sectorSize != 512, sectorSize != 4096 {
      throw ValidationError("--sector-size must be 512 or 4096, not \(sectorSize)")
    }
  }

  /// Opens the target read-only.
  func open() throws -> Target {
    try Target(path: target, sectorSize: sectorSize)
  }
}

/// `--format` and `--textfile` of the commands that expose metrics (status, verify).
struct MetricsOptions: ParsableArguments {
  enum Format: String, ExpressibleByArgument, CaseIterable {
    case text, json, prometheus
  }

  @Option(
    name: .long,
    help:
      "Output format: text, json (as --json) or prometheus (the text exposition format node_exporter's textfile collector reads)."
  )
  var format: Format?

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Also write the metrics to FILE atomically (temporary file, fsync, rename), for node_exporter's textfile collector.",
      valueName: "FILE.prom"),
    completion: .file(extensions: ["prom"]))
  var textfile: String?

  func validate() throws {
    if let textfile, !textfile.hasSuffix(".prom") {
      throw ValidationError("--textfile must name a .prom file (the textfile collector reads only those): \(textfile)")
    }
  }

  /// Whether metrics are asked for at all.
  var wanted: Bool { format == .prometheus || textfile != nil }

  /// Prints the metrics when `--format prometheus`, and writes `--textfile`.
  func publish(_ metrics: Prometheus) throws {
    let text = metrics.render()
    if format == .prometheus { emit(String(text.dropLast())) }
    if let textfile {
      do { try AtomicFile.write(Array(text.utf8), to: textfile) } catch {
        throw failure(error, path: textfile)
      }
    }
  }
}
