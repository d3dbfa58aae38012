import ArgumentParser
import DiskIO

/// `bootbank scan`: block devices of this machine (or given images), with their tables.
struct Scan: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List the block devices of this machine (or the given images) and mark ESXi boot devices.",
    discussion: """
      Devices come from libblkid's probe of the machine (and /sys/block for whole disks, which
      libblkid's cache leaves out when they hold no file system). Each row shows our reading of
      the partition table beside libblkid's.

      \(ExitStatus.helpText)
      """)

  @Argument(help: "Image files or devices to scan instead of this machine's block devices.")
  var paths: [String] = []

  @OptionGroup var output: OutputOptions

  func run() throws {
    let devices = paths.isEmpty ? BlockDevices.wholeDisks() : paths
    var rows: [ScanRow] = []
    for path in devices {
      rows.append(ScanRow.make(path: path))
    }
    if output.json {
      try printJSON(ScanReport(devices: rows))
    } else {
      print(ScanRow.render(rows))
    }
    if rows.contains(where: { $0.error != nil }) && !paths.isEmpty { throw ExitStatus.unreadable.code }
  }
}

struct ScanReport: Codable {
  var devices: [ScanRow]
}
