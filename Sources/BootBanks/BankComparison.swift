import Archive
import BootConfig
import Checksum
import DiskFormat
import FAT

/// What `bootbank diff` reports: whether two banks hold the same image, the real differences,
/// and apart from them the differences banks legitimately have
/// (what each bank keeps of its own after ESXi's sync: UUID, bootstate, per-host state).
public struct BankComparison: Hashable, Sendable, Codable {
  public enum Kind: String, Hashable, Sendable, Codable {
    case added, removed, changed
    /// A difference two sound banks have anyway: boot.cfg state, per-host files, the UUID.
    case expected
  }

  public struct Difference: Hashable, Sendable, Codable {
    /// The file, where the difference is one ("/s.v00").
    public var path: String?
    /// The payload ("esx-base:s"), where the difference is one.
    public var payload: String?
    public var kind: Kind
    public var detail: String
  }

  /// Which partitions (and devices) were compared.
  public var left: Side
  public var right: Side
  /// True when the only differences are expected ones.
  public var equal: Bool
  public var differences: [Difference]

  public struct Side: Hashable, Sendable, Codable {
    public var device: String
    public var partition: Int
    public var build: String?
    public var uuid: String?
    public init(device: String, partition: Int, build: String?, uuid: String?) {
      self.device = device
      self.partition = partition
      self.build = build
      self.uuid = uuid
    }
  }
}

/// A bank's content as compared: its boot.cfg, its manifest, the digests of its files.
public struct BankContent: Sendable {
  public var side: BankComparison.Side
  public var config: BootConfig
  public var manifest: PayloadManifest?
  /// Lower-cased root file name → (name as shown, size, SHA-256 of the raw bytes).
  public var files: [String: (name: String, size: Int64, sha256: String)]
  /// SHA-256 over the bytes of every allocated data cluster, in cluster order (raw mode).
  public var allocatedClustersSHA256: String?

  /// Reads a bank: its root files (each hashed once) and its manifest.
  ///
  /// - Throws: `FormatError`/`ReadError` when the volume cannot be read.
  public static func read(
    _ slice: SourceSlice, side: BankComparison.Side, config: BootConfig, raw: Bool, backend: InflateBackend = .default
  ) throws -> BankContent {
    let volume = try FATVolume(source: slice)
    var files: [String: (name: String, size: Int64, sha256: String)] = [:]
    var manifest: PayloadManifest?
    for entry in try volume.list(path: "/") where !entry.isDirectory && !entry.attributes.contains(.volumeLabel) {
      var hasher = SHA256Hasher()
      var bytes: [UInt8] = []
      let keep = entry.name.lowercased() == "imgdb.tgz" && entry.size <= 64 << 20
      try volume.forEachRun(of: entry) { span in
        hasher.update(span)
        if keep { for i in 0..<span.count { bytes.append(span[i]) } }
      }
      files[entry.name.lowercased()] = (entry.name, Int64(entry.size), hexString(hasher.finalize()))
      if keep, let database = try? ImageDatabase(imgdb: bytes, backend: backend) {
        manifest = PayloadManifest(database: database)
      }
    }
    var clusters: String?
    if raw {
      var hasher = SHA256Hasher()
      let map = volume.allocationMap()
      for range in map.usedRanges {
        try slice.withBytes(in: range) { hasher.update($0) }
      }
      clusters = hexString(hasher.finalize())
    }
    return BankContent(side: side, config: config, manifest: manifest, files: files, allocatedClustersSHA256: clusters)
  }
}

public enum BankComparer {
  /// Files two sound banks may hold differently: per-host state each bank keeps of its own.
  static let perHostFiles: Set<String> = ["state.tgz", "useropts.gz", "jumpstrt.gz", "features.gz", "onetime.tgz"]

  /// Compares two banks by payload: the image profile's map and the VIB digests, then the
  /// files no manifest covers. With `raw`, every file is also compared byte for byte (by
  /// SHA-256) and the allocated clusters of the two volumes as a whole.
  public static func compare(_ a: BankContent, _ b: BankContent, raw: Bool) -> BankComparison {
    var out = compareBootConfig(a, b)
    let (payloads, coveredFiles) = comparePayloads(a, b)
    out += payloads
    out += compareFiles(a, b, skipping: coveredFiles)
    if raw, let ca = a.allocatedClustersSHA256, let cb = b.allocatedClustersSHA256, ca != cb {
      out.add(.expected, path: nil, "allocated clusters differ as a whole (per-host files and boot.cfg live there too)")
    }
    let equal = !out.contains { $0.kind != .expected }
    return BankComparison(left: a.side, right: b.side, equal: equal, differences: out)
  }

  /// The build, the bank UUIDs and boot.cfg's keys: bootstate/updated (and kernelopt) differ
  /// legitimately; other keys are real.
  static func compareBootConfig(_ a: BankContent, _ b: BankContent) -> [BankComparison.Difference] {
    var out: [BankComparison.Difference] = []
    if a.side.build != b.side.build {
      out.add(.changed, path: "/boot.cfg", "build: \(a.side.build ?? "none") vs \(b.side.build ?? "none")")
    }
    if a.side.uuid != b.side.uuid {
      out.add(.expected, "bank UUID: \(a.side.uuid ?? "none") vs \(b.side.uuid ?? "none") (each bank keeps its own)")
    }

    let keysA = options(a.config)
    let keysB = options(b.config)
    for key in Set(keysA.keys).union(keysB.keys).sorted() where keysA[key] != keysB[key] {
      let detail = "\(key)=\(keysA[key] ?? "(absent)") vs \(key)=\(keysB[key] ?? "(absent)")"
      if ["bootstate", "updated", "kernelopt", "build"].contains(key) {
        if key != "build" { out.add(.expected, path: "/boot.cfg", detail) }
      } else {
        out.add(.changed, path: "/boot.cfg", detail)
      }
    }
    return out
  }

  /// Payloads, by VIB name and payload name, compared by their gunzip digests; and the files
  /// (lower-cased) the manifests cover.
  static func comparePayloads(
    _ a: BankContent, _ b: BankContent
  ) -> ([BankComparison.Difference], Set<String>) {
    var out: [BankComparison.Difference] = []
    var coveredFiles = Set<String>()
    if let ma = a.manifest, let mb = b.manifest {
      let pa = payloads(ma)
      let pb = payloads(mb)
      for key in Set(pa.keys).union(pb.keys).sorted() {
        let ea = pa[key]
        let eb = pb[key]
        if let ea { coveredFiles.insert(ea.fileName.lowercased()) }
        if let eb { coveredFiles.insert(eb.fileName.lowercased()) }
        switch (ea, eb) {
        case (let ea?, nil):
          out.add(
            .removed, path: "/" + ea.fileName, payload: key, "only in partition \(a.side.partition) (\(ea.vibID))")
        case (nil, let eb?):
          out.add(.added, path: "/" + eb.fileName, payload: key, "only in partition \(b.side.partition) (\(eb.vibID))")
        case (let ea?, let eb?):
          if ea.skip == .perHost || eb.skip == .perHost {
            if a.files[ea.fileName.lowercased()]?.sha256 != b.files[eb.fileName.lowercased()]?.sha256 {
              out.add(.expected, path: "/" + ea.fileName, payload: key, "per-host data differs")
            }
          } else if ea.sha256Gunzip != eb.sha256Gunzip || ea.vibID != eb.vibID {
            out.add(
              .changed, path: "/" + ea.fileName, payload: key,
              "\(ea.vibID) vs \(eb.vibID): SHA-256 (gunzip) \(short(ea.sha256Gunzip)) vs \(short(eb.sha256Gunzip))")
          } else if a.files[ea.fileName.lowercased()]?.sha256 != b.files[eb.fileName.lowercased()]?.sha256 {
            out.add(
              .changed, path: "/" + ea.fileName, payload: key,
              "the manifests agree but the files differ byte for byte (recompressed, or damaged: run bootbank verify)")
          }
        default: break
        }
      }
    } else {
      out.add(.changed, path: "/imgdb.tgz", "a bank has no readable image database: payloads compared as files")
    }
    return (out, coveredFiles)
  }

  /// Everything else, file by file.
  static func compareFiles(
    _ a: BankContent, _ b: BankContent, skipping coveredFiles: Set<String>
  ) -> [BankComparison.Difference] {
    var out: [BankComparison.Difference] = []
    for key in Set(a.files.keys).union(b.files.keys).sorted() where !coveredFiles.contains(key) && key != "boot.cfg" {
      let fa = a.files[key]
      let fb = b.files[key]
      let path = "/" + (fa?.name ?? fb?.name ?? key)
      let perHost = perHostFiles.contains(key) || key == "imgdb.tgz"
      switch (fa, fb) {
      case (_?, nil): out.add(perHost ? .expected : .removed, path: path, "only in partition \(a.side.partition)")
      case (nil, _?): out.add(perHost ? .expected : .added, path: path, "only in partition \(b.side.partition)")
      case (let fa?, let fb?) where fa.sha256 != fb.sha256:
        if key == "imgdb.tgz" {
          if a.side.build != b.side.build {
            out.add(.changed, path: path, "image database of another build")
          } else {
            out.add(.expected, path: path, "image database differs (rewritten on every change)")
          }
        } else {
          out.add(
            perHost ? .expected : .changed, path: path,
            perHost ? "per-host data differs" : "contents differ (\(fa.size) vs \(fb.size) bytes)")
        }
      default: break
      }
    }
    return out
  }

  static func options(_ config: BootConfig) -> [String: String] {
    var out: [String: String] = [:]
    for key in ["kernel", "kernelopt", "modules", "title", "timeout", "prefix"] {
      if let value = config.mbootParse[key]?.text { out[key] = value }
    }
    if let bank = config.bankOptions {
      out["bootstate"] = bank.bootstatePresent ? String(bank.bootstate) : nil
      out["updated"] = String(bank.updated)
      out["build"] = bank.build
    }
    return out
  }

  /// The payloads a bank holds, by VIB and payload name: a profile also maps payloads of types
  /// no bank holds (EFI loaders, upgrade tools), which are no difference between banks.
  static func payloads(_ manifest: PayloadManifest) -> [String: PayloadManifest.Entry] {
    var out: [String: PayloadManifest.Entry] = [:]
    for entry in manifest.entries {
      if case .notOnBank? = entry.skip { continue }
      out["\(entry.vibName ?? entry.vibID):\(entry.payloadName)"] = entry
    }
    return out
  }

  static func short(_ digest: String?) -> String { digest.map { String($0.prefix(12)) + "…" } ?? "none" }
}

extension [BankComparison.Difference] {
  fileprivate mutating func add(
    _ kind: BankComparison.Kind, path: String? = nil, payload: String? = nil, _ detail: String
  ) {
    append(BankComparison.Difference(path: path, payload: payload, kind: kind, detail: detail))
  }
}
