import Archive
import DiskFormat

/// The bank's image database, `imgdb.tgz`: the image profile(s) under
/// `var/db/esximg/profiles/` and the VIB descriptors `var/db/esximg/vibs/*.xml`
/// (esximage's layout). Every other member (signatures, original descriptors, other folders) is
/// listed in `members` and otherwise left alone.
///
/// Read it in one pass over the file's bytes, as they come off the FAT volume:
///
/// ```swift
/// let reader = ImageDatabase.Reader()
/// for cluster in clusters { try reader.feed(cluster) }
/// let database = try reader.finish()
/// let manifest = PayloadManifest(database: database)
/// ```
///
/// Damage to the gzip or tar layers throws (`GzipError`, `TarError`); XML that does not
/// parse, and other content problems, are `findings`, so one bad descriptor does not hide
/// the rest of the manifest.
public struct ImageDatabase: Sendable {
  public static let profilesDirectory = "var/db/esximg/profiles/"
  public static let vibsDirectory = "var/db/esximg/vibs/"

  /// Bounds on what an imgdb.tgz may make the reader do.
  public struct Limits: Hashable, Sendable {
    /// Largest profile or descriptor XML read.
    public var maxXMLSize: Int64 = 8 << 20
    /// All profile and descriptor XML together.
    public var maxTotalXMLSize: Int64 = 96 << 20
    /// Decompressed size of the whole tar stream.
    public var maxDecompressedSize: Int64 = 512 << 20
    /// Members of the tar stream.
    public var maxMembers = 100_000

    public init() {}
  }

  /// The image profiles (normally exactly one), sorted by member path.
  public var profiles: [Profile]
  /// The VIB descriptors, sorted by member path.
  public var vibs: [VIB]
  /// Every member of the archive, in archive order.
  public var members: [TarMember]
  /// The gzip layer's summary.
  public var gzip: GzipSummary
  /// The tar layer's summary.
  public var tar: TarSummary
  /// Problems with the content (XML that does not parse, missing profile, …).
  public var findings: [Finding]

  /// The descriptor of the VIB with this ID (`vendor_type_name_version`), if present.
  public func vib(id: String) -> VIB? {
    vibs.first { $0.id == id }
  }

  /// A member path without a leading "./" or "/".
  static func normalize(_ path: String) -> String {
    var path = Substring(path)
    while path.hasPrefix("./") || path.hasPrefix("/") {
      path = path.hasPrefix("./") ? path.dropFirst(2) : path.dropFirst()
    }
    return String(path)
  }

  static func isProfile(_ member: TarMember) -> Bool {
    let path = normalize(member.name)
    return path.hasPrefix(profilesDirectory) && path.count > profilesDirectory.count && !path.hasSuffix("/")
  }

  /// Whether a member is a VIB descriptor: `vibs/<name>-<hash>.xml`. Its neighbours
  /// `.xml.sig` (a PKCS#7 signature) and `.xml.orig` (the descriptor as shipped), and the
  /// folders later versions add beside `vibs/`, are not read, and are no finding.
  static func isVIB(_ member: TarMember) -> Bool {
    let path = normalize(member.name)
    return path.hasPrefix(vibsDirectory) && path.count > vibsDirectory.count + descriptorSuffix.count
      && path.lowercased().hasSuffix(descriptorSuffix)
  }

  /// The file-name ending of a VIB descriptor.
  static let descriptorSuffix = ".xml"
}
