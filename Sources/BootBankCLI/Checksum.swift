import ArgumentParser
import BootBanks
import Checksum
import DiskFormat
import DiskIO
import FAT
import Foundation
import PartitionTable

/// `bootbank checksum`: digests of a device, a partition, or every file of its FAT partitions.
struct ChecksumCommand: ReportingCommand {
  var mode: OutputMode { output.mode }

  static let configuration = CommandConfiguration(
    commandName: "checksum",
    abstract: "Digest a device, a partition, or every file of its FAT partitions; save and re-check manifests.",
    usage: "bootbank checksum <target> [--partition <n>] [--files] [options]",
    discussion: """
      One read pass feeds every algorithm asked for; on two or more cores each algorithm runs on \
      its own worker thread while the main thread reads. Files are read straight from the FAT \
      volume (no extraction) and hashed in parallel up to the core count.

      --manifest FILE writes what was measured as JSON (device identity, table, regions, files, \
      digests, time) and beside it FILE.sha256, a list that `sha256sum -c` checks (run it in a \
      folder where `bootbank extract` put the partition's files). --check FILE re-reads the \
      target and reports every difference: bit rot on a card shows up here.

      Examples:
        bootbank checksum /dev/sdb --algo sha256
        bootbank checksum disk.img --files --manifest saved.json
        bootbank checksum disk.img --check saved.json

      \(ExitStatus.help(ok: "digested (with --check: everything matches)", findings: "a file could not be read (with --check: a difference)", unreadable: "the target or a manifest cannot be read or written"))
      """)

  @OptionGroup var target: TargetOptions

  @Option(name: .long, parsing: .unconditional, help: "Digest only this partition (Linux/ESXi numbering).")
  var partition: Int?

  @Flag(name: .long, help: "Digest every file of the FAT partition (or of every FAT partition).")
  var files = false

  @Option(name: .long, help: "Algorithms, comma-separated: crc32, sha256, sha1.")
  var algo = "crc32,sha256"

  @Option(name: .long, help: "Write the digests to this JSON manifest (and a sha256sum list beside it).")
  var manifest: String?

  @Option(name: .long, help: "Re-read the target and compare it with this manifest.")
  var check: String?

  @OptionGroup var output: OutputOptions

  func validate() throws {
    if case .failure(let error) = Algorithm.parseList(algo) { throw ValidationError(error.description) }
    if let partition, partition < 1 { throw ValidationError("--partition must be 1 or more, not \(partition)") }
    if manifest != nil && check != nil { throw ValidationError("--manifest and --check cannot be used together") }
  }

  func run() throws {
    if let check { return try runCheck(check) }
    let algorithms = (try? Algorithm.parseList(algo).get()) ?? [.crc32, .sha256]
    let measured: ChecksumManifest
    var problems: [Finding] = []
    do {
      let device = try OpenedDevice.open(target)
      measured = try Measure.run(
        device, partition: partition, files: files, algorithms: algorithms, progress: true, problems: &problems)
    } catch { throw failure(error, path: target.target) }
    if let manifest {
      do { try Measure.save(measured, to: manifest) } catch { throw failure(error, path: manifest) }
    }
    if output.json {
      try printJSON(MeasuredReport(manifest: measured, findings: problems))
    } else {
      emit(Measure.render(measured, algorithms: algorithms.sorted()))
      for finding in problems { printWarning("bootbank: \(finding.severity.rawValue): \(finding.message)") }
    }
    throw ExitStatus.forFindings(problems).code
  }

  /// `checksum --json`: the manifest's keys, plus the files that could not be read.
  struct MeasuredReport: Encodable {
    var manifest: ChecksumManifest
    var findings: [Finding]
    func encode(to encoder: any Encoder) throws {
      try manifest.encode(to: encoder)
      var container = encoder.container(keyedBy: Keys.self)
      try container.encode(findings, forKey: .findings)
    }
    enum Keys: String, CodingKey { case findings }
  }

  func runCheck(_ path: String) throws {
    let saved: ChecksumManifest
    saved = try ChecksumManifestFile.load(path)
    let algorithms = Set(saved.algorithms.compactMap(Algorithm.init(rawValue:)))
    let now: ChecksumManifest
    var problems: [Finding] = []
    do {
      let device = try OpenedDevice.open(target)
      let partitions = Set(saved.regions.compactMap(\.partition))
      let wholeDevice = saved.regions.contains { $0.partition == nil }
      let filesMode = !saved.files.isEmpty
      var regions: [ChecksumManifest.Region] = []
      var files: [ChecksumManifest.File] = []
      if wholeDevice {
        regions += try Measure.run(
          device, partition: nil, files: false, algorithms: algorithms, progress: true, problems: &problems
        ).regions
      }
      for number in partitions.sorted() {
        regions += try Measure.run(
          device, partition: number, files: false, algorithms: algorithms, progress: true, problems: &problems
        ).regions
      }
      if filesMode {
        for number in Set(saved.files.map(\.partition)).sorted() {
          files += try Measure.run(
            device, partition: number, files: true, algorithms: algorithms, progress: false, problems: &problems
          ).files
        }
      }
      now = ChecksumManifest(
        created: Measure.timestamp(), device: saved.device, algorithms: saved.algorithms, regions: regions, files: files
      )
    } catch { throw failure(error, path: target.target) }
    // A file that could not be read is reported once, as unreadable, not also as gone.
    let unreadable = Set(problems.compactMap { p in p.path.map { "\(p.partition ?? 0):\($0.lowercased())" } })
    let differences =
      problems
      + Measure.compare(saved: saved, now: now).filter { finding in
        finding.kind != "fileMissing"
          || !unreadable.contains("\(finding.partition ?? 0):\((finding.path ?? "").lowercased())")
      }
    if output.json {
      try printJSON(CheckReport(equal: differences.isEmpty, findings: differences))
    } else if differences.isEmpty {
      emit("\(target.target): every region and file matches \(path) (saved \(saved.created))")
    } else {
      for finding in differences { emit("\(finding.severity.rawValue): \(finding.message)") }
    }
    throw ExitStatus.forFindings(differences).code
  }

  struct CheckReport: Encodable {
    var equal: Bool
    var findings: [Finding]
  }
}

/// Measuring, saving and comparing digests.
enum Measure {
  static func timestamp() -> String {
    let formatter = ISO8601DateFormatter()
    formatter.timeZone = TimeZone(identifier: "UTC")
    return formatter.string(from: Date())
  }

  /// Measures a device, a partition or the files of FAT partitions. Files that cannot be read
  /// (a bad sector, a broken chain) are left out of the result and added to `problems`.
  static func run(
    _ device: OpenedDevice, partition: Int?, files: Bool, algorithms: Set<Algorithm>, progress: Bool,
    problems: inout [Finding]
  ) throws -> ChecksumManifest {
    let layout = device.layout
    var regions: [ChecksumManifest.Region] = []
    var fileDigests: [ChecksumManifest.File] = []
    let chosen: Partition?
    if let partition {
      guard let found = layout.partition(partition) else {
        throw CLIError.noSuchPartition(partition, in: layout, path: device.target.path)
      }
      chosen = found
    } else {
      chosen = nil
    }
    if files {
      let partitions = chosen.map { [$0] } ?? layout.partitions.filter { !$0.isExtendedContainer }
      for p in partitions {
        let slice = try device.source(of: p)
        guard let volume = try? FATVolume(source: slice) else {
          if chosen != nil {
            throw CLIError(
              .notFAT, path: device.target.path,
              "partition \(p.number) holds no FAT file system: its type is \(p.typeName)")
          }
          continue
        }
        fileDigests += digestFiles(volume, partition: p.number, algorithms: algorithms, problems: &problems)
      }
    } else {
      let range: Range<Int64>
      if let chosen {
        let start = Int64(clamping: chosen.offsetBytes)
        range = start..<(start + Int64(clamping: chosen.sizeBytes))
      } else {
        range = 0..<device.target.byteCount
      }
      let digests = try digestRange(device.target, range, algorithms: algorithms, progress: progress)
      regions.append(
        ChecksumManifest.Region(
          partition: chosen?.number, firstLBA: chosen?.firstLBA, lastLBA: chosen?.lastLBA,
          sizeBytes: range.count == 0 ? 0 : range.upperBound - range.lowerBound,
          crc32: digests.crc32Hex, sha256: digests.sha256Hex, sha1: digests.sha1Hex))
    }
    return ChecksumManifest(
      created: timestamp(),
      device: ChecksumManifest.Device(
        path: device.target.path, sizeBytes: device.target.byteCount, sectorSize: layout.sectorSize,
        table: layout.type.rawValue, diskGUID: layout.diskGUID?.description),
      algorithms: algorithms.sorted().map(\.rawValue), regions: regions, files: fileDigests)
  }

  /// One pass over a byte range: windows read ahead while the SHA thread hashes.
  static func digestRange(_ target: Target, _ range: Range<Int64>, algorithms: Set<Algorithm>, progress: Bool) throws
    -> Digests
  {
    let digester = PipelinedDigester(algorithms)
    let meter = progress ? ProgressMeter(total: range.upperBound - range.lowerBound) : nil
    try target.stream(range, windowSize: 4 << 20, depth: 4) { window, release in
      digester.consume(window, release: release)
      meter?.advance(Int64(window.count))
    }
    meter?.finish()
    return digester.finalize()
  }

  /// Every file of a volume, hashed in parallel up to the core count.
  static func digestFiles(
    _ volume: FATVolume, partition: Int, algorithms: Set<Algorithm>, problems: inout [Finding]
  ) -> [ChecksumManifest.File] {
    var entries: [FATEntry] = []
    do {
      try volume.walk { entry in
        if !entry.isDirectory && !entry.attributes.contains(.volumeLabel) { entries.append(entry) }
      }
    } catch {
      problems.append(.error("directoryUnreadable", "partition \(partition): \(error)", partition: partition))
    }
    let list = entries.sorted { $0.size > $1.size }
    let results = Digester.digestConcurrently(count: list.count) { index in
      var digester = Digester(algorithms)
      try volume.forEachRun(of: list[index]) { digester.update($0) }
      return digester.finalize()
    }
    var out: [ChecksumManifest.File] = []
    for (entry, result) in zip(list, results) {
      switch result {
      case .success(let d):
        out.append(
          ChecksumManifest.File(
            partition: partition, path: entry.path, size: Int64(entry.size), crc32: d.crc32Hex, sha256: d.sha256Hex,
            sha1: d.sha1Hex))
      case .failure(let error as ReadError):
        problems.append(
          .error(
            "unreadableSector", "partition \(partition): \(entry.path): unreadable at LBA \(error.firstLBA): \(error)",
            offset: error.offset, lba: error.firstLBA, partition: partition, path: entry.path))
      case .failure(let error):
        problems.append(
          .error(
            "fileUnreadable", "partition \(partition): \(entry.path) cannot be read: \(error)", partition: partition,
            path: entry.path))
      }
    }
    problems.sort { ($0.path ?? "") < ($1.path ?? "") }
    return out.sorted { $0.path < $1.path }
  }

  /// Writes the JSON manifest and, beside it, a `sha256sum -c` list.
  static func save(_ manifest: ChecksumManifest, to path: String) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    try encoder.encode(manifest).write(to: URL(fileURLWithPath: path))
    var lines: [String] = []
    let partitions = Set(manifest.files.map(\.partition))
    for file in manifest.files {
      guard let sha = file.sha256 else { continue }
      let relative = String(file.path.drop { $0 == "/" })
      lines.append("\(sha)  \(partitions.count > 1 ? "p\(file.partition)/" : "")\(relative)")
    }
    for region in manifest.regions where region.partition == nil {
      if let sha = region.sha256 { lines.append("\(sha)  \(manifest.device.path)") }
    }
    if !lines.isEmpty {
      try (lines.joined(separator: "\n") + "\n").write(toFile: path + ".sha256", atomically: true, encoding: .utf8)
    }
  }

  /// Every difference between a saved manifest and a new measurement.
  static func compare(saved: ChecksumManifest, now: ChecksumManifest) -> [Finding] {
    var out: [Finding] = []
    func region(_ r: ChecksumManifest.Region) -> String { r.partition.map { "partition \($0)" } ?? "the whole device" }
    for old in saved.regions {
      guard let new = now.regions.first(where: { $0.partition == old.partition }) else {
        out.append(.error("regionMissing", "\(region(old)) is gone", partition: old.partition))
        continue
      }
      for (name, a, b) in [
        ("CRC-32", old.crc32, new.crc32), ("SHA-256", old.sha256, new.sha256), ("SHA-1", old.sha1, new.sha1),
      ]
      where a != nil && a != b {
        out.append(
          .error(
            "regionChanged", "\(region(old)): \(name) is \(b ?? "none"), saved \(a ?? "none")", partition: old.partition
          ))
      }
    }
    let current = Dictionary(
      now.files.map { ("\($0.partition):\($0.path.lowercased())", $0) }, uniquingKeysWith: { a, _ in a })
    var seen = Set<String>()
    for old in saved.files {
      let key = "\(old.partition):\(old.path.lowercased())"
      seen.insert(key)
      guard let new = current[key] else {
        out.append(
          .error(
            "fileMissing", "partition \(old.partition): \(old.path) is gone", partition: old.partition, path: old.path))
        continue
      }
      if old.size != new.size {
        out.append(
          .error(
            "fileChanged", "partition \(old.partition): \(old.path) is \(new.size) bytes, saved \(old.size)",
            partition: old.partition, path: old.path))
      } else if (old.sha256 != nil && old.sha256 != new.sha256) || (old.crc32 != nil && old.crc32 != new.crc32)
        || (old.sha1 != nil && old.sha1 != new.sha1)
      {
        out.append(
          .error(
            "fileChanged",
            "partition \(old.partition): \(old.path) changed: SHA-256 \(new.sha256 ?? "-"), saved \(old.sha256 ?? "-")",
            partition: old.partition, path: old.path))
      }
    }
    for (key, file) in current.sorted(by: { $0.key < $1.key }) where !seen.contains(key) {
      out.append(
        .warning(
          "fileAdded", "partition \(file.partition): \(file.path) is new since the manifest", partition: file.partition,
          path: file.path))
    }
    return out
  }

  static func render(_ manifest: ChecksumManifest, algorithms: [Algorithm]) -> String {
    var rows: [[String]] = [algorithms.map { $0.rawValue.uppercased() } + ["SIZE", "WHAT"]]
    for r in manifest.regions {
      let what =
        r.partition.map { "partition \($0) (LBA \(r.firstLBA ?? 0)-\(r.lastLBA ?? 0))" } ?? manifest.device.path
      rows.append(algorithms.map { value(r.crc32, r.sha256, r.sha1, $0) } + [String(r.sizeBytes), what])
    }
    for f in manifest.files {
      rows.append(
        algorithms.map { value(f.crc32, f.sha256, f.sha1, $0) } + [String(f.size), "p\(f.partition):\(f.path)"])
    }
    return renderTable(rows)
  }

  static func value(_ crc: String?, _ sha256: String?, _ sha1: String?, _ algorithm: Algorithm) -> String {
    switch algorithm {
    case .crc32: crc ?? "-"
    case .sha256: sha256 ?? "-"
    case .sha1: sha1 ?? "-"
    }
  }
}

/// Throughput and ETA on stderr, only when stderr is a terminal.
final class ProgressMeter: @unchecked Sendable {
  let total: Int64
  var done: Int64 = 0
  let start = Date()
  var last = Date.distantPast
  let enabled = isatty(2) == 1 && !OutputMode.current.quiet

  init(total: Int64) { self.total = total }

  func advance(_ bytes: Int64) {
    done += bytes
    guard enabled, Date().timeIntervalSince(last) > 0.5 else { return }
    last = Date()
    let line = "\r" + ProgressMeter.line(done: done, total: total, elapsed: last.timeIntervalSince(start)) + " "
    FileHandle.standardError.write(Data(line.utf8))
  }

  /// The percentage, and once a second of reading has given a rate to go by, the rate and
  /// the time left.
  static func line(done: Int64, total: Int64, elapsed: TimeInterval) -> String {
    let percent = String(format: "%5.1f%%", 100 * Double(done) / Double(max(1, total)))
    guard elapsed >= 1, done > 0 else { return percent }
    let rate = Double(done) / elapsed
    return percent + "  \(humanSize(Int64(rate)))/s  ETA " + String(format: "%.0fs", Double(total - done) / rate)
  }

  func finish() {
    if enabled { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
  }
}
