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
