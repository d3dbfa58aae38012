import ArgumentParser
import DiskFormat
import FAT
import Foundation

/// `bootbank cat`: a file's bytes to standard output, streamed a cluster run at a time.
struct CatFile: ReportingCommand {
  var mode: OutputMode { OutputMode(json: false, quiet: quiet.quiet) }

  static let configuration = CommandConfiguration(
    commandName: "cat",
    abstract: "Write a file of a FAT volume to standard output.",
    usage: "bootbank cat <target> [--partition <n>] <path> [options]",
    discussion: """
      The file is streamed a cluster run at a time; a file whose cluster chain is broken (a loop, \
      a free or bad cluster, a link out of range) before its size is reached is an error. A \
      chain the volume check finds damaged otherwise (shared with another file, longer than the \
      size) is written as far as it reads, with a warning, and the status is 1. cat takes no \
      --json: its standard output is the file.

      Examples:
        bootbank cat disk.img --partition 5 /boot.cfg
        bootbank cat disk.img --bank bootbank /imgdb.tgz | tar -tzf -

      \(ExitStatus.help([(.ok, "the whole file was written"), (.findings, "written, but its cluster chain is damaged (a warning says how)"), (.unreadable, "the file cannot be read, or standard output cannot be written")]))
      """)

  @OptionGroup var volume: FATVolumeOptions

  @Argument(help: "The file, from the volume root (matched without regard to case).")
  var path: String

  @OptionGroup var quiet: QuietOption

  func run() throws {
    var damage: [Finding] = []
    do {
      let fat = try volume.open()
      if let entry = try fat.lookup(path) {
        damage = try fat.check().findings.filter {
          $0.isChainDamage && $0.path?.lowercased() == entry.path.lowercased()
        }
      }
      try fat.readFile(path) { span in
        try span.withUnsafeBytes { try StandardOutput.write($0) }
      }
    } catch { throw failure(error, path: volume.target.target) }
    guard let first = damage.first, let name = first.path else { return }
    let why = damage.map {
      $0.message.hasPrefix(name + ": ") ? String($0.message.dropFirst(name.count + 2)) : $0.message
    }
    printWarning(
      "bootbank: warning: \(name): damaged cluster chain, written as far as it reads: " + why.joined(separator: "; "))
    throw ExitStatus.findings.code
  }
}
