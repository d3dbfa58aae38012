import DiskFormat

/// What the bank's own manifest says each file should hold (its imgdb.tgz).
///
/// Built from an image profile's payload → file map (never reconstructed from names) and
/// the VIB descriptors' checksums. For each bank file the profile names, an `Entry` gives
/// the expected digests and the VIB it comes from; ESXi's own exceptions (payloads whose
/// names start with `useropts`, `features`, `jumpstrt`: per-host data, listed with the
/// digests of an empty gzip) are marked skipped. `uncoveredFiles` lists what no manifest covers.
public struct PayloadManifest: Hashable, Sendable {
  /// Files a bank holds that no manifest covers; ESXi's backup script checks them only by
  /// gzip integrity (and `tar t` for the .tgz ones).
  public static let uncoveredFiles = [
    "boot.cfg", "state.tgz", "imgdb.tgz", "onetime.tgz", "useropts.gz", "jumpstrt.gz", "features.gz",
  ]
  /// Payload-name prefixes ESXi skips when it verifies a bank (per-host data).
  public static let perHostPrefixes = ["useropts", "features", "jumpstrt"]
  /// Payload types that are gzip streams on a bank.
  public static let gzipTypes: Set<String> = ["vgz", "tgz"]
  /// Payload types the bootbank installer writes to a bank; a profile maps the others too
  /// (`upgrade`, `boot_loader_efi`, `boot_com32_bios`, `text`, …), but no bank holds them.
  public static let bankTypes: Set<String> = ["boot", "vgz", "tgz"]

  /// The profile the manifest was built from.
  public var profilePath: String?
  /// One entry per bank file the profile maps, sorted by lower-cased file name.
  public var entries: [Entry]
  /// Problems found while building: VIBs without descriptor, payloads without checksums, duplicates.
  public var findings: [Finding]

  /// Builds the manifest from `database`'s profile (the first by path when it holds several,
  /// or the one whose path is `profilePath`).
  public init(database: ImageDatabase, profilePath: String? = nil) {
    let profile =
      profilePath.flatMap { path in database.profiles.first { $0.path == path } } ?? database.profiles.first
    self.profilePath = profile?.path
    var entries: [Entry] = []
    var findings: [Finding] = []
    var seen: [String: String] = [:]  // lower-cased file name → VIB ID
    var descriptors: [String: ImageDatabase.VIB] = [:]
    for vib in database.vibs where descriptors[vib.id] == nil { descriptors[vib.id] = vib }

    for vibEntry in profile?.vibs ?? [] {
      let descriptor = descriptors[vibEntry.id] ?? Self.looseMatch(vibEntry.id, in: database.vibs)
      if descriptor == nil {
        findings.append(
          .error(
            "imgdbVIBDescriptorMissing",
            "imgdb.tgz: the profile lists VIB \(vibEntry.id) but no descriptor under \(ImageDatabase.vibsDirectory) has that ID"
          ))
      }
      for file in vibEntry.payloads {
        let key = file.fileName.lowercased()
        if let other = seen[key] {
          findings.append(
            .error(
              "imgdbDuplicateFile",
              "imgdb.tgz: file \(file.fileName) is mapped twice (VIBs \(other) and \(vibEntry.id))", path: file.fileName
            ))
          continue
        }
        seen[key] = vibEntry.id
        let payload = descriptor?.payload(named: file.payloadName)
        if descriptor != nil, payload == nil {
          findings.append(
            .error(
              "imgdbPayloadMissing",
              "imgdb.tgz: VIB \(vibEntry.id) has no payload \"\(file.payloadName)\" for \(file.fileName)",
              path: file.fileName))
        }
        var entry = Entry(
          fileName: file.fileName, payloadName: file.payloadName, vibID: vibEntry.id, vibName: descriptor?.name,
          vibType: descriptor?.type, payloadType: payload?.type, size: payload?.size,
          sha256Gunzip: payload?.checksum("sha-256", verifyProcess: "gunzip"),
          sha1Gunzip: payload?.checksum("sha-1", verifyProcess: "gunzip"),
          sha256: payload?.checksum("sha-256", verifyProcess: nil), skip: nil)
        let lowered = file.payloadName.lowercased()
        if Self.perHostPrefixes.contains(where: { lowered.hasPrefix($0) }) {
          entry.skip = .perHost
        } else if let type = descriptor?.type?.lowercased(), type != "bootbank" {
          entry.skip = .notInBootbank(vibType: type)
        } else if let type = payload?.type, !Self.bankTypes.contains(type) {
          entry.skip = .notOnBank(payloadType: type)
        } else if payload != nil, entry.sha256Gunzip == nil, entry.sha1Gunzip == nil, entry.sha256 == nil {
          entry.skip = .noChecksum
          findings.append(
            .warning(
              "imgdbChecksumMissing",
              "imgdb.tgz: payload \(file.payloadName) of VIB \(vibEntry.id) carries no checksum", path: file.fileName))
        }
        entries.append(entry)
      }
    }
    self.entries = entries.sorted { $0.fileName.lowercased() < $1.fileName.lowercased() }
    self.findings = findings
  }

  /// A descriptor for a profile VIB ID that is not spelled exactly as `vendor_type_name_version`
  /// of any descriptor: the one matching case-insensitively, else the only one whose
  /// `_name_version` ends the ID (hand-edited profiles, odd vendor strings).
  static func looseMatch(_ id: String, in vibs: [ImageDatabase.VIB]) -> ImageDatabase.VIB? {
    let lowered = id.lowercased()
    if let match = vibs.first(where: { $0.id.lowercased() == lowered }) { return match }
    let candidates = vibs.filter { vib in
      guard let name = vib.name, let version = vib.version, !name.isEmpty, !version.isEmpty else { return false }
      return lowered.hasSuffix("_\(name)_\(version)".lowercased())
    }
    return candidates.count == 1 ? candidates.first : nil
  }

  /// The entry for a bank file, matched case-insensitively (FAT names are).
  public func entry(forFile name: String) -> Entry? {
    let key = name.lowercased()
    return entries.first { $0.fileName.lowercased() == key }
  }

  /// Sorts a bank's file names into what the manifest covers, what no manifest covers by
  /// design (`uncoveredFiles`), and what nothing explains; and lists entries with no file.
  public func coverage(of bankFiles: [String]) -> Coverage {
    var coverage = Coverage()
    var present = Set<String>()
    for file in bankFiles.sorted(by: { $0.lowercased() < $1.lowercased() }) {
      let key = file.lowercased()
      present.insert(key)
      if entry(forFile: file) != nil {
        coverage.covered.append(file)
      } else if Self.uncoveredFiles.contains(key) {
        coverage.uncovered.append(file)
      } else {
        coverage.unknown.append(file)
      }
    }
    coverage.missing = entries.filter { entry in
      guard !present.contains(entry.fileName.lowercased()) else { return false }
      switch entry.skip {
      case .notInBootbank?, .notOnBank?: return false
      default: return true
      }
    }
    return coverage
  }
}
