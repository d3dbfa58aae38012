import ArgumentParser
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
      a free or bad cluster, a link out of range) before its size is reached is an error. cat \
      takes no --json: its standard output is the file.

      Examples:
        bootbank cat disk.img --partition 5 /boot.cfg
        bootbank cat disk.img --bank bootbank /imgdb.tgz | tar -tzf -

      \(ExitStatus.help([(.ok, "the whole file was written"), (.unreadable, "the file cannot be read, or standard output cannot be written")]))
      """)

  @OptionGroup var volume: FATVolumeOptions

  @Argument(help: "The file, from the volume root (matched without regard to case).")
  var path: String

  @OptionGroup var quiet: QuietOption

  func run() throws {
    do {
      let fat = try volume.open()
      try fat.readFile(path) { span in
        try span.withUnsafeBytes { try StandardOutput.write($0) }
      }
    } catch { throw failure(error, path: volume.target.target) }
  }
}
