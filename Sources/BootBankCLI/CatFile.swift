import ArgumentParser
import FAT
import Foundation

/// `bootbank cat`: a file's bytes to standard output, streamed a cluster run at a time.
struct CatFile: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "cat",
    abstract: "Write a file of a FAT volume to standard output.",
    discussion: """
      The file is streamed a cluster run at a time; a file whose cluster chain is broken (a loop,
      a free or bad cluster, a link out of range) before its size is reached is an error and
      nothing is written.

      Example:
        bootbank cat disk.img --partition 5 /boot.cfg

      \(ExitStatus.helpText)
      """)

  @OptionGroup var volume: FATVolumeOptions

  @Argument(help: "The file, from the volume root (matched without regard to case).")
  var path: String

  func run() throws {
    do {
      let fat = try volume.open()
      let out = FileHandle.standardOutput
      try fat.readFile(path) { span in
        var chunk = [UInt8](repeating: 0, count: span.count)
        for i in 0..<span.count { chunk[i] = span[i] }
        try out.write(contentsOf: chunk)
      }
    } catch { throw failure(error, path: volume.target.target) }
  }
}
