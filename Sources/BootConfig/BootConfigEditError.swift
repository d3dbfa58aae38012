/// Why a boot.cfg could not be changed in place.
public enum BootConfigEditError: Error, Hashable, Sendable, CustomStringConvertible {
  /// The loader's writer finds no `bootstate=` followed by a digit `0`–`3` in the first
  /// 512 bytes; `found` is what it found instead.
  case bootstateNotWritable(found: BootstateWriterView.Outcome)
  /// The new value does not fit the place (bootstate must be one ASCII digit).
  case valueOutOfRange(field: String, value: Int64)
  /// No line sets the field, so there is nothing to change in place.
  case fieldMissing(String)

  public var description: String {
    switch self {
    case .bootstateNotWritable(let found):
      switch found {
      case .notFound:
        "no 'bootstate=' within the first \(BootstateWriterView.window) bytes of boot.cfg"
      case .notADigit(let offset, let byte):
        "'bootstate=' at byte \(offset) holds 0x\(String(byte, radix: 16)), not a digit 0-3"
      case .writable(let offset, _):
        "'bootstate=' at byte \(offset) is writable"
      }
    case .valueOutOfRange(let field, let value): "\(field) \(value) does not fit in place"
    case .fieldMissing(let field): "boot.cfg has no '\(field)=' line"
    }
  }
}
