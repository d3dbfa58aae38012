import ArgumentParser
import DiskIO

/// `bootbank scan`: block devices of this machine (or given images), with their tables.
struct Scan: ReportingCommand {
  var mode: OutputMode { output.mode }

  static let configuration = CommandConfiguration(
    abstract: "List the block devices of this machine (or the given images) and mark ESXi boot devices.",
    usage: "bootbank scan [<path> ...] [options]",
    discussion: """
      Devices come from libblkid's probe of the machine (and /sys/block for whole disks, which \
      libblkid's cache leaves out when they hold no file system). Each row shows our reading of \
      the partition table beside libblkid's.

      A device that cannot be opened (no permission, gone) is a finding: its row says why, \
      the keys that need it opened are null, and the status is 1. Each block device shows its transport, \
      model, serial and size from sysfs, as lsblk -o TRAN,MODEL,SERIAL does, so the right \
      /dev/sdX can be told apart before anything is written to it.

      Examples:
        bootbank scan
        sudo bootbank scan --json
        bootbank scan disk.img other.img

      \(ExitStatus.help([(.ok, "every device was read"), (.findings, "a device or image could not be opened or read")]))
      """)

  @Argument(help: "Image files or devices to scan instead of this machine's block devices.", completion: .file())
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
      emit(ScanRow.render(rows))
    }
    for row in rows where row.error != nil { printWarning("bootbank: warning: \(row.path): \(row.error ?? "")") }
    throw (rows.contains { $0.error != nil } ? ExitStatus.findings : ExitStatus.ok).code
  }
}

struct ScanReport: Codable {
  var devices: [ScanRow]
}
