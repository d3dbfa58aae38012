import Archive
import DiskFormat

extension ImageDatabase {
  /// Reads an imgdb.tgz pushed in chunks: gunzip, tar, and the XML of the profile and
  /// descriptors kept in memory under `Limits`.
  public final class Reader {
    public let limits: Limits
    private let archive: TarGzReader
    private var extractor: TarExtractor

    public init(limits: Limits = Limits(), backend: InflateBackend = .default) {
      self.limits = limits
      archive = TarGzReader(
        gzip: GzipDecoder(backend: backend, maxOutput: limits.maxDecompressedSize),
        tar: TarReader(limits: TarReader.Limits(maxMembers: limits.maxMembers)))
      extractor = TarExtractor(maxMemberSize: limits.maxXMLSize, maxTotalSize: limits.maxTotalXMLSize) { member in
        ImageDatabase.isProfile(member) || ImageDatabase.isVIB(member)
      }
    }

    /// Reads the next chunk of imgdb.tgz.
    ///
    /// - Throws: `GzipError`, `TarError`.
    public func feed(_ bytes: Span<UInt8>) throws {
      try archive.feed(bytes, to: &extractor)
    }

    /// Reads the next chunk of imgdb.tgz.
    public func feed(_ bytes: [UInt8]) throws {
      try feed(bytes.span)
    }

    /// Checks the gzip and tar layers ended cleanly and parses the XML.
    public func finish() throws -> ImageDatabase {
      let (gzip, tar) = try archive.finish()
      var profiles: [Profile] = []
      var vibs: [VIB] = []
      var findings: [Finding] = []
      for (name, bytes) in extractor.files.sorted(by: { $0.key < $1.key }) {
        let path = ImageDatabase.normalize(name)
        do {
          if path.hasPrefix(ImageDatabase.profilesDirectory) {
            profiles.append(try ImageDatabase.parseProfile(bytes, path: path))
          } else {
            vibs.append(try ImageDatabase.parseVIB(bytes, path: path))
          }
        } catch {
          findings.append(.error("imgdbXMLInvalid", "imgdb.tgz: \(path): \(error)", path: path))
        }
      }
      if profiles.isEmpty {
        findings.append(
          .error("imgdbProfileMissing", "imgdb.tgz holds no image profile under \(ImageDatabase.profilesDirectory)"))
      } else if profiles.count > 1 {
        findings.append(
          .warning(
            "imgdbMultipleProfiles",
            "imgdb.tgz holds \(profiles.count) image profiles: \(profiles.map(\.path).joined(separator: ", "))"))
      }
      if tar.end != .twoZeroBlocks {
        findings.append(.warning("imgdbTarEnd", "imgdb.tgz: the tar stream does not end with two zero blocks"))
      }
      return ImageDatabase(
        profiles: profiles, vibs: vibs, members: extractor.members, gzip: gzip, tar: tar, findings: findings)
    }
  }

  /// Reads a whole imgdb.tgz held in memory.
  public init(imgdb bytes: [UInt8], limits: Limits = Limits(), backend: InflateBackend = .default) throws {
    let reader = Reader(limits: limits, backend: backend)
    try reader.feed(bytes)
    self = try reader.finish()
  }
}
