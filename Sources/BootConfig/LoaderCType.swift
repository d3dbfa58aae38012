/// Character classes of esx-boot's own C library (`libc/ctypes.c`, ISO 8859-1).
///
/// The loader does not use the host's `isspace`: its table also counts BS (0x08) and
/// NBSP (0xA0) as white space. Everything that mirrors the loader uses these.
enum LoaderCType {
  /// `isspace()`: BS, TAB, LF, VT, FF, CR, SPACE and NBSP.
  static func isSpace(_ c: UInt8) -> Bool {
    c == 0x20 || (c >= 0x08 && c <= 0x0D) || c == 0xA0
  }

  /// `isdigit()`: ASCII `0`–`9` only.
  static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

  /// `tolower()`: ASCII and ISO 8859-1 upper-case letters (0xC0–0xDE except 0xD7).
  static func lower(_ c: UInt8) -> UInt8 {
    if c >= 0x41 && c <= 0x5A { return c | 0x20 }
    if c >= 0xC0 && c <= 0xDE && c != 0xD7 { return c | 0x20 }
    return c
  }

  /// `strncasecmp(a, b, n) == 0` for byte strings without NUL, where a string shorter
  /// than `n` compares its terminating NUL.
  static func equalsIgnoringCase(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>, count n: Int) -> Bool {
    var ia = a.makeIterator()
    var ib = b.makeIterator()
    for _ in 0..<max(0, n) {
      let ca = ia.next() ?? 0
      let cb = ib.next() ?? 0
      if lower(ca) != lower(cb) { return false }
      if ca == 0 { return true }  // both ended
    }
    return true
  }

  /// `atoi()` as esx-boot implements it: `(int)strtol(s, NULL, 10)` on a 64-bit `long`
  /// (the UEFI loaders), which clamps to the `long` range and then truncates to 32 bits.
  ///
  /// Only called on values `is_number()` accepted: an optional `-`, then digits.
  static func atoi(_ value: [UInt8]) -> (value: Int32, exact: Bool) {
    var index = 0
    var negative = false
    if index < value.count, value[index] == UInt8(ascii: "-") {
      negative = true
      index += 1
    } else if index < value.count, value[index] == UInt8(ascii: "+") {
      index += 1
    }
    var n: Int64 = 0
    var clamped = false
    while index < value.count, isDigit(value[index]) {
      let d = Int64(value[index] &- 0x30)
      if !clamped {
        let (m, o1) = n.multipliedReportingOverflow(by: 10)
        let (s, o2) = negative ? m.subtractingReportingOverflow(d) : m.addingReportingOverflow(d)
        if o1 || o2 {
          clamped = true
          n = negative ? Int64.min : Int64.max
        } else {
          n = s
        }
      }
      index += 1
    }
    let truncated = Int32(truncatingIfNeeded: n)
    return (truncated, !clamped && Int64(truncated) == n)
  }

  /// `is_number()` (`bootlib/string.c`): an optional leading `-`, then only digits
  /// (no digit at all is accepted too).
  static func isNumber(_ value: [UInt8]) -> Bool {
    var rest = value[...]
    if rest.first == UInt8(ascii: "-") { rest = rest.dropFirst() }
    return rest.allSatisfy(isDigit)
  }

  /// `str_merge_spaces()`: drops leading and trailing white space and turns every run
  /// of white space into one space.
  static func mergeSpaces(_ line: some Collection<UInt8>) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(line.count)
    var space = true
    for c in line {
      if isSpace(c) {
        if !space {
          out.append(0x20)
          space = true
        }
      } else {
        out.append(c)
        space = false
      }
    }
    if out.last == 0x20 { out.removeLast() }
    return out
  }
}
