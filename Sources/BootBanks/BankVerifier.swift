import Archive
import BootConfig
import Checksum
import DiskFormat
import Dispatch
import FAT
import Foundation
import PartitionTable

/// `bootbank verify`: checks a device the way its loader and ESXi read it.
///
/// For the device: the partition table (the loader reads only the primary GPT) and the bank
/// choice. For each bank (a partition with the VMware magic and a boot.cfg): the FAT volume to
/// fsck depth, the boot.cfg lint, every `kernel=` and `modules=` file present, each payload
/// against the bank's own manifest (imgdb.tgz: SHA-256 of the gunzipped payload; its SHA-1
/// only where no SHA-256 is given, or with `allDigests`), the files no manifest covers by gzip
/// and tar integrity, and optionally a saved manifest from `bootbank checksum --manifest`
/// (every region and file it lists, banks or not). Each bank file is read once. An unreadable
/// sector becomes a finding with its LBA and the file it hurts. A partition shaped like a bank
/// that the loader skips because its volume is destroyed is named (`BankShape`).
public enum BankVerifier {
  /// Files larger than this are not held in memory (imgdb.tgz is read whole).
  static let maximumImageDatabaseBytes: UInt32 = 64 << 20

  public static func verify(
    _ source: any ByteSource, layout: DiskLayout, saved: ChecksumManifest? = nil, allDigests: Bool = false,
    backend: InflateBackend = .default
  ) throws -> Verification {
    let status = try BankStatus.read(from: source, layout: layout)
    var deviceFindings = layout.allFindings + status.findings.filter { $0.partition == nil }
    let byPartition = Dictionary(grouping: status.findings.filter { $0.partition != nil }) { $0.partition ?? 0 }

    // A FAT partition holding /boot.cfg without the VMware magic: the loader skips it.
    for found in status.discovered where found.candidate.uuid == nil {
      guard let partition = layout.loaderVolume(found.candidate.partition) else { continue }
      let start = Int64(clamping: partition.offsetBytes)
      let slice = source.slice(start..<(start &+ Int64(clamping: partition.sizeBytes)))
      if (try? BankDiscovery.readBootConfig(slice)) != nil {
        deviceFindings.append(
          .error(
            "bankMagicMissing",
            found.uuidOffset.map {
              "partition \(partition.number) holds /boot.cfg, and the \"VMWARE FAT16\" magic at byte \($0) (as ESXi 6.7's installer wrote it on 4Kn media), not in its \(layout.sectorSize)-byte second sector where the loader reads it: the loader does not count it as a bank"
            }
              ?? "partition \(partition.number) holds /boot.cfg but no \"VMWARE FAT16\" magic in its second sector: the loader does not count it as a bank",
            offset: start &+ Int64(layout.sectorSize), lba: partition.firstLBA + 1, partition: partition.number))
      }
    }

    var banks: [Verification.BankResult] = []
    // The banks are independent: check them in parallel (each also overlaps its own
    // inflating and hashing), then assemble the results in scan order.
    let work = status.choice.banks.compactMap { verdict -> (BankVerdict, BootConfig, SourceSlice)? in
      guard verdict.uuid != nil, let config = verdict.config, let partition = layout.loaderVolume(verdict.partition)
      else { return nil }
      let start = Int64(clamping: partition.offsetBytes)
      return (verdict, config, source.slice(start..<(start &+ Int64(clamping: partition.sizeBytes))))
    }
    let slots = ResultSlots<Verification.BankResult>(count: work.count)
    DispatchQueue.concurrentPerform(iterations: work.count) { index in
      let (verdict, config, slice) = work[index]
      slots.set(
        index,
        verifyBank(
          slice, partition: verdict.partition, config: config,
          saved: SavedFiles(manifest: saved, partition: verdict.partition), allDigests: allDigests,
          backend: backend))
    }
    // What the table says about a bank's partition (cut off by the end of the image, say) is
    // that bank's finding: the bank the loader picks is only as sound as its partition.
    let tableFindings = Dictionary(grouping: layout.allFindings.filter { $0.partition != nil }) { $0.partition ?? 0 }
    let bankPartitions = Set(work.map(\.0.partition))
    deviceFindings.removeAll { $0.partition.map(bankPartitions.contains) ?? false }
    for (index, (verdict, _, _)) in work.enumerated() {
      guard var result = slots.get(index) else { continue }
      result.findings =
        (tableFindings[verdict.partition] ?? []) + (byPartition[verdict.partition] ?? []) + result.findings
      result.role = verdict.role?.rawValue
      result.build = verdict.build
      result.verdict = worst(result.findings)
      banks.append(result)
    }
    // A partition's finding with no bank to hold it (a magic at byte 512 on 4Kn media, an
    // unreadable second sector) is the device's: nothing is dropped.
    let reported = Set(banks.map(\.partition))
    for (partition, findings) in byPartition.sorted(by: { $0.key < $1.key }) where !reported.contains(partition) {
      deviceFindings += findings.filter { $0.kind != "bankUUIDAt512" }
    }
    if let saved {
      // Its regions, and the files of partitions that are not banks now (the ESP, a store, a
      // bank destroyed since), the way `checksum --check` compares them.
      deviceFindings += try ChecksumManifest.recheck(
        saved, source: source, layout: layout, skippingFilesOf: Set(banks.map(\.partition)))
    }
    let shapes = BankShape.survey(source, layout: layout, status: status)
    deviceFindings += shapes.compactMap(\.finding)

    // The device verdict: what the next boot does, and what a failed boot falls back to.
    let next = status.choice.next
    let nextResult = next.flatMap { n in banks.first { $0.partition == n.partition } }
    let fallback = status.choice.banks.first { $0.role == .altbootbank }
    let fallbackResult = fallback.flatMap { f in banks.first { $0.partition == f.partition } }
    var verdict = worst(deviceFindings)
    // A bank destroyed is named first: it is the most important thing on the device.
    var parts = shapes.filter { $0.finding != nil }.map(\.summary)
    if let next {
      let state = nextResult?.verdict ?? .broken
      parts.append("next boot: partition \(next.partition), build \(next.build ?? "?"): \(state.rawValue)")
      if state == .broken { verdict = .broken }
    } else {
      parts.append("next boot: none: the loader stops with \"No hypervisor found.\"")
      verdict = .broken
    }
    if let fallback {
      if fallback.bootable {
        let state = fallbackResult?.verdict ?? .broken
        parts.append("fallback partition \(fallback.partition), build \(fallback.build ?? "?"): \(state.rawValue)")
        if state != .ok { verdict = max(verdict, .degraded) }
      } else {
        let state = fallback.bootstateAfter.map { "\(BankState.name($0)), bootstate=\($0)" } ?? "not bootable"
        parts.append("fallback bank \(fallback.partition): \(state): a failed boot now has no way back")
        verdict = max(verdict, .degraded)
      }
    } else if next != nil {
      parts.append("no fallback bank: a failed boot now has no way back")
      verdict = max(verdict, .degraded)
    }
    // Every other partition holding a boot.cfg the loader looks at (a third bank, one it drops,
    // rejects or never scans) is named too: the verdict covers every bank on the device.
    for other in status.choice.banks where other.partition != next?.partition && other.partition != fallback?.partition
    {
      switch other.status {
      case .notABank(.noMagic), .notABank(.noBootConfig): continue
      default: parts.append("partition \(other.partition): \(other.reason)")
      }
    }
    parts += shapes.filter { $0.finding == nil }.map(\.summary)
    for bank in banks where bank.verdict != .ok { verdict = max(verdict, .degraded) }
    return Verification(
      verdict: verdict, summary: parts.joined(separator: "; "), banks: banks, findings: deviceFindings)
  }

  static func worst(_ findings: [Finding]) -> Verification.Verdict {
    if findings.contains(where: { $0.severity == .error }) { return .broken }
    return findings.isEmpty ? .ok : .degraded
  }

  /// Checks one bank's volume and files.
  static func verifyBank(
    _ slice: SourceSlice, partition: Int, config: BootConfig, saved: SavedFiles?, allDigests: Bool,
    backend: InflateBackend
  ) -> Verification.BankResult {
    var result = Verification.BankResult(
      partition: partition, role: nil, build: nil, verdict: .ok, findings: [], files: [])
    func add(_ finding: Finding) { result.findings.append(finding.inPartition(partition)) }

    let volume: FATVolume
    do {
      volume = try FATVolume(source: slice)
    } catch {
      add(.error("bankFATUnreadable", "the bank's FAT volume cannot be read: \(error)"))
      return result
    }
    do {
      for finding in try volume.check().findings { add(finding) }
    } catch {
      add(.error("bankFATCheckFailed", "the FAT check stopped: \(error)"))
    }

    // The bank's own manifest.
    var manifest: PayloadManifest?
    do {
      if let entry = try volume.lookup("/imgdb.tgz"), !entry.isDirectory {
        if entry.size > maximumImageDatabaseBytes {
          add(.error("imgdbTooLarge", "imgdb.tgz is \(entry.size) bytes; not read", path: "/imgdb.tgz"))
        } else {
          let database = try ImageDatabase(imgdb: volume.contents(of: entry), backend: backend)
          let built = PayloadManifest(database: database)
          for finding in database.findings + built.findings { add(finding) }
          if built.entries.isEmpty {
            add(
              .error("imgdbNoProfile", "imgdb.tgz holds no image profile mapping payloads to files", path: "/imgdb.tgz")
            )
          } else {
            manifest = built
          }
        }
      } else {
        add(
          .error("imgdbMissing", "the bank has no imgdb.tgz: its payloads cannot be checked against its own manifest"))
      }
    } catch let error as ReadError {
      add(unreadable(error, path: "/imgdb.tgz"))
    } catch {
      add(.error("imgdbUnreadable", "imgdb.tgz cannot be read: \(error)", path: "/imgdb.tgz"))
    }

    // Which files boot.cfg names, and which the bank holds.
    var named: [String] = []
    if let kernel = config.kernelItem { named.append(kernel.path) }
    named += config.modules.map(\.path)
    if config.kernelItem == nil { add(.error("bootConfigNoKernel", "boot.cfg names no kernel=", path: "/boot.cfg")) }
    let root: [FATEntry]
    do {
      root = try volume.list(path: "/")
    } catch {
      add(.error("bankRootUnreadable", "the root directory cannot be read: \(error)", path: "/"))
      return result
    }
    let files = root.filter { !$0.isDirectory && !$0.attributes.contains(.volumeLabel) }
    let byName = Dictionary(files.map { ($0.name.lowercased(), $0) }, uniquingKeysWith: { a, _ in a })
    for path in named {
      let name = path.hasPrefix("/") ? String(path.dropFirst()) : path
      if byName[name.lowercased()] == nil {
        do {
          if try volume.lookup("/" + name) == nil {
            add(.error("moduleMissing", "boot.cfg names \(path), which the bank does not hold", path: "/" + name))
          }
        } catch {
          add(.error("moduleMissing", "boot.cfg names \(path), which cannot be looked up: \(error)", path: "/" + name))
        }
      }
    }
    if let manifest {
      let coverage = manifest.coverage(of: files.map(\.name))
      for entry in coverage.missing {
        add(
          .error(
            "payloadFileMissing",
            "the image profile maps payload \(entry.payloadName) of \(entry.vibID) to \(entry.fileName), which the bank does not hold",
            path: "/" + entry.fileName))
      }
    }
    let namedSet = Set(named.map { ($0.hasPrefix("/") ? String($0.dropFirst()) : $0).lowercased() })

    // One pass over each file: manifest digests, gzip/tar integrity, saved digests.
    for file in files.sorted(by: { $0.name.lowercased() < $1.name.lowercased() }) {
      let key = file.name.lowercased()
      let entry = manifest?.entry(forFile: file.name)
      let check = FileVerifier(
        path: file.path, entry: entry,
        integrity: entry == nil && (namedSet.contains(key) || key.hasSuffix(".gz") || key.hasSuffix(".tgz")),
        saved: saved?.file(file.path), savedAlgorithms: saved?.algorithms ?? [], allDigests: allDigests,
        backend: backend)
      let before = result.findings.count
      do {
        try volume.forEachRun(of: file) { check.feed($0) }
        for finding in check.finish() { add(locate(finding, in: file, volume: volume)) }
      } catch let error as ReadError {
        add(unreadable(error, path: file.path))
      } catch {
        add(.error("fileUnreadable", "\(file.path) cannot be read: \(error)", path: file.path))
      }
      result.files.append(
        Verification.FileResult(
          path: file.path, size: Int64(file.size), check: check.kind,
          ok: !result.findings[before...].contains { $0.path == file.path && $0.severity == .error }))
    }
    if let saved {
      // The bank's files are flat: the root directory is what the loader and ESXi read.
      let present = Set(files.map { $0.path.lowercased() })
      for (key, file) in saved.files.sorted(by: { $0.key < $1.key })
      where !present.contains(key) && !file.path.dropFirst().contains("/") {
        add(ChecksumManifest.missing(file))
      }
      for file in files where saved.file(file.path) == nil {
        add(
          ChecksumManifest.added(
            ChecksumManifest.File(
              partition: partition, path: file.path, size: Int64(file.size), crc32: nil, sha256: nil, sha1: nil)))
      }
    }
    return result
  }

  /// A finding whose offset is a byte of the file (a gzip error, say), with that offset turned
  /// into the absolute device offset and LBA through the file's cluster chain.
  static func locate(_ finding: Finding, in file: FATEntry, volume: FATVolume) -> Finding {
    guard let offset = finding.offset, offset >= 0 else { return finding }
    var copy = finding
    let clusterSize = Int64(volume.bootSector.bytesPerCluster)
    let chain = volume.clusterChain(of: file).clusters
    let index = Int(offset / clusterSize)
    guard clusterSize > 0, index < chain.count else {
      copy.offset = nil
      return copy
    }
    let absolute = volume.absoluteOffset(ofCluster: chain[index]) + offset % clusterSize
    copy.offset = absolute
    copy.lba = UInt64(absolute) / UInt64(max(1, volume.source.sectorSize))
    copy.message += " (device byte \(absolute), LBA \(copy.lba ?? 0))"
    return copy
  }

  /// An unreadable sector, mapped to the file it hurts.
  static func unreadable(_ error: ReadError, path: String) -> Finding {
    .error(
      "unreadableSector",
      "\(path): unreadable at LBA \(error.firstLBA)\(error.lastLBA > error.firstLBA ? "-\(error.lastLBA)" : ""): \(error)",
      offset: error.offset, lba: error.firstLBA, path: path)
  }
}

/// Checks one file from its bytes, pushed in order: against the manifest entry, by gzip (and
/// tar) integrity, and against a saved digest.
final class FileVerifier {
  let path: String
  let kind: String
  private let manifestCheck: PayloadManifest.FileCheck?
  private let gzip: GzipDecoder?
  private var tar: TarReader?
  private var listing = TarListing()
  private var tarError: (any Error)?
  private var gzipError: (any Error)?
  private let saved: ChecksumManifest.File?
  private var savedDigester: Digester?
  private var sawGzipMagic: Bool?

  init(
    path: String, entry: PayloadManifest.Entry?, integrity: Bool, saved: ChecksumManifest.File?,
    savedAlgorithms: Set<Algorithm>, allDigests: Bool, backend: InflateBackend
  ) {
    self.path = path
    self.saved = saved
    manifestCheck = entry.map { PayloadManifest.FileCheck(entry: $0, backend: backend, checkSHA1: allDigests) }
    let name = path.lowercased()
    if integrity {
      gzip = GzipDecoder(backend: backend)
      if name.hasSuffix(".tgz") || name.hasSuffix(".t00") { tar = TarReader() }
    } else {
      gzip = nil
    }
    kind = entry != nil ? "manifest" : integrity ? "integrity" : "present"
    if saved != nil { savedDigester = Digester(savedAlgorithms) }
  }

  func feed(_ bytes: Span<UInt8>) {
    manifestCheck?.feed(bytes)
    savedDigester?.update(bytes)
    guard let gzip, gzipError == nil else { return }
    if sawGzipMagic == nil, bytes.count >= 2 { sawGzipMagic = bytes[0] == 0x1F && bytes[1] == 0x8B }
    if sawGzipMagic == false { return }
    do {
      try gzip.feed(bytes) { chunk in
        guard self.tar != nil, self.tarError == nil else { return }
        do { try self.tar?.feed(chunk, to: &self.listing) } catch { self.tarError = error }
      }
    } catch {
      gzipError = error
    }
  }

  func finish() -> [Finding] {
    var findings =
      manifestCheck?.finish().findings.map { f -> Finding in
        var copy = f
        copy.path = path
        return copy
      } ?? []
    if let gzip {
      if sawGzipMagic == false {
        let lower = path.lowercased()
        if lower.hasSuffix(".gz") || lower.hasSuffix(".tgz") {
          findings.append(
            .error("gzipInvalid", "\(path): not a gzip stream (no 1f 8b magic at byte 0)", offset: 0, path: path))
          // (offset 0 of the file: mapped to the device below)
        } else {
          findings.append(.warning("moduleNotGzip", "\(path) is not a gzip stream", path: path))
        }
      } else {
        if gzipError == nil { do { _ = try gzip.finish() } catch { gzipError = error } }
        if let gzipError {
          findings.append(.error("gzipInvalid", "\(path): \(gzipError)", path: path))
        } else if tar != nil {
          if tarError == nil { do { _ = try tar?.finish() } catch { tarError = error } }
          if let tarError { findings.append(.error("tarInvalid", "\(path): \(tarError)", path: path)) }
        }
      }
    }
    if let saved, let savedDigester {
      let digests = savedDigester.finalize()
      let now = ChecksumManifest.File(
        partition: saved.partition, path: saved.path, size: digests.byteCount, crc32: digests.crc32Hex,
        sha256: digests.sha256Hex, sha1: digests.sha1Hex)
      if let finding = ChecksumManifest.compare(savedFile: saved, now: now) { findings.append(finding) }
    }
    return findings
  }
}

extension BankVerifier {
  /// The saved files of one bank partition, by lower-cased path, and the algorithms they were
  /// measured with.
  struct SavedFiles {
    var files: [String: ChecksumManifest.File]
    var algorithms: Set<Algorithm>

    /// The saved files of `partition`; nil when the manifest lists none of its files.
    init?(manifest: ChecksumManifest?, partition: Int) {
      guard let manifest, manifest.files.contains(where: { $0.partition == partition }) else { return nil }
      files = manifest.files(ofPartition: partition)
      algorithms = manifest.algorithmSet
    }

    func file(_ path: String) -> ChecksumManifest.File? { files[path.lowercased()] }
  }
}

/// Results written by parallel workers, each to its own slot.
final class ResultSlots<Value: Sendable>: @unchecked Sendable {
  private var values: [Value?]
  private let lock = NSLock()
  init(count: Int) { values = Array(repeating: nil, count: count) }
  func set(_ index: Int, _ value: Value) {
    lock.lock()
    values[index] = value
    lock.unlock()
  }
  func get(_ index: Int) -> Value? {
    lock.lock()
    defer { lock.unlock() }
    return values[index]
  }
}
