/// One item of a `modules=` (or `acpitables=`) list.
public struct ModuleItem: Hashable, Sendable {
  /// The file name as written.
  public var name: String
  /// The module's arguments, or `nil` when there are none.
  public var arguments: String?
  /// The path the loader opens, from the bank's root: `prefix` applied to a relative
  /// name, white space removed, `\` turned into `/`, runs of `/` merged, and a leading
  /// `/` added (the loader opens a relative path from the boot volume's root).
  public var path: String

  public init(name: String, arguments: String?, path: String) {
    self.name = name
    self.arguments = arguments
    self.path = path
  }

  static let separator = Array("---".utf8)

  /// Splits a list the way `find_next_listitem()`/`parse_filelist()` do in `mboot/config.c`.
  ///
  /// Items are separated by `---`; blanks around items are skipped; an item is a path up
  /// to the first blank, then optional arguments. Like the loader, a `---` met where an
  /// item should start is skipped together with the character after it.
  public static func parseList(_ list: [UInt8], prefix: [UInt8]?) -> [ModuleItem] {
    var items: [ModuleItem] = []
    var cursor = 0
    while let (start, next) = nextItem(list, from: cursor) {
      cursor = next
      let delimiter = find(separator, in: list, from: start) ?? list.count
      var p = start
      while p < delimiter, !LoaderCType.isSpace(list[p]) { p += 1 }
      let name = Array(list[start..<p])
      while p < delimiter, LoaderCType.isSpace(list[p]) { p += 1 }
      var end = delimiter
      while end > p, LoaderCType.isSpace(list[end - 1]) { end -= 1 }
      let arguments = end > p ? String(decoding: list[p..<end], as: UTF8.self) : nil
      items.append(
        ModuleItem(
          name: String(decoding: name, as: UTF8.self), arguments: arguments,
          path: resolve(name, prefix: prefix)))
      if items.count > list.count { break }  // cannot happen; bounds the loop regardless
    }
    return items
  }

  /// `find_next_listitem()`: the start of the next item and where the search goes on.
  static func nextItem(_ list: [UInt8], from cursor: Int) -> (Int, Int)? {
    var s = cursor
    while s < list.count {
      if !LoaderCType.isSpace(list[s]) {
        guard let separator = find(separator, in: list, from: s) else { return (s, list.count) }
        if separator == s {
          s += self.separator.count + 1  // `s += sep_len; continue;` then the loop's `s++`
          continue
        }
        return (s, separator + self.separator.count)
      }
      s += 1
    }
    return nil
  }

  static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
    guard needle.count <= haystack.count, start <= haystack.count - needle.count else { return nil }
    var i = start
    while i <= haystack.count - needle.count {
      if haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
      i += 1
    }
    return nil
  }

  /// `make_path()` and `file_sanitize_path()` (`bootlib/string.c`), then made absolute
  /// from the bank's root.
  static func resolve(_ name: [UInt8], prefix: [UInt8]?) -> String {
    var path = name[...].drop(while: LoaderCType.isSpace)
    let isAbsolute =
      path.first == UInt8(ascii: "/") || path.first == UInt8(ascii: "\\")
      || find(Array("://".utf8), in: Array(path), from: 0) != nil
    var joined: [UInt8]
    if !isAbsolute, let root = prefix?.drop(while: LoaderCType.isSpace), !root.isEmpty {
      joined = Array(root) + [UInt8(ascii: "/")] + Array(path)
    } else {
      joined = Array(path)
    }
    // file_sanitize_path: drop white space, `\` → `/`, merge runs of `/` (keeping `://`).
    var out: [UInt8] = []
    let url = find(Array("://".utf8), in: joined, from: 0)
    var slash = false
    for (i, c) in joined.enumerated() {
      if LoaderCType.isSpace(c) { continue }
      if c == UInt8(ascii: "/") || c == UInt8(ascii: "\\") {
        if !slash || (url.map { i < $0 + 3 } ?? false) {
          out.append(UInt8(ascii: "/"))
          slash = true
        }
      } else {
        out.append(c)
        slash = false
      }
    }
    path = out[...]
    if url == nil, path.first != UInt8(ascii: "/") { out.insert(UInt8(ascii: "/"), at: 0) }
    return String(decoding: out, as: UTF8.self)
  }
}
