import ArgumentParser
import BootBanks
import Checksum
import DiskFormat
import DiskIO
import Foundation
import PartitionTable

/// `bootbank image`: a sparse or gzip image of what may hold data, with a bmap.
struct Image: ReportingCommand {
  var mode: OutputMode { output.mode }

  static let configuration = CommandConfiguration(
    abstract: "Image the device's tables, FAT partitions' used clusters and other partitions' data, with a bmap.",
    usage: "bootbank image <target> -o <out> [--bmap <file>] [options]",
    discussion: """
      Reads once what may hold data: the MBR and both GPTs (or the MBR and the EBRs), each FAT \
      partition's reserved sectors, FATs, root directory and allocated clusters, and every \
      other partition (vmkDiagnostic, VMFS-L) raw. Blocks of those other partitions that hold \
      only zeros are neither stored nor mapped; free clusters of a FAT partition are not read. \
      OUT is a sparse raw image, gzip when it ends in .gz, zstd (on two threads) when it ends in .zst.

      The bmap (bmaptool's format 2.0, blocks of 4096 bytes, a SHA-256 per range hashed from \
      the same reads) lists exactly what was read; it goes to --bmap FILE, or beside OUT with \
      its .gz or .zst dropped and .bmap added, where `bmaptool copy` looks for it. --skip-partition N \
      leaves partition N out (said in the bmap and the summary).

      --manifest FILE also saves every FAT partition's per-file digests (CRC-32 and SHA-256, \
      the format of checksum --files --manifest), so `bootbank verify --manifest FILE` tells \
      later what changed since the image.

      An OUT that is the target, lies on the target, or exists (without --force) is refused.

      Examples:
        bootbank image /dev/sdb -o esxi-before-upgrade.img
        bootbank image /dev/sdb -o esxi.img.gz --skip-partition 7 --json
        bmaptool copy esxi.img.gz /dev/sdc

      \(ExitStatus.help([(.ok, "the image and its bmap are written"), (.unreadable, "the target cannot be read, or OUT cannot be written")]))
      """)

  @OptionGroup var target: TargetOptions
  @OptionGroup var output: OutputOptions
  @OptionGroup var progress: ProgressOptions

  @Option(name: .shortAndLong, help: ArgumentHelp("The image file to write (.gz: gzip, .zst: zstd).", valueName: "out"))
  var out: String

  @Option(
    name: .long,
    help: ArgumentHelp("Where to write the bmap (default: OUT without .gz or .zst, plus .bmap).", valueName: "file"))
  var bmap: String?

  @Option(name: .long, help: ArgumentHelp("Leave partition N out (repeatable).", valueName: "n"))
  var skipPartition: [Int] = []

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Also save every FAT partition's per-file digests (as `checksum --files --manifest` does), for a later `verify --manifest`.",
      valueName: "file"))
  var manifest: String?

  @Flag(name: .long, help: "Replace OUT, the bmap and the manifest when they exist.")
  var force = false

  /// The bmap's path when --bmap does not say.
  static func defaultBmapPath(for out: String) -> String {
    (out.hasSuffix(".gz") ? String(out.dropLast(3)) : out.hasSuffix(".zst") ? String(out.dropLast(4)) : out) + ".bmap"
  }

  func run() throws {
    progress.apply()
    if let manifest, !force, FileManager.default.fileExists(atPath: manifest) {
      throw CLIError(.cannotWrite, path: manifest, "exists (--force replaces it)")
    }
    var report = try Image.capture(
      target: target, out: out, bmapPath: bmap ?? Image.defaultBmapPath(for: out), skip: skipPartition, force: force)
    if let manifest {
      // A second pass over the FAT files, read from the page cache the image's pass filled.
      var problems: [Finding] = []
      do {
        let device = try OpenedDevice.open(target)
        let measured = try Measure.run(
          device, partition: nil, files: true, algorithms: [.crc32, .sha256], progress: true, problems: &problems)
        try Measure.save(measured, to: manifest)
        report.manifest = manifest
        report.manifestFiles = measured.files.count
      } catch { throw failure(error, path: manifest) }
      for finding in problems { printWarning("bootbank: \(finding.severity.rawValue): \(finding.message)") }
    }
    if output.json { try printJSON(report) } else { emit(report.render()) }
    throw ExitStatus.ok.code
  }

  /// Images `target` to `out` with its bmap at `bmapPath` (also `restore --backup`).
  static func capture(
    target: TargetOptions, out: String, bmapPath: String, skip skipPartition: [Int], force: Bool
  ) throws -> ImageReport {
    for path in [out, bmapPath] {
      if let why = ImageFileWriter.refusal(output: path, target: target.target) {
        throw CLIError(.cannotWrite, path: path, "refused: \(why)")
      }
      if !force, FileManager.default.fileExists(atPath: path) {
        throw CLIError(.cannotWrite, path: path, "exists (--force replaces it)")
      }
    }
    let device: OpenedDevice
    do { device = try OpenedDevice.open(target) } catch { throw failure(error, path: target.target) }
    let known = Set(device.layout.partitions.map(\.number))
    for number in skipPartition where !known.contains(number) {
      throw CLIError(.notFound, path: target.target, "no partition \(number) to skip")
    }
    let plan = DiskImagePlan.make(source: device.target, layout: device.layout, skip: Set(skipPartition))
    let format = ImageFileWriter.format(of: out)
    let writer: ImageFileWriter
    do { writer = try ImageFileWriter(path: out, format: format, replace: force) } catch {
      throw failure(error, path: out)
    }
    let meter = ProgressMeter(total: plan.byteCount, phase: "image")
    var reported: Int64 = 0
    let result: DiskImageCapture.Result
    do {
      result = try DiskImageCapture.run(
        device.target, plan: plan, write: { offset, bytes in try writer.write(bytes, at: offset) },
        progress: { done in
          meter.advance(done - reported)
          reported = done
        })
      try writer.finish(size: plan.imageSize)
    } catch {
      meter.finish()
      writer.abandon()
      throw failure(error, path: target.target)
    }
    meter.finish()
    var notes: [String] = []
    if !plan.skipped.isEmpty {
      notes.append(
        "Partitions left out (not read, not mapped): \(plan.skipped.map(String.init).joined(separator: ", "))")
    }
    let map = Bmap(imageSize: plan.imageSize, blockSize: plan.blockSize, ranges: result.ranges, notes: notes)
    do {
      if force { unlink(bmapPath) }
      try DurableFile.create(bmapPath, bytes: Array(map.encoded().utf8))
    } catch { throw failure(error, path: bmapPath) }
    return ImageReport(
      device: target.target, output: out, format: format.rawValue, bmap: bmapPath, imageSize: plan.imageSize,
      bytesRead: result.bytesRead, bytesStored: result.bytesWritten, blockSize: plan.blockSize,
      blocks: map.blockCount, mappedBlocks: map.mappedBlockCount, ranges: map.ranges.count,
      partitions: plan.partitions, skippedPartitions: plan.skipped)
  }
}

/// `image --json`: `{"device", "output", "format", "bmap", "imageSize", "bytesRead",
/// "bytesStored", "blockSize", "blocks", "mappedBlocks", "ranges", "partitions": [{"number",
/// "how", "bytes"}], "skippedPartitions", "manifest", "manifestFiles"}`.
struct ImageReport: Encodable {
  var device: String
  var output: String
  var format: String
  var bmap: String
  var imageSize: Int64
  var bytesRead: Int64
  var bytesStored: Int64
  var blockSize: Int
  var blocks: Int64
  var mappedBlocks: Int64
  var ranges: Int
  var partitions: [DiskImagePlan.PartitionRead]
  var skippedPartitions: [Int]
  /// `--manifest`: the manifest's path and how many files it lists (null without it).
  @Nullable var manifest: String? = nil
  @Nullable var manifestFiles: Int? = nil

  func render() -> String {
    var lines = [
      "\(device): \(humanSize(bytesRead)) read of \(humanSize(imageSize)), \(humanSize(bytesStored)) stored in \(output) (\(format))",
      "bmap: \(bmap): \(mappedBlocks) of \(blocks) blocks of \(blockSize) bytes mapped in \(ranges) range(s)",
    ]
    for partition in partitions {
      let how =
        switch partition.how {
        case "fat": "FAT: metadata and allocated clusters, \(humanSize(partition.bytes))"
        case "raw": "raw, \(humanSize(partition.bytes)) (zero blocks left as holes)"
        default: "skipped"
        }
      lines.append("  partition \(partition.number): \(how)")
    }
    if let manifest { lines.append("manifest: \(manifest): \(manifestFiles ?? 0) file(s) of the FAT partitions") }
    return lines.joined(separator: "\n")
  }
}
