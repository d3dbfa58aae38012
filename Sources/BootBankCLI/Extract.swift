import ArgumentParser
import DiskFormat
import FAT
import Foundation

extension Finding {
  /// A check finding that says a file's cluster chain is damaged (what `extract` warns about).
  var isChainDamage: Bool {
    path != nil && (kind.hasPrefix("chain") || ["sharedClusters", "circularChain", "badFirstCluster"].contains(kind))
  }
}

/// `bootbank extract`: copy a tree (or one file) out of a FAT volume, with modification times.
struct Extract: ReportingCommand {
  var mode: OutputMode { report.mode }

  static let configuration = CommandConfiguration(
    abstract: "Copy files out of a FAT volume into a directory, keeping their modification times.",
    usage: "bootbank extract <target> [--partition <n>] [<path>] -o <dir> [options]",
    discussion: """
      Extracts PATH (the whole volume by default) into DIR, as `mcopy -s -m` does. FAT times have \
      no zone; they are written as UTC. A name that could leave DIR ("..", or one holding "/") \
      is skipped and reported. The volume is checked first: a file whose cluster chain is \
      damaged (shared with another file, a loop, a free or bad cluster, shorter or longer than \
      its size) is extracted as far as it can be read, with a warning naming it; the others are \
      extracted whole, and the exit status is 1. --json prints what was extracted and the \
      findings.

      Examples:
        bootbank extract disk.img --partition 5 -o bank-a
        bootbank extract disk.img --bank altbootbank /boot.cfg -o saved --json

      \(ExitStatus.help(ok: "every file extracted whole", findings: "a file was damaged or skipped (the rest is extracted)", unreadable: "the volume cannot be read, PATH does not exist, or DIR is unwritable"))
      """)

  @OptionGroup var volume: FATVolumeOptions

  @Argument(help: "The file or directory to extract, from the volume root.")
  var path: String = "/"

  @Option(name: .shortAndLong, help: "The directory to extract into (created if missing).")
  var output: String

  @OptionGroup var report: OutputOptions

  /// `extract --json`: `{"directory", "files", "findings"}`.
  struct Summary: Encodable {
    var directory: String
    /// Every file and directory written, by its path in the volume.
    var files: [String]
    var findings: [Finding]
  }

  func run() throws {
    let fat: FATVolume
    let start: FATEntry
    let damaged: [String: [Finding]]
    do {
      fat = try volume.open()
      damaged = Dictionary(grouping: try fat.check().findings.filter(\.isChainDamage)) { $0.path?.lowercased() ?? "" }
      guard let found = try fat.lookup(path) else { throw FATPathError.notFound(path) }
      start = found
    } catch { throw failure(error, path: volume.target.target) }

    let fm = FileManager.default
    let root = URL(fileURLWithPath: output, isDirectory: true)
    var problems: [Finding] = []
    var written: [String] = []
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
          problems.append(
            .warning("unsafeName", "\(entry.path): name cannot be written safely; skipped", path: entry.path))
          return
        }
        if entry.isDirectory {
          try fm.createDirectory(at: url, withIntermediateDirectories: true)
          directories.append((url, entry.modified))
          written.append(entry.path)
          return
        }
        guard fm.createFile(atPath: url.path, contents: nil) else {
          throw CLIError(.cannotWrite, path: url.path, "cannot create the file")
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
          problems.append(
            .warning(
              "chainBroken", "\(entry.path): broken cluster chain, extracted up to the break: \(error)",
              path: entry.path))
          try setTime(url, entry.modified)
          written.append(entry.path)
          return
        }
        if let found = damaged[entry.path.lowercased()], let first = found.first {
          let why = found.map {
            $0.message.hasPrefix(entry.path + ": ") ? String($0.message.dropFirst(entry.path.count + 2)) : $0.message
          }
          problems.append(
            .warning(
              first.kind,
              "\(entry.path): damaged cluster chain, extracted as far as it reads: "
                + why.joined(separator: "; "), offset: first.offset, path: entry.path))
        }
        try setTime(url, entry.modified)
        written.append(entry.path)
      }
      if start.isDirectory {
        if !start.isRoot { try extract(start) }  // the directory itself, then its tree
        let findings = try fat.walk(from: start) { try extract($0) }
        problems += findings
      } else {
        try extract(start)
      }
      // Directory times last, deepest first, so writing their contents does not change them.
      for (url, time) in directories.reversed() { try setTime(url, time) }
    } catch let error as CLIError {
      throw error
    } catch { throw failure(error, path: output) }
    if report.json {
      try printJSON(Summary(directory: output, files: written, findings: problems))
    } else {
      for problem in problems { printWarning("bootbank: \(problem.severity.rawValue): \(problem.message)") }
    }
    throw (problems.isEmpty ? ExitStatus.ok : ExitStatus.findings).code
  }

  private func setTime(_ url: URL, _ time: FATTimestamp?) throws {
    guard let time else { return }
    let date = Date(timeIntervalSince1970: TimeInterval(time.secondsSince1970))
    try FileManager.default.setAttributes([.modificationDate: date], ofItemAtPath: url.path)
  }
}
