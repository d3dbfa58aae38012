import Archive
import ArgumentParser
import BootBanks
import DiskFormat
import DiskIO
import Foundation
import PartitionTable

#if canImport(Glibc)
  import Glibc
#endif

/// `bootbank restore`: an image and its bmap written back to a device, through the write path.
struct Restore: ReportingCommand {
  var mode: OutputMode { write.mode }

  static let configuration = CommandConfiguration(
    abstract: "Write an image (raw, .gz or .zst) and its bmap back to a device, checked and read back.",
    usage: "bootbank restore <image> <target> (--backup <file>|--no-backup) [options]",
    discussion: """
      Writes the ranges the bmap maps (bootbank image's, or bmaptool create's: format 2.0 with \
      SHA-256 or SHA-1, or 1.3) through the one write path: plan, confirmation, undo file, \
      read-back. The bmap defaults to IMAGE without .gz or .zst, plus .bmap.

      The image is checked before the target is touched: a raw image range by range against \
      the bmap's digests; a compressed one is decompressed once into a sparse staging file \
      in $TMPDIR (default /var/tmp), each range checked as it arrives. A damaged image is \
      refused with nothing written.

      Order: LBA 0 and the primary GPT header are made invalid first (a marker that status \
      reports), then every range, then LBA 0-1 of the image last, each step behind a barrier: \
      a restore cut short leaves a device the loader sees no partition on, never half a bank; \
      running the same restore again finishes it. Then every range is read back from the \
      medium and compared.

      The undo of a restore is an image: --backup FILE images the target first (as bootbank \
      image does, with FILE's bmap beside it); --no-backup says you do not want one. One of \
      the two is required. Blocks the bmap does not map keep what the target held: raw free \
      space may differ from the imaged device's.

      Refused: a target smaller than the image, a target whose sector size is not the \
      image's table's, a mounted or held target, an image or backup on the target.

      Examples:
        bootbank restore esxi-before-upgrade.img /dev/sdb --backup esxi-after-upgrade.img.zst
        bootbank restore esxi.img.zst /dev/sdb --no-backup --dry-run

      \(WriteExitStatus.helpText)
      """)

  @Argument(help: "The image: raw (sparse or not), .gz or .zst.", completion: .file())
  var image: String
  @OptionGroup var target: TargetOptions

  @Option(name: .long, help: ArgumentHelp("The bmap (default: IMAGE without .gz/.zst, plus .bmap).", valueName: "file"))
  var bmap: String?

  @Option(
    name: .long,
    help: ArgumentHelp("Image the target to FILE (.gz/.zst compress) before writing: the undo.", valueName: "file"))
  var backup: String?

  @Flag(name: .long, help: "Write without imaging the target first.")
  var noBackup = false

  @OptionGroup var write: WriteOptions
  @OptionGroup var progress: ProgressOptions

  func validate() throws {
    if backup != nil && noBackup { throw ValidationError("--backup and --no-backup exclude each other") }
    if backup == nil && !noBackup && !write.dryRun {
      throw ValidationError(
        "restore overwrites the whole device: give --backup FILE (an image of the target first, the undo) or --no-backup"
      )
    }
  }

  /// The bmap's path when --bmap does not say: IMAGE.bmap without its compression suffix, or
  /// IMAGE.bmap, whichever exists (bmaptool looks in the same places).
  static func defaultBmapPath(for image: String) -> String {
    let stripped = Image.defaultBmapPath(for: image)
    if FileManager.default.fileExists(atPath: stripped) { return stripped }
    let whole = image + ".bmap"
    return FileManager.default.fileExists(atPath: whole) ? whole : stripped
  }

  func run() throws {
    progress.apply()
    let bmapPath = bmap ?? Restore.defaultBmapPath(for: image)
    let map: Bmap
    do {
      map = try Bmap.parse(try DurableFile.read(bmapPath, limit: 256 << 20))
    } catch let error as Bmap.ParseError {
      throw WriteSession.refuse(CLIError(.badManifest, path: bmapPath, error.description), path: bmapPath)
    } catch { throw WriteSession.refuse(error, path: bmapPath) }
    for path in [image] + [backup].compactMap(\.self) {
      if let why = ImageFileWriter.refusal(output: path, target: target.target) {
        throw WriteSession.refuse(CLIError(.cannotWrite, path: path, "refused: \(why)"), path: path)
      }
    }
    let prepared: RestoreImage
    do { prepared = try RestoreImage.open(image, bmap: map, target: target.target) } catch {
      throw WriteSession.refuse(error, path: image)
    }
    defer { prepared.remove() }
    var session = target
    if session.sectorSize == nil, (try? Target(path: target.target))?.kind == .file {
      session.sectorSize = prepared.sectorSize
    }
    let backup = backup
    let force = write.force
    let before: (() throws -> Void)? = backup.map { file in
      {
        let layout = try OpenedDevice.open(session).layout
        guard !layout.partitions.isEmpty else {
          throw CLIError(
            .notABootDevice, path: session.target,
            "--backup: the target holds no partition table, so its image would hold nothing (give --no-backup)")
        }
        let report = try Image.capture(
          target: session, out: file, bmapPath: Image.defaultBmapPath(for: file), skip: [], force: false)
        if !OutputMode.current.quiet && !OutputMode.current.json {
          emit("Backup: \(report.output) and \(report.bmap) (\(humanSize(report.bytesStored)) stored)")
        }
      }
    }
    try WriteSession.run(session, write, beforeWriting: before) { device, _ in
      let source = try prepared.source(sectorSize: device.sectorSize)
      return try WritePlanner.restore(image: source, bmap: map, target: device, force: force)
    }
  }
}

/// The image a restore reads: a raw file checked against the bmap in place, or a compressed
/// one decompressed once into a sparse staging file, each range checked as it arrives.
final class RestoreImage {
  let path: String
  /// The staging file to remove at the end (nil for a raw image read in place).
  let staged: String?
  /// The sector size of the image's partition table.
  let sectorSize: Int

  init(path: String, staged: String?, sectorSize: Int) {
    self.path = path
    self.staged = staged
    self.sectorSize = sectorSize
  }

  func remove() {
    if let staged { unlink(staged) }
  }

  /// The (raw or staged) image as a source in `sectorSize`-byte sectors.
  func source(sectorSize: Int) throws -> Target { try Target(path: path, sectorSize: sectorSize) }

  enum Compression { case none, gzip, zstd }

  /// Opens and checks `image` against `bmap`.
  ///
  /// - Throws: `BmapImageError` for a range that differs or a size that does not match;
  ///   `GzipError`/`ZstdError` for a damaged stream; I/O errors.
  static func open(_ image: String, bmap: Bmap, target: String) throws -> RestoreImage {
    let file = try Target(path: image)
    let magic = try file.read(at: 0, count: Int(min(4, file.byteCount)))
    let compression: Compression =
      GzipDecoder.looksLikeGzip(magic.span) ? .gzip : ZstdDecoder.looksLikeZstd(magic.span) ? .zstd : .none
    var path = image
    var staged: String?
    switch compression {
    case .none:
      let meter = ProgressMeter(total: bmap.mappedByteCount, phase: "check image")
      var reported: Int64 = 0
      defer { meter.finish() }
      try BmapImageCheck.verify(file, bmap: bmap) { done in
        meter.advance(done - reported)
        reported = done
      }
    case .gzip, .zstd:
      let staging = try stagingPath(target: target)
      let writer = try ImageFileWriter(path: staging, format: .raw, replace: false)
      do {
        let check = BmapStreamCheck(bmap: bmap, imageName: image) { offset, bytes in
          try writer.write(bytes, at: offset)
        }
        let gzip = compression == .gzip ? GzipDecoder(maxOutput: bmap.imageSize) : nil
        let zstd = compression == .zstd ? ZstdDecoder() : nil
        let meter = ProgressMeter(total: file.byteCount, phase: "decompress and check image")
        defer { meter.finish() }
        var offset: Int64 = 0
        let chunk: Int64 = 1 << 20
        while offset < file.byteCount {
          let end = min(file.byteCount, offset + chunk)
          try file.withBytes(in: offset..<end) { input in
            if let gzip { try gzip.feed(input) { try check.consume($0) } }
            if let zstd { try zstd.feed(input) { try check.consume($0) } }
          }
          meter.advance(end - offset)
          offset = end
        }
        _ = try gzip?.finish()
        try zstd?.finish()
        try check.finish()
        try writer.finish(size: bmap.imageSize)
      } catch {
        writer.abandon()
        throw error
      }
      path = staging
      staged = staging
    }
    let opened: OpenedDevice
    do { opened = try OpenedDevice.open(path: path, sectorSize: nil) } catch {
      if let staged { unlink(staged) }
      throw error
    }
    return RestoreImage(path: path, staged: staged, sectorSize: opened.layout.sectorSize)
  }

  /// A new file name in $TMPDIR (or /var/tmp), refused when it lies on the target.
  static func stagingPath(target: String) throws -> String {
    let directory = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/var/tmp"
    let path = "\(directory)/bootbank-restore-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).img"
    if let why = ImageFileWriter.refusal(output: path, target: target) {
      throw CLIError(.cannotWrite, path: path, "cannot stage the decompressed image there: \(why) (set TMPDIR)")
    }
    return path
  }
}
