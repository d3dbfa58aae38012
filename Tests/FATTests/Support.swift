import Foundation
import TestSupport

/// Where the shared corpus is, through TestSupport (which also decompresses and caches it).
enum Paths {
  static var corpusPresent: Bool { Corpus.root != nil }
  static var corpus: URL { Corpus.root ?? URL(fileURLWithPath: "/nonexistent/shared/corpus") }
}

/// A corpus image decompressed sparsely into TestSupport's cache; its path.
func cachedImage(_ relative: String) throws -> String {
  try Corpus.decompressed(relative).path
}
