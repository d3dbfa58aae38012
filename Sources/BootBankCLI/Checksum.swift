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
    let differences: [Finding]
    do {
      let device = try OpenedDevice.open(target)
      differences = try ChecksumManifest.recheck(saved, source: device.target, layout: device.layout) { range in
        try Measure.digestRange(device.target, range, algorithms: saved.algorithmSet, progress: true)
      }
    } catch { throw failure(error, path: target.target) }
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

/// Measuring a device's regions (streamed through DiskIO) and saving a manifest; file
/// digests and every comparison are `ChecksumManifest`'s.
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
    let measured = ChecksumManifest.digestFiles(volume, partition: partition, algorithms: algorithms)
    problems += measured.problems
    return measured.files
  }

  /// Writes the JSON manifest and, beside it, a `sha256sum -c` list.
  static func save(_ manifest: ChecksumManifest, to path: String) throws {
    try manifest.encoded().write(to: URL(fileURLWithPath: path))
    let lines = manifest.sha256sumLines
    if !lines.isEmpty {
      try (lines.joined(separator: "\n") + "\n").write(toFile: path + ".sha256", atomically: true, encoding: .utf8)
    }
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
