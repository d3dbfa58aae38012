import ArgumentParser
import DiskFormat
import FAT

/// `bootbank ls`: the entries of a directory of a FAT volume, as mtools lists them.
struct ListFiles: ReportingCommand {
  var mode: OutputMode { output.mode }

  static let configuration = CommandConfiguration(
    commandName: "ls",
    abstract: "List a directory of a FAT volume (a partition of a device, or a bare FAT image).",
    usage: "bootbank ls <target> [--partition <n>] [<path>] [-l] [-R] [options]",
    discussion: """
      Names are shown as mtools and Linux show them: the long name where there is one, else the \
      8.3 name with Windows' lower-case flags applied. PATH is matched without regard to case.

      Examples:
        bootbank ls disk.img --partition 5 -l
        bootbank ls disk.img --partition 5 / -R --json

      \(ExitStatus.help(ok: "listed", findings: "a directory could not be read whole (-R), the rest is listed", unreadable: "the target or volume cannot be read, or PATH does not exist"))
      """)

  @OptionGroup var volume: FATVolumeOptions

  @Argument(help: "The directory (or file) to list, from the volume root.")
  var path: String = "/"

  @Flag(name: .customShort("l"), help: "Long format: attributes, size, modification time, 8.3 name, name.")
  var long = false

  @Flag(name: .customShort("R"), help: "List subdirectories recursively.")
  var recursive = false

  @OptionGroup var output: OutputOptions

  func run() throws {
    let fat: FATVolume
    let start: FATEntry
    var entries: [FATEntry] = []
    var findings: [Finding] = []
    do {
      fat = try volume.open()
      guard let found = try fat.lookup(path) else { throw FATPathError.notFound(path) }
      start = found
      if !start.isDirectory {
        entries = [start]
      } else if recursive {
        findings = try fat.walk(from: start) { entries.append($0) }
      } else {
        entries = try fat.list(start)
      }
    } catch { throw failure(error, path: volume.target.target) }

    if output.json {
      try printJSON(ListReport(entries: entries.map(FATEntryView.init)))
    } else if long {
      let rows = entries.map { e in
        [
          e.attributes.letters, e.isDirectory ? "<DIR>" : String(e.size),
          e.modified?.description ?? "-", e.shortName, recursive ? e.path : e.name,
        ]
      }
      if !rows.isEmpty { emit(renderTable(rows)) }
    } else {
      for e in entries { emit(recursive ? e.path : e.name + (e.isDirectory ? "/" : "")) }
    }
    for finding in findings { printWarning("bootbank: \(finding.severity.rawValue): \(finding.message)") }
    throw ExitStatus.forFindings(findings).code
  }
}

struct ListReport: Encodable {
  var entries: [FATEntryView]
}
