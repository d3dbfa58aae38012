/// One line of a boot.cfg, as the loader's reader (`bootlib/parse.c`) sees it.
///
/// The file is split at `\n` only; a `\r` before it is part of the line (and white space
/// to the reader). The reader works on a C string, so a NUL byte ends the line for it.
public struct BootConfigLine: Hashable, Sendable {
  /// What the reader makes of the line.
  public enum Content: Hashable, Sendable {
    /// Empty after merging blanks: skipped.
    case blank
    /// Starts with `#` after trimming: skipped.
    case comment
    /// No `=` on the line: every key lookup fails, so the line is ignored.
    case noSeparator
    /// `key=value`: the key is the text before the first `=` (after blanks were merged,
    /// so a blank before `=` stays part of the key); the value is the text after it with
    /// one leading blank skipped.
    case option(key: [UInt8], value: [UInt8])
  }

  /// 0-based index of the line in the file.
  public var index: Int
  /// Byte range of the line's content in the file, without its `\n`.
  public var range: Range<Int>
  /// Whether a `\n` ends the line (false only for a last line without one).
  public var hasNewline: Bool
  /// The line after NUL truncation and `str_merge_spaces()`.
  public var merged: [UInt8]
  /// Whether the raw line holds a NUL byte (the reader ignores everything after it).
  public var containsNUL: Bool
  public var content: Content

  /// 1-based line number, for messages.
  public var number: Int { index + 1 }

  /// The key text as a string (for `.option` lines).
  public var keyText: String? {
    if case .option(let key, _) = content { return String(decoding: key, as: UTF8.self) }
    return nil
  }

  init(index: Int, range: Range<Int>, hasNewline: Bool, raw: ArraySlice<UInt8>) {
    self.index = index
    self.range = range
    self.hasNewline = hasNewline
    let nul = raw.firstIndex(of: 0)
    containsNUL = nul != nil
    merged = LoaderCType.mergeSpaces(raw[raw.startIndex..<(nul ?? raw.endIndex)])
    if merged.isEmpty {
      content = .blank
    } else if merged[0] == UInt8(ascii: "#") {
      content = .comment
    } else if let equals = merged.firstIndex(of: UInt8(ascii: "=")) {
      var valueStart = equals + 1
      while valueStart < merged.count, merged[valueStart] == 0x20 { valueStart += 1 }
      content = .option(key: Array(merged[..<equals]), value: Array(merged[valueStart...]))
    } else {
      content = .noSeparator
    }
  }

  /// Splits a file into lines the way `parse_config_file()` does, keeping every line
  /// (also the empty ones the reader skips) so that edits can keep the others byte for byte.
  static func split(_ bytes: [UInt8]) -> [BootConfigLine] {
    var lines: [BootConfigLine] = []
    var start = 0
    while start < bytes.count {
      let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n"))
      let end = newline ?? bytes.count
      lines.append(
        BootConfigLine(index: lines.count, range: start..<end, hasNewline: newline != nil, raw: bytes[start..<end]))
      start = end + (newline != nil ? 1 : 0)
    }
    return lines
  }

  /// The option of `table` this line sets, following `locate_value()`: the first option
  /// whose name the key is a case-insensitive prefix of (an empty key prefixes the first).
  func option(in table: [LoaderOption]) -> Int? {
    guard case .option(let key, _) = content else { return nil }
    for (i, option) in table.enumerated() {
      let name = Array(option.name.utf8)
      if key.count <= name.count, LoaderCType.equalsIgnoringCase(name, key, count: key.count) {
        return i
      }
    }
    return nil
  }
}
