import ArgumentParser
import DiskFormat
import FAT
import Foundation

/// `bootbank extract`: copy a tree (or one file) out of a FAT volume, with modification times.
struct Extract: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Copy files out of a FAT volume into a directory, keeping their modification times.",
    discussion: """
      Extracts PATH (the whole volume by default) into DIR, as `mcopy -s -m` does. FAT times have
      no zone; they are written as UTC. A name that could leave DIR ("..", or one holding "/")
      is skipped and reported. A file whose cluster chain is broken is reported and skipped;
      the others are still extracted, and the exit status is 1.

      Example:
        bootbank extract disk.img --partition 5 -o bank-a

      \(ExitStatus.helpText)
      """)

  @OptionGroup var volume: FATVolumeOptions

  @Argument(help: "The file or directory to extract, from the volume root.")
  var path: String = "/"

  @Option(name: .shortAndLong, help: "The directory to extract into (created if missing).")
  var output: String

  func run() throws {
    let fat: FATVolume
    let start: FATEntry
    do {
      fat = try volume.open()
      guard let found = try fat.lookup(path) else { throw FATPathError.notFound(path) }
      start = found
    } catch { throw failure(error, path: volume.target.target) }

    let fm = FileManager.default
    let root = URL(fileURLWithPath: output, isDirectory: true)
    var problems: [String] = []
    var directories: [(URL, FATTimestamp?)] = []
    do {
      try fm.createDirectory(at: root, withIntermediateDirectories: true)
      let base = start.isRoot ? "" : String(start.path.dropLast(start.name.count))
      func destination(_ entry: FATEntry) -> URL? {
        guard !entry.name.contains("/") else { return nil }
        let relative = entry.path.dropFirst(base.count).split(separator: "/").map(String.init)
        guard !relative.isEmpty, relative.allSatisfy({ $0 != "." && $0 != ".." && !$0.contains("\0") }) else {
          return nil
        }
        return relative.reduce(root) { $0.appendingPathComponent($1) }
      }
      func extract(_ entry: FATEntry) throws {
        guard let url = destination(entry) else {
          problems.append("\(entry.path): name cannot be written safely; skipped")
          return
        }
        if entry.isDirectory {
          try fm.createDirectory(at: url, withIntermediateDirectories: true)
          directories.append((url, entry.modified))
          return
        }
        guard fm.createFile(atPath: url.path, contents: nil) else {
          problems.append("\(entry.path): cannot create \(url.path)")
          return
        }
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        do {
          try fat.forEachRun(of: entry) { span in
            var chunk = [UInt8](repeating: 0, count: span.count)
            for i in 0..<span.count { chunk[i] = span[i] }
            try handle.write(contentsOf: chunk)
          }
        } catch let error as FormatError {
          problems.append("\(entry.path): \(error.description)")
          try? handle.close()
          try? fm.removeItem(at: url)
          return
        }
        try setTime(url, entry.modified)
      }
      if start.isDirectory {
        if !start.isRoot { try extract(start) }  // the directory itself, then its tree
        let findings = try fat.walk(from: start) { try extract($0) }
        problems += findings.map(\.message)
      } else {
        try extract(start)
      }
      // Directory times last, deepest first, so writing their contents does not change them.
      for (url, time) in directories.reversed() { try setTime(url, time) }
    } catch { throw failure(error, path: volume.target.target) }
    for problem in problems { printError("bootbank: \(problem)") }
    throw (problems.isEmpty ? ExitStatus.ok : ExitStatus.findings).code
  }

  private func setTime(_ url: URL, _ time: FATTimestamp?) throws {
    guard let time else { return }
    let date = Date(timeIntervalSince1970: TimeInterval(time.secondsSince1970))
    try FileManager.default.setAttributes([.modificationDate: date], ofItemAtPath: url.path)
  }
}
