import SystemPackage

/// A failure to open or query a target: what was being done, to which path, and the errno.
public struct DiskIOError: Error, Hashable, Sendable, CustomStringConvertible {
  public enum Operation: String, Sendable, Hashable {
    case open, stat, ioctl, map, read, write, sync
  }
  public var operation: Operation
  public var path: String
  public var errno: Errno?
  /// Extra words for cases with no errno ("is a directory", "not a file or block device").
  public var detail: String?

  public init(_ operation: Operation, path: String, errno: Errno? = nil, detail: String? = nil) {
    self.operation = operation
    self.path = path
    self.errno = errno
    self.detail = detail
  }

  public var description: String {
    var text = "\(path): cannot \(operation.rawValue)"
    if let detail { text += ": \(detail)" }
    if let errno { text += ": \(errno.description)" }
    return text
  }
}
