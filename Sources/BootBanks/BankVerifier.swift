import Archive
import BootConfig
import Checksum
import DiskFormat
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
    deviceFindings += magicMissing(source, layout: layout, status: status)

    // The banks are independent: check them in parallel (each also overlaps its own
    // inflating and hashing), then assemble the results in scan order.
    let work = status.choice.banks.compactMap { BankWork($0, source: source, layout: layout) }
    let results = Threading.map(count: work.count, maxConcurrency: work.count) { index in
      verifyBank(
        work[index].slice, partition: work[index].verdict.partition, config: work[index].config,
        saved: SavedFiles(manifest: saved, partition: work[index].verdict.partition), allDigests: allDigests,
        backend: backend)
    }
    let banks = assemble(results, work: work, layout: layout, status: status, deviceFindings: &deviceFindings)
    if let saved {
      // Its regions, and the files of partitions that are not banks now (the ESP, a store, a
      // bank destroyed since), the way `checksum --check` compares them.
      deviceFindings += try ChecksumManifest.recheck(
        saved, source: source, layout: layout, skippingFilesOf: Set(banks.map(\.partition)))
    }
    let shapes = BankShape.survey(source, layout: layout, status: status)
    deviceFindings += shapes.compactMap(\.finding)
    return outlook(status: status, banks: banks, shapes: shapes, deviceFindings: deviceFindings)
  }

  /// One bank to check: the loader's verdict on it, its boot.cfg and its partition's bytes.
  struct BankWork: Sendable {
    var verdict: BankVerdict
    var config: BootConfig
    var slice: SourceSlice

    /// Nil for a partition the loader does not count as a bank.
    init?(_ verdict: BankVerdict, source: any ByteSource, layout: DiskLayout) {
      guard verdict.uuid != nil, let config = verdict.config, let partition = layout.loaderVolume(verdict.partition)
      else { return nil }
      let start = Int64(clamping: partition.offsetBytes)
      self.verdict = verdict
      self.config = config
      slice = source.slice(start..<(start &+ Int64(clamping: partition.sizeBytes)))
    }
  }

  /// A FAT partition holding /boot.cfg without the VMware magic: the loader skips it.
  static func magicMissing(_ source: any ByteSource, layout: DiskLayout, status: BankStatus) -> [Finding] {
    var findings: [Finding] = []
    for found in status.discovered where found.candidate.uuid == nil {
      guard let partition = layout.loaderVolume(found.candidate.partition) else { continue }
      let start = Int64(clamping: partition.offsetBytes)
      let slice = source.slice(start..<(start &+ Int64(clamping: partition.sizeBytes)))
      guard (try? BankDiscovery.readBootConfig(slice)) != nil else { continue }
      findings.append(
        .error(
          "bankMagicMissing",
          found.uuidOffset.map {
            "partition \(partition.number) holds /boot.cfg, and the \"VMWARE FAT16\" magic at byte \($0) (as ESXi 6.7's installer wrote it on 4Kn media), not in its \(layout.sectorSize)-byte second sector where the loader reads it: the loader does not count it as a bank"
          }
            ?? "partition \(partition.number) holds /boot.cfg but no \"VMWARE FAT16\" magic in its second sector: the loader does not count it as a bank",
          offset: start &+ Int64(layout.sectorSize), lba: partition.firstLBA + 1, partition: partition.number))
    }
    return findings
  }

  /// The banks' results with what the table and the bank choice say about each partition
  /// placed first; the partition findings no bank holds stay with the device.
  static func assemble(
    _ results: [Verification.BankResult], work: [BankWork], layout: DiskLayout, status: BankStatus,
    deviceFindings: inout [Finding]
  ) -> [Verification.BankResult] {
    let byPartition = Dictionary(grouping: status.findings.filter { $0.partition != nil }) { $0.partition ?? 0 }
    // What the table says about a bank's partition (cut off by the end of the image, say) is
    // that bank's finding: the bank the loader picks is only as sound as its partition.
    let tableFindings = Dictionary(grouping: layout.allFindings.filter { $0.partition != nil }) { $0.partition ?? 0 }
    let bankPartitions = Set(work.map(\.verdict.partition))
    deviceFindings.removeAll { $0.partition.map(bankPartitions.contains) ?? false }
    var banks: [Verification.BankResult] = []
    for (index, item) in work.enumerated() {
      let partition = item.verdict.partition
      var result = results[index]
      result.findings = (tableFindings[partition] ?? []) + (byPartition[partition] ?? []) + result.findings
      result.role = item.verdict.role?.rawValue
      result.build = item.verdict.build
      result.verdict = worst(result.findings)
      banks.append(result)
    }
    // A partition's finding with no bank to hold it (a magic at byte 512 on 4Kn media, an
    // unreadable second sector) is the device's: nothing is dropped.
    let reported = Set(banks.map(\.partition))
    for (partition, findings) in byPartition.sorted(by: { $0.key < $1.key }) where !reported.contains(partition) {
      deviceFindings += findings.filter { $0.kind != "bankUUIDAt512" }
    }
    return banks
  }

  /// The device verdict: what the next boot does, and what a failed boot falls back to.
  static func outlook(
    status: BankStatus, banks: [Verification.BankResult], shapes: [BankShape], deviceFindings: [Finding]
  ) -> Verification {
    func checked(_ bank: BankVerdict) -> Verification.BootBank {
      let result = banks.first { $0.partition == bank.partition }
      return Verification.BootBank(partition: bank.partition, build: bank.build, verdict: result?.verdict ?? .broken)
    }
    var verdict = worst(deviceFindings)
    let next = status.choice.next.map(checked)
    // No bank to boot, or a broken one: the next boot fails.
    if (next?.verdict ?? .broken) == .broken { verdict = .broken }
    let fallbackBank = status.choice.banks.first { $0.role == .altbootbank }
    let fallback: Verification.Fallback
    if let fallbackBank {
      fallback =
        fallbackBank.bootable
        ? .bank(checked(fallbackBank))
        : .notBootable(partition: fallbackBank.partition, bootstate: fallbackBank.bootstateAfter)
    } else {
      fallback = .none
    }
    // A failed boot with no sound way back.
    switch fallback {
    case .bank(let bank) where bank.verdict != .ok: verdict = max(verdict, .degraded)
    case .notBootable: verdict = max(verdict, .degraded)
    case .none where next != nil: verdict = max(verdict, .degraded)
    default: break
    }
    // Every other partition holding a boot.cfg the loader looks at is named too: the verdict
    // covers every bank on the device.
    let others = status.choice.banks.filter { other in
      guard other.partition != next?.partition, other.partition != fallbackBank?.partition else { return false }
      switch other.status {
      case .notABank(.noMagic), .notABank(.noBootConfig): return false
      default: return true
      }
    }
    for bank in banks where bank.verdict != .ok { verdict = max(verdict, .degraded) }
    return Verification(
      verdict: verdict, next: next, fallback: fallback, otherBanks: others, shapes: shapes, banks: banks,
      findings: deviceFindings)
  }

  static func worst(_ findings: [Finding]) -> Verification.Verdict {
    if findings.contains(where: { $0.severity == .error }) { return .broken }
    return findings.isEmpty ? .ok : .degraded
  }

  /// Checks one bank's volume and files: the FAT volume, the bank's own manifest, the files
  /// boot.cfg and the manifest name, each file's bytes, and the saved manifest's list.
  static func verifyBank(
    _ slice: SourceSlice, partition: Int, config: BootConfig, saved: SavedFiles?, allDigests: Bool,
    backend: InflateBackend
  ) -> Verification.BankResult {
    var result = Verification.BankResult(
      partition: partition, role: nil, build: nil, verdict: .ok, findings: [], files: [])
    guard let volume = openVolume(slice, into: &result) else { return result }
    let manifest = readManifest(volume, backend: backend, into: &result)
    let named = namedFiles(config, into: &result)
    let root: [FATEntry]
    do {
      root = try volume.list(path: "/")
    } catch {
      result.add(.error("bankRootUnreadable", "the root directory cannot be read: \(error)", path: "/"))
      return result
    }
    let files = root.filter { !$0.isDirectory && !$0.attributes.contains(.volumeLabel) }
    checkPresent(named, files: files, manifest: manifest, volume: volume, into: &result)
    let namedSet = Set(named.map { ($0.hasPrefix("/") ? String($0.dropFirst()) : $0).lowercased() })
    for file in files.sorted(by: { $0.name.lowercased() < $1.name.lowercased() }) {
      checkFile(
        file, manifest: manifest, named: namedSet, saved: saved, volume: volume, allDigests: allDigests,
        backend: backend, into: &result)
    }
    if let saved { compareListing(files, saved: saved, into: &result) }
    return result
  }

  /// The bank's FAT volume, checked to fsck depth; nil when it cannot be read.
  static func openVolume(_ slice: SourceSlice, into result: inout Verification.BankResult) -> FATVolume? {
    let volume: FATVolume
    do {
      volume = try FATVolume(source: slice)
    } catch {
      result.add(.error("bankFATUnreadable", "the bank's FAT volume cannot be read: \(error)"))
      return nil
    }
    do {
      for finding in try volume.check().findings { result.add(finding) }
    } catch {
      result.add(.error("bankFATCheckFailed", "the FAT check stopped: \(error)"))
    }
    return volume
  }

  /// The bank's own manifest, from its imgdb.tgz; nil (with a finding) when there is none to use.
  static func readManifest(
    _ volume: FATVolume, backend: InflateBackend, into result: inout Verification.BankResult
  ) -> PayloadManifest? {
    do {
      guard let entry = try volume.lookup("/imgdb.tgz"), !entry.isDirectory else {
        result.add(
          .error("imgdbMissing", "the bank has no imgdb.tgz: its payloads cannot be checked against its own manifest"))
        return nil
      }
      guard entry.size <= maximumImageDatabaseBytes else {
        result.add(.error("imgdbTooLarge", "imgdb.tgz is \(entry.size) bytes; not read", path: "/imgdb.tgz"))
        return nil
      }
      let database = try ImageDatabase(imgdb: volume.contents(of: entry), backend: backend)
      let built = PayloadManifest(database: database)
      for finding in database.findings + built.findings { result.add(finding) }
      guard !built.entries.isEmpty else {
        result.add(
          .error("imgdbNoProfile", "imgdb.tgz holds no image profile mapping payloads to files", path: "/imgdb.tgz"))
        return nil
      }
      return built
    } catch let error as ReadError {
      result.add(unreadable(error, path: "/imgdb.tgz"))
    } catch {
      result.add(.error("imgdbUnreadable", "imgdb.tgz cannot be read: \(error)", path: "/imgdb.tgz"))
    }
    return nil
  }

  /// The files boot.cfg names (`kernel=` first, then `modules=`), as written there.
  static func namedFiles(_ config: BootConfig, into result: inout Verification.BankResult) -> [String] {
    var named: [String] = []
    if let kernel = config.kernelItem { named.append(kernel.path) }
    named += config.modules.map(\.path)
    if config.kernelItem == nil {
      result.add(.error("bootConfigNoKernel", "boot.cfg names no kernel=", path: "/boot.cfg"))
    }
    return named
  }

  /// Every file boot.cfg names, and every file the image profile maps a payload to, is in the bank.
  static func checkPresent(
    _ named: [String], files: [FATEntry], manifest: PayloadManifest?, volume: FATVolume,
    into result: inout Verification.BankResult
  ) {
    let byName = Dictionary(files.map { ($0.name.lowercased(), $0) }, uniquingKeysWith: { a, _ in a })
    for path in named {
      let name = path.hasPrefix("/") ? String(path.dropFirst()) : path
      guard byName[name.lowercased()] == nil else { continue }
      do {
        if try volume.lookup("/" + name) == nil {
          result.add(.error("moduleMissing", "boot.cfg names \(path), which the bank does not hold", path: "/" + name))
        }
      } catch {
        result.add(
          .error("moduleMissing", "boot.cfg names \(path), which cannot be looked up: \(error)", path: "/" + name))
      }
    }
    guard let manifest else { return }
    for entry in manifest.coverage(of: files.map(\.name)).missing {
      result.add(
        .error(
          "payloadFileMissing",
          "the image profile maps payload \(entry.payloadName) of \(entry.vibID) to \(entry.fileName), which the bank does not hold",
          path: "/" + entry.fileName))
    }
  }

  /// One pass over a file's bytes: its manifest digests, gzip/tar integrity (for the files no
  /// manifest covers that boot.cfg names or that are gzip by name), and its saved digests.
  static func checkFile(
    _ file: FATEntry, manifest: PayloadManifest?, named: Set<String>, saved: SavedFiles?, volume: FATVolume,
    allDigests: Bool, backend: InflateBackend, into result: inout Verification.BankResult
  ) {
    let key = file.name.lowercased()
    let entry = manifest?.entry(forFile: file.name)
    let check = FileVerifier(
      path: file.path, entry: entry,
      integrity: entry == nil && (named.contains(key) || key.hasSuffix(".gz") || key.hasSuffix(".tgz")),
      saved: saved?.file(file.path), savedAlgorithms: saved?.algorithms ?? [], allDigests: allDigests,
      backend: backend)
    let before = result.findings.count
    do {
      try volume.forEachRun(of: file) { check.feed($0) }
      for finding in check.finish() { result.add(locate(finding, in: file, volume: volume)) }
    } catch let error as ReadError {
      result.add(unreadable(error, path: file.path))
    } catch {
      result.add(.error("fileUnreadable", "\(file.path) cannot be read: \(error)", path: file.path))
    }
    result.files.append(
      Verification.FileResult(
        path: file.path, size: Int64(file.size), check: check.kind,
        ok: !result.findings[before...].contains { $0.path == file.path && $0.severity == .error }))
  }

  /// The saved manifest's files the bank no longer holds, and the files it holds that the
  /// manifest does not list.
  static func compareListing(_ files: [FATEntry], saved: SavedFiles, into result: inout Verification.BankResult) {
    // The bank's files are flat: the root directory is what the loader and ESXi read.
    let present = Set(files.map { $0.path.lowercased() })
    for (key, file) in saved.files.sorted(by: { $0.key < $1.key })
    where !present.contains(key) && !file.path.dropFirst().contains("/") {
      result.add(ChecksumManifest.missing(file))
    }
    for file in files where saved.file(file.path) == nil {
      result.add(
        ChecksumManifest.added(
          ChecksumManifest.File(
            partition: result.partition, path: file.path, size: Int64(file.size), crc32: nil, sha256: nil, sha1: nil)
        ))
    }
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

extension Verification.BankResult {
  /// Adds a finding of this bank, naming its partition.
  mutating func add(_ finding: Finding) { findings.append(finding.inPartition(partition)) }
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
