/// Where the loader's writer (`bank_set_bootstate()` / `scan_config()` in
/// `safeboot/config.c`) finds `bootstate`, which is not where the reader finds it.
///
/// The writer looks only at the first 512 bytes of the file. It searches them
/// case-insensitively for `bootstate` preceded on its line only by white space, followed
/// by optional spaces or tabs and `=`; it then skips spaces and tabs and overwrites the
/// one character there, which must already be a digit `0`–`3`. So `bootstate = 1` (blank
/// before `=`) is found by the writer but not read by the reader, and a `bootstate=` line
/// past byte 512 is read but cannot be written.
public struct BootstateWriterView: Hashable, Sendable {
  /// The writer's window: "Our BIOS utils library is not able to write a file beyond 512 bytes."
  public static let window = 512

  /// What the writer finds.
  public enum Outcome: Hashable, Sendable {
    /// A digit `0`–`3` at `valueOffset`: the writer can write here.
    case writable(valueOffset: Int, digit: UInt8)
    /// The value position holds something else (`4`, `7`, a letter, end of line):
    /// `ERR_SYNTAX`, and the bank is dropped when a write is needed.
    case notADigit(valueOffset: Int, byte: UInt8)
    /// No `bootstate` assignment in the first 512 bytes (or the value position lies past
    /// the window): `ERR_SYNTAX`.
    case notFound
  }

  public var outcome: Outcome

  /// Byte offset of the value character, when the writer found one.
  public var valueOffset: Int? {
    switch outcome {
    case .writable(let offset, _), .notADigit(let offset, _): offset
    case .notFound: nil
    }
  }

  /// Whether a write of a new state would succeed in finding its place.
  public var isWritable: Bool {
    if case .writable = outcome { return true }
    return false
  }

  /// Runs `scan_config(buffer, MIN(size, 512), "bootstate", "=")`.
  public init(bytes: [UInt8]) {
    let limit = min(bytes.count, Self.window)
    let keyword = Array("bootstate".utf8)
    var p = 0
    outcome = .notFound
    var rounds = 0
    while rounds <= limit {  // every round moves `p` forward by at least the keyword
      rounds += 1
      guard let match = Self.findIgnoringCase(keyword, in: bytes, from: p, limit: limit) else { return }
      var found = true
      var back = match - 1
      while back >= 0, bytes[back] != UInt8(ascii: "\n") {
        if !LoaderCType.isSpace(bytes[back]) {
          found = false
          break
        }
        back -= 1
      }
      p = match + keyword.count
      if found {
        found = false
        while p < limit {
          if bytes[p] != 0x20 && bytes[p] != 0x09 {
            if bytes[p] == UInt8(ascii: "=") {
              p += 1
              found = true
            }
            break
          }
          p += 1
        }
      }
      if found {
        while p < limit {
          if bytes[p] != 0x20 && bytes[p] != 0x09 {
            let c = bytes[p]
            outcome = c >= 0x30 && c <= 0x33 ? .writable(valueOffset: p, digit: c) : .notADigit(valueOffset: p, byte: c)
            return
          }
          p += 1
        }
        return
      }
    }
  }

  /// `mem_strcasestr()` within `[from, limit)`.
  static func findIgnoringCase(_ needle: [UInt8], in bytes: [UInt8], from start: Int, limit: Int) -> Int? {
    guard start >= 0, limit - start >= needle.count else { return nil }
    var i = start
    while i <= limit - needle.count {
      var equal = true
      for k in 0..<needle.count where LoaderCType.lower(bytes[i + k]) != LoaderCType.lower(needle[k]) {
        equal = false
        break
      }
      if equal { return i }
      i += 1
    }
    return nil
  }
}
