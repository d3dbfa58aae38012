/// What `bootbank checksum --manifest` writes and `--check`/`verify --manifest` read back:
/// the digests of a device, its partitions and the files of its FAT partitions, at one time.
public struct ChecksumManifest: Hashable, Sendable, Codable {
  public static let formatName = "bootbank-checksum/1"

  public struct Device: Hashable, Sendable, Codable {
    public var path: String
    public var sizeBytes: Int64
    public var sectorSize: Int
    public var table: String
    public var diskGUID: String?
    public init(path: String, sizeBytes: Int64, sectorSize: Int, table: String, diskGUID: String?) {
      self.path = path
      self.sizeBytes = sizeBytes
      self.sectorSize = sectorSize
      self.table = table
      self.diskGUID = diskGUID
    }
  }

  /// Digests of one byte range: the whole device or one partition.
  public struct Region: Hashable, Sendable, Codable {
    /// nil for the whole device.
    public var partition: Int?
    public var firstLBA: UInt64?
    public var lastLBA: UInt64?
    public var sizeBytes: Int64
    public var crc32: String?
    public var sha256: String?
    public var sha1: String?
    public init(
      partition: Int?, firstLBA: UInt64?, lastLBA: UInt64?, sizeBytes: Int64, crc32: String?, sha256: String?,
      sha1: String?
    ) {
      self.partition = partition
      self.firstLBA = firstLBA
      self.lastLBA = lastLBA
      self.sizeBytes = sizeBytes
      self.crc32 = crc32
      self.sha256 = sha256
      self.sha1 = sha1
    }
  }

  /// Digests of one file in a FAT partition.
  public struct File: Hashable, Sendable, Codable {
    public var partition: Int
    /// From the volume root, as `bootbank ls` shows it.
    public var path: String
    public var size: Int64
    public var crc32: String?
    public var sha256: String?
    public var sha1: String?
    public init(partition: Int, path: String, size: Int64, crc32: String?, sha256: String?, sha1: String?) {
      self.partition = partition
      self.path = path
      self.size = size
      self.crc32 = crc32
      self.sha256 = sha256
      self.sha1 = sha1
    }
  }

  public var format: String
  /// ISO 8601, UTC.
  public var created: String
  public var device: Device
  public var algorithms: [String]
  public var regions: [Region]
  public var files: [File]

  public init(created: String, device: Device, algorithms: [String], regions: [Region], files: [File]) {
    self.format = Self.formatName
    self.created = created
    self.device = device
    self.algorithms = algorithms
    self.regions = regions
    self.files = files
  }

  /// The saved files of one partition, by lower-cased path.
  public func files(ofPartition partition: Int) -> [String: File] {
    var out: [String: File] = [:]
    for file in files where file.partition == partition { out[file.path.lowercased()] = file }
    return out
  }
}
