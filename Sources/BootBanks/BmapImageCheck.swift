import Checksum
import DiskFormat

/// Why an image does not match its bmap: a range whose digest differs, or an image of the
/// wrong size. Said before anything is written to the target.
public struct BmapImageError: Error, Hashable, Sendable, CustomStringConvertible {
  public var description: String
  public init(_ description: String) { self.description = description }
}

/// A digest in a bmap's checksum type.
struct BmapHasher {
  var sha256: SHA256Hasher?
  var sha1: SHA1Hasher?

  init(_ type: Bmap.ChecksumType) {
    switch type {
    case .sha256: sha256 = SHA256Hasher()
    case .sha1: sha1 = SHA1Hasher()
    }
  }

  mutating func update(_ bytes: Span<UInt8>) {
    if sha256 != nil { sha256!.update(bytes) } else { sha1!.update(bytes) }
  }

  func finalize() -> [UInt8] { sha256?.finalize() ?? sha1!.finalize() }
}

/// Checks an image against its bmap, range by range, as it is read.
public enum BmapImageCheck {
  /// Reads every mapped range of a raw image (random access) and compares its digest with
  /// the bmap's; the first range that differs throws. A raw image is checked whole before
  /// the target is touched.
  ///
  /// - Parameter progress: Called with the mapped bytes checked so far.
  public static func verify(
    _ image: any ByteSource, bmap: Bmap, chunkBytes: Int = 4 << 20, progress: (Int64) -> Void = { _ in }
  ) throws {
    guard image.byteCount == bmap.imageSize else {
      throw BmapImageError(
        "\(image.name) is \(image.byteCount) bytes, the bmap's <ImageSize> is \(bmap.imageSize): not the image the bmap was made for"
      )
    }
    var done: Int64 = 0
    for range in bmap.ranges {
      let bytes = bmap.byteRange(of: range)
      var hasher = BmapHasher(bmap.checksumType)
      var offset = bytes.lowerBound
      while offset < bytes.upperBound {
        let stop = min(bytes.upperBound, offset + Int64(chunkBytes))
        try image.withBytes(in: offset..<stop) { hasher.update($0) }
        done += stop - offset
        progress(done)
        offset = stop
      }
      try compare(hasher.finalize(), range, bmap: bmap, image: image.name)
    }
  }

  static func compare(_ digest: [UInt8], _ range: Bmap.Range, bmap: Bmap, image: String) throws {
    guard digest == range.digest else {
      let bytes = bmap.byteRange(of: range)
      throw BmapImageError(
        "\(image): blocks \(range.first)-\(range.last) (bytes \(bytes.lowerBound)..<\(bytes.upperBound)) have \(bmap.checksumType.rawValue) \(Digests.hex(digest)), the bmap says \(Digests.hex(range.digest)): the image is damaged or not the bmap's"
      )
    }
  }
}

/// Takes a decompressed image as a stream of chunks, in order, hands every mapped byte to
/// `store` (a staging file, never the target) and checks each range's digest as soon as its
/// last byte is read: the first range that differs throws, and nothing after it is stored.
/// The caller writes the target only after `finish`, so a damaged image never reaches it.
public final class BmapStreamCheck {
  public let bmap: Bmap
  public let imageName: String
  let store: (Int64, Span<UInt8>) throws -> Void
  /// Bytes of the decompressed image consumed so far.
  public private(set) var position: Int64 = 0
  /// Mapped bytes checked so far.
  public private(set) var checked: Int64 = 0
  var index = 0
  var hasher: BmapHasher

  public init(bmap: Bmap, imageName: String, store: @escaping (Int64, Span<UInt8>) throws -> Void) {
    self.bmap = bmap
    self.imageName = imageName
    self.store = store
    hasher = BmapHasher(bmap.checksumType)
  }

  /// The next decompressed bytes.
  ///
  /// - Throws: `BmapImageError` for a range whose digest differs or bytes past `ImageSize`;
  ///   whatever `store` throws.
  public func consume(_ bytes: Span<UInt8>) throws {
    guard position + Int64(bytes.count) <= bmap.imageSize else {
      throw BmapImageError(
        "\(imageName): the image goes on past the bmap's <ImageSize> \(bmap.imageSize): not the image the bmap was made for"
      )
    }
    var at = 0
    while at < bytes.count {
      guard index < bmap.ranges.count else {
        position += Int64(bytes.count - at)
        return
      }
      let range = bmap.byteRange(of: bmap.ranges[index])
      if position < range.lowerBound {
        let skip = Int(min(Int64(bytes.count - at), range.lowerBound - position))
        at += skip
        position += Int64(skip)
        continue
      }
      let count = Int(min(Int64(bytes.count - at), range.upperBound - position))
      let part = bytes.extracting(at..<(at + count))
      hasher.update(part)
      try store(position, part)
      at += count
      position += Int64(count)
      checked += Int64(count)
      if position == range.upperBound {
        try BmapImageCheck.compare(hasher.finalize(), bmap.ranges[index], bmap: bmap, image: imageName)
        hasher = BmapHasher(bmap.checksumType)
        index += 1
      }
    }
  }

  /// Checks the image ended at `ImageSize` with every range read.
  public func finish() throws {
    guard position == bmap.imageSize else {
      throw BmapImageError(
        "\(imageName): the image ends at byte \(position), the bmap's <ImageSize> is \(bmap.imageSize): truncated, or not the image the bmap was made for"
      )
    }
  }
}
