/// A digest the checksum core can compute.
public enum Algorithm: String, Sendable, Hashable, CaseIterable, Comparable {
  /// CRC-32, gzip/zlib/GPT polynomial (see `CRC32`).
  case crc32
  /// SHA-256 (see `SHA256Hasher`).
  case sha256
  /// SHA-1 (see `SHA1Hasher`); ESXi's own descriptors carry it.
  case sha1

  private var rank: Int {
    switch self {
    case .crc32: 0
    case .sha256: 1
    case .sha1: 2
    }
  }

  /// Declaration order: crc32, sha256, sha1 (the order output columns use).
  public static func < (a: Algorithm, b: Algorithm) -> Bool { a.rank < b.rank }

  /// Parses a comma-separated list such as `crc32,sha256` (spaces around names are ignored).
  ///
  /// - Returns: the set, or `.failure(word)` for the first name that is not an algorithm.
  public static func parseList(_ text: String) -> Result<Set<Algorithm>, UnknownAlgorithm> {
    var set: Set<Algorithm> = []
    for word in text.split(separator: ",", omittingEmptySubsequences: true) {
      let name = word.trimmingSpaces().lowercased()
      guard let algorithm = Algorithm(rawValue: name) else { return .failure(UnknownAlgorithm(name: name)) }
      set.insert(algorithm)
    }
    return .success(set)
  }
}

/// A name in an algorithm list that is not `crc32`, `sha256` or `sha1`.
public struct UnknownAlgorithm: Error, Hashable, Sendable, CustomStringConvertible {
  public let name: String
  public var description: String { "unknown algorithm '\(name)' (expected crc32, sha256, sha1)" }
}

extension Substring {
  fileprivate func trimmingSpaces() -> String {
    String(self.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
  }
}
