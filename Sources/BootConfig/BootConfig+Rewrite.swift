extension BootConfig {
  /// The file rewritten with `bootstate=<state>` as its first line, so that both the loader's
  /// reader and its writer (which looks only at the first 512 bytes) find it: every line either
  /// of them takes for `bootstate` is dropped, and every other line is kept byte for byte, in
  /// its place. The new line ends like the file's first line (`\r\n` or `\n`).
  ///
  /// - Parameter state: 0–9 (one digit).
  /// - Throws: `.valueOutOfRange` for a state that is not one digit.
  public func rewritingBootstateFirst(_ state: Int) throws(BootConfigEditError) -> BootConfig {
    guard (0...9).contains(state) else { throw .valueOutOfRange(field: "bootstate", value: Int64(state)) }
    let eol: [UInt8] = lines.first.map { bytes[$0.range].last == 0x0D } == true ? [0x0D, 0x0A] : [0x0A]
    var out = Array("bootstate=\(state)".utf8) + eol
    for line in lines where !isBootstateLine(line) {
      out += bytes[line.range]
      if line.hasNewline { out.append(0x0A) }
    }
    return BootConfig(bytes: out)
  }
}
