/// Something a check found: not an error that stops the tool, but a fact to report.
///
/// Every finding in bootbank has a severity, a stable machine-readable `kind`
/// (lowerCamelCase), a human message, and where it applies the place it concerns.
public struct Finding: Hashable, Sendable, Codable {
  public enum Severity: String, Hashable, Sendable, Codable, Comparable {
    case warning, error
    public static func < (a: Severity, b: Severity) -> Bool { a == .warning && b == .error }
  }
  public var severity: Severity
  public var kind: String
  public var message: String
  /// Absolute byte offset in the image, where one applies.
  public var offset: Int64?
  /// Logical block address, where one applies.
  public var lba: UInt64?
  /// Partition number (Linux/ESXi numbering), where one applies.
  public var partition: Int?
  /// Path inside a file system, where one applies.
  public var path: String?

  public init(
    _ severity: Severity, _ kind: String, _ message: String,
    offset: Int64? = nil, lba: UInt64? = nil, partition: Int? = nil, path: String? = nil
  ) {
    self.severity = severity
    self.kind = kind
    self.message = message
    self.offset = offset
    self.lba = lba
    self.partition = partition
    self.path = path
  }

  public static func error(
    _ kind: String, _ message: String, offset: Int64? = nil, lba: UInt64? = nil,
    partition: Int? = nil, path: String? = nil
  ) -> Finding {
    Finding(.error, kind, message, offset: offset, lba: lba, partition: partition, path: path)
  }

  public static func warning(
    _ kind: String, _ message: String, offset: Int64? = nil, lba: UInt64? = nil,
    partition: Int? = nil, path: String? = nil
  ) -> Finding {
    Finding(.warning, kind, message, offset: offset, lba: lba, partition: partition, path: path)
  }

  /// The same finding, attributed to a partition.
  public func inPartition(_ number: Int) -> Finding {
    var copy = self
    copy.partition = number
    return copy
  }
}
