import DiskFormat
import DiskIO
import FAT
import Foundation

/// The one error the user sees: a kind, the path it is about, and one line saying what is wrong.
/// Printed as `bootbank: error: PATH: message`; with `--json` also as
/// `{"error": {"kind", "message", "path"}}` on standard output. Its status is always 2.
struct CLIError: Error, Encodable, CustomStringConvertible {
  enum Kind: String, Encodable {
    /// The target or a file cannot be opened (missing, no permission, a directory).
    case cannotOpen
    /// Bytes cannot be read (I/O error, short read, past the end).
    case unreadable
    /// The bytes do not decode as what they must be.
    case undecodable
    /// A path inside a volume, a partition number or a bank role that does not exist.
    case notFound
    /// A partition holds no FAT file system.
    case notFAT
    /// A saved manifest is missing, unreadable or not a bootbank manifest.
    case badManifest
    /// Something cannot be written (standard output, a manifest, an extracted file).
    case cannotWrite
    /// The device holds fewer banks than the command needs.
    case notABootDevice
  }

  var kind: Kind
  /// The target or file the error is about; nil when none applies.
  var path: String?
  var message: String

  init(_ kind: Kind, path: String?, _ message: String) {
    self.kind = kind
    self.path = path
    self.message = CLIError.oneLine(message)
  }

  var description: String {
    guard let path else { return "bootbank: error: \(message)" }
    return "bootbank: error: \(path): \(message)"
  }

  enum CodingKeys: String, CodingKey { case kind, message, path }

  func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(kind, forKey: .kind)
    try c.encode(message, forKey: .message)
    try c.encode(path, forKey: .path)
  }

  /// The target holds no MBR or GPT: the report was printed, and this is the error line.
  /// It is not printed as JSON too, as the report already is on standard output.
  static func noTable(_ path: String) -> CLIError {
    var error = CLIError(.notABootDevice, path: path, "no MBR or GPT: not a boot device")
    error.reportPrinted = true
    return error
  }

  /// True when the command already printed its report on standard output.
  var reportPrinted = false

  static func oneLine(_ text: String) -> String {
    text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
      .joined(separator: "; ")
  }
}

/// The CLI's error for a failure from the layers below (or Foundation), about `path`.
/// A message that already starts with the path is not given it twice.
func failure(_ error: any Error, path: String? = nil) -> CLIError {
  if let error = error as? CLIError { return error }
  let (kind, message, about) = describe(error)
  let target = about ?? path
  var text = message
  if let target, text.hasPrefix(target + ": ") { text.removeFirst(target.count + 2) }
  return CLIError(kind, path: target, text)
}

/// The kind, message and (when the error names one) path of an error from below.
private func describe(_ error: any Error) -> (CLIError.Kind, String, String?) {
  switch error {
  case let e as DiskIOError:
    return (e.operation == .open || e.operation == .stat ? .cannotOpen : .unreadable, e.description, e.path)
  case let e as ReadError:
    return (.unreadable, e.description, e.source)
  case let e as FormatError:
    return (.undecodable, e.description, nil)
  case let e as FATPathError:
    return (.notFound, e.description, nil)
  case let e as DecodingError:
    return (.undecodable, decodingText(e), nil)
  case let e as EncodingError:
    return (.undecodable, "cannot encode: \(e.localizedDescription)", nil)
  case let e as CocoaError:
    return cocoaText(e)
  case let e as CustomStringConvertible where !(type(of: error) is NSError.Type):
    return (.undecodable, e.description, nil)
  default:
    let ns = error as NSError
    if ns.domain == NSPOSIXErrorDomain { return (.unreadable, String(cString: strerror(Int32(ns.code))), nil) }
    return (.unreadable, ns.localizedDescription, nil)
  }
}

/// A Foundation file error as a plain sentence, with the path it names.
private func cocoaText(_ error: CocoaError) -> (CLIError.Kind, String, String?) {
  let path = error.filePath ?? error.url?.path
  let isWrite = (512...642).contains(error.code.rawValue)
  if let underlying = error.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
    let text = String(cString: strerror(Int32(underlying.code)))
    return (isWrite ? .cannotWrite : .cannotOpen, (isWrite ? "cannot write: " : "") + text, path)
  }
  var isDirectory: ObjCBool = false
  if let path, FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
    return (isWrite ? .cannotWrite : .cannotOpen, "Is a directory", path)
  }
  let text: String
  switch error.code {
  case .fileNoSuchFile, .fileReadNoSuchFile: text = "No such file or directory"
  case .fileReadNoPermission, .fileWriteNoPermission: text = "Permission denied"
  case .fileWriteFileExists: text = "already exists and is not a directory"
  case .fileWriteOutOfSpace: text = "cannot write: No space left on device"
  case .fileWriteVolumeReadOnly: text = "cannot write: read-only file system"
  case .fileReadCorruptFile: text = "is not valid"
  default: text = isWrite ? "cannot write" : "cannot read"
  }
  return (isWrite ? .cannotWrite : .cannotOpen, text, path)
}

/// A JSON decoding failure in words: where in the document and what was expected.
private func decodingText(_ error: DecodingError) -> String {
  func place(_ path: [any CodingKey]) -> String {
    path.isEmpty ? "the top level" : path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
  }
  switch error {
  case .dataCorrupted(let context) where context.codingPath.isEmpty:
    return "is not JSON"
  case .dataCorrupted(let context):
    return "has an invalid value at \(place(context.codingPath))"
  case .keyNotFound(let key, let context):
    return "has no \"\(key.stringValue)\" at \(place(context.codingPath))"
  case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
    return "has no \(type) at \(place(context.codingPath))"
  @unknown default:
    return "cannot be decoded"
  }
}
