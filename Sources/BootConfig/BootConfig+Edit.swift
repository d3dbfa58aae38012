extension BootConfig {
  /// The file with `bootstate` changed the way the loader's writer changes it: one ASCII
  /// digit overwritten in place, every other byte kept.
  ///
  /// - Parameter state: The new state, 0–9 (one digit; the loader itself writes 2 or 3,
  ///   ESXi's `tag-boot-bank` writes 0).
  /// - Throws: `.bootstateNotWritable` when the writer would fail (`ERR_SYNTAX`), or
  ///   `.valueOutOfRange` for a state that is not one digit.
  public func settingBootstateInPlace(_ state: Int) throws(BootConfigEditError) -> BootConfig {
    guard (0...9).contains(state) else { throw .valueOutOfRange(field: "bootstate", value: Int64(state)) }
    guard case .writable(let offset, _) = writerView.outcome else {
      throw .bootstateNotWritable(found: writerView.outcome)
    }
    var copy = bytes
    copy[offset] = 0x30 + UInt8(state)
    return BootConfig(bytes: copy)
  }

  /// The file with the value of the `updated=` line the reader takes replaced by
  /// `value` in decimal; the rest of that line (blanks, `\r`) and every other line are
  /// kept byte for byte.
  ///
  /// - Throws: `.fieldMissing` when no line sets `updated`.
  public func settingUpdatedInPlace(_ value: UInt32) throws(BootConfigEditError) -> BootConfig {
    try replacingValue(of: "updated", with: Array(String(value).utf8))
  }

  /// The file with the value of the line that sets `name` (as the reader maps keys)
  /// replaced by `value`.
  func replacingValue(of name: String, with value: [UInt8]) throws(BootConfigEditError) -> BootConfig {
    guard let line = line(setting: name) else { throw .fieldMissing(name) }
    let raw = bytes[line.range]
    let end = raw.firstIndex(of: 0) ?? raw.endIndex
    guard let equals = raw[..<end].firstIndex(of: UInt8(ascii: "=")) else { throw .fieldMissing(name) }
    var start = equals + 1
    while start < end, LoaderCType.isSpace(bytes[start]) { start += 1 }
    var stop = end
    while stop > start, LoaderCType.isSpace(bytes[stop - 1]) { stop -= 1 }
    var copy = bytes
    copy.replaceSubrange(start..<stop, with: value)
    return BootConfig(bytes: copy)
  }

  /// A fresh boot.cfg as ESXi writes one: `bootstate=` first, then the keys in ESXi's
  /// order (`title`, `timeout`, `prefix`, `kernel`, `kernelopt`, `modules`, `build`,
  /// `updated`), each line kept byte for byte (repeats stay in their order, so the same
  /// one wins), then every other line (comments, other keys) in its original order.
  ///
  /// Every line the reader or the writer takes for `bootstate` is replaced by the one new
  /// first line; when `updated` is given, every `updated` line is replaced by one new line.
  /// New lines end like the file's first line (`\r\n` or `\n`).
  public func serialized(bootstate: Int, updated: UInt32? = nil) -> [UInt8] {
    let eol: [UInt8] = lines.first.map { bytes[$0.range].last == 0x0D } == true ? [0x0D, 0x0A] : [0x0A]
    var groups: [String: [BootConfigLine]] = [:]
    var rest: [BootConfigLine] = []
    for line in lines {
      if isBootstateLine(line) { continue }
      if line.index == lines.count - 1, line.range.isEmpty, !line.hasNewline { continue }
      if let name = optionName(of: line), LoaderOption.esxiWrittenKeys.contains(name) {
        groups[name, default: []].append(line)
      } else {
        rest.append(line)
      }
    }
    var out = Array("bootstate=\(bootstate)".utf8) + eol
    func emit(_ line: BootConfigLine) {
      out += bytes[line.range]
      out += line.hasNewline ? [0x0A] : eol
    }
    for key in LoaderOption.esxiWrittenKeys.dropFirst() {
      if key == "updated", let updated {
        out += Array("updated=\(updated)".utf8) + eol
        continue
      }
      groups[key, default: []].forEach(emit)
    }
    rest.forEach(emit)
    return out
  }

  /// Whether the reader maps the line to `bootstate`, or the writer would find it
  /// (`bootstate` after only blanks, then blanks and `=`).
  func isBootstateLine(_ line: BootConfigLine) -> Bool {
    if optionName(of: line) == "bootstate" { return true }
    let raw = Array(bytes[line.range])
    var p = 0
    while p < raw.count, LoaderCType.isSpace(raw[p]) { p += 1 }
    let keyword = Array("bootstate".utf8)
    guard raw.count - p >= keyword.count,
      zip(raw[p..<(p + keyword.count)], keyword).allSatisfy({ LoaderCType.lower($0) == $1 })
    else { return false }
    p += keyword.count
    while p < raw.count, raw[p] == 0x20 || raw[p] == 0x09 { p += 1 }
    return p < raw.count && raw[p] == UInt8(ascii: "=")
  }
}
