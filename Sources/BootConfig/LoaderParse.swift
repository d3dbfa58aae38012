/// The result of one loader pass over a boot.cfg with one option table
/// (`parse_config_file()` in esx-boot's `bootlib/parse.c`).
public struct LoaderParse: Hashable, Sendable {
  /// Why the loader rejects the whole file.
  public struct Failure: Hashable, Sendable, CustomStringConvertible {
    /// The option whose value is not a number.
    public var option: String
    /// The value as the reader saw it (blanks merged).
    public var value: String
    /// 1-based line number.
    public var line: Int
    /// Byte offset of the line in boot.cfg.
    public var byteOffset: Int

    public var description: String {
      "line \(line) (byte \(byteOffset)): integer option '\(option)' has the non-numeric value '\(value)'"
    }
  }

  /// The table this pass used.
  public var table: [LoaderOption]
  /// Each option's value after the pass, in table order (defaults where never set;
  /// values as far as the reader got when it failed).
  public var values: [LoaderValue]
  /// For each option, the 0-based indices of the lines that set it, in file order
  /// (the last one wins).
  public var setters: [[Int]]
  /// Set when an integer option had a non-numeric value: the loader then rejects the file.
  public var failure: Failure?

  /// Runs the reader over `lines` with `table`.
  init(lines: [BootConfigLine], table: [LoaderOption]) {
    self.table = table
    values = table.map(\.defaultValue)
    setters = Array(repeating: [], count: table.count)
    failure = nil
    for line in lines {
      guard case .option(_, let value) = line.content, let i = line.option(in: table) else { continue }
      if value.isEmpty {
        setters[i].append(line.index)
        // `options->value.integer = 0`: 0 for an integer, NULL for a string.
        values[i] = table[i].kind == .integer ? .integer(0) : .string(nil)
        continue
      }
      switch table[i].kind {
      case .string:
        setters[i].append(line.index)
        values[i] = .string(value)
      case .integer:
        guard LoaderCType.isNumber(value) else {
          failure = Failure(
            option: table[i].name, value: String(decoding: value, as: UTF8.self), line: line.number,
            byteOffset: line.range.lowerBound)
          return
        }
        setters[i].append(line.index)
        values[i] = .integer(LoaderCType.atoi(value).value)
      }
    }
  }

  /// The value of option `name`, or `nil` if the table has no such option.
  public subscript(name: String) -> LoaderValue? {
    table.firstIndex { $0.name == name }.map { values[$0] }
  }

  /// The index of the line that gave option `name` its value, or `nil` when none did.
  public func line(setting name: String) -> Int? {
    table.firstIndex { $0.name == name }.flatMap { setters[$0].last }
  }
}
