import Foundation

/// The disk images the round-trip tests take records from: every `images/*.img` fixture and
/// every whole image of the shared corpus, each decompressed to a file.
public enum RecordImages {
  /// Paths of the `images/*.img` fixtures, sorted; empty before `make images`.
  public static var fixtures: [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: TestPaths.images.path)) ?? []
    return names.filter { $0.hasSuffix(".img") }.sorted().map { TestPaths.images.appendingPathComponent($0).path }
  }

  /// The corpus images (manifest paths, fragments left out), sorted; empty without the corpus.
  public static var corpus: [String] {
    let images = (try? Corpus.manifestImages()) ?? []
    return images.compactMap { image -> String? in
      guard let path = image["path"] as? String else { return nil }
      let kinds = image["kind"] as? [String] ?? []
      return kinds.contains("fragment") ? nil : path
    }.sorted()
  }
}

extension SplitMix64 {
  /// `count` random bytes.
  public mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in byte() } }

  /// A random value of an integer type.
  public mutating func value<T: FixedWidthInteger>(_: T.Type = T.self) -> T { T(truncatingIfNeeded: next()) }
}
