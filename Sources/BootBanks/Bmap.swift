import Checksum

/// A block map in bmaptool's format 2.0: which blocks of an image hold data, with the SHA-256
/// of each run, so `bmaptool copy` writes only those and checks each as it goes.
public struct Bmap: Hashable, Sendable {
  /// Blocks `first...last` (inclusive, as the format counts) and the digest of their bytes
  /// (the last block of the image only up to the image's end), in the map's `checksumType`.
  public struct Range: Hashable, Sendable {
    public var first: Int64
    public var last: Int64
    public var digest: [UInt8]
    public init(first: Int64, last: Int64, digest: [UInt8]) {
      self.first = first
      self.last = last
      self.digest = digest
    }
    public var blockCount: Int64 { last - first + 1 }
  }

  /// The digest of each range: SHA-256 in every map bootbank writes (and bmaptool's 2.0);
  /// SHA-1 in bmaptool's format 1.3.
  public enum ChecksumType: String, Hashable, Sendable, Codable {
    case sha256
    case sha1

    /// Digest length in bytes.
    public var byteCount: Int { self == .sha256 ? 32 : 20 }
  }

  public var imageSize: Int64
  public var blockSize: Int
  public var ranges: [Range]
  public var checksumType: ChecksumType
  /// Lines said in a comment at the top (what was left out, and why).
  public var notes: [String]

  public init(
    imageSize: Int64, blockSize: Int, ranges: [Range], checksumType: ChecksumType = .sha256, notes: [String] = []
  ) {
    self.imageSize = imageSize
    self.blockSize = blockSize
    self.ranges = ranges
    self.checksumType = checksumType
    self.notes = notes
  }

  /// Bytes of the image the ranges map (the last block only up to the image's end).
  public var mappedByteCount: Int64 {
    ranges.reduce(Int64(0)) { sum, range in
      let bytes = byteRange(of: range)
      return sum + bytes.upperBound - bytes.lowerBound
    }
  }

  /// The image's bytes a range covers.
  public func byteRange(of range: Range) -> Swift.Range<Int64> {
    let block = Int64(blockSize)
    return (range.first * block)..<min(imageSize, (range.last + 1) * block)
  }

  public var blockCount: Int64 { (imageSize + Int64(blockSize) - 1) / Int64(blockSize) }
  public var mappedBlockCount: Int64 { ranges.reduce(0) { $0 + $1.blockCount } }

  /// The file's text. `BmapFileChecksum` is the SHA-256 of the text with that field written
  /// as 64 ASCII zeros, as bmaptool computes and checks it.
  public func encoded() -> String {
    precondition(checksumType == .sha256, "bootbank writes SHA-256 maps")
    let zeros = String(repeating: "0", count: 64)
    let text = template(checksum: zeros)
    var hasher = SHA256Hasher()
    hasher.update(Array(text.utf8))
    return template(checksum: Digests.hex(hasher.finalize()))
  }

  func template(checksum: String) -> String {
    var text = "<?xml version=\"1.0\" ?>\n"
    text += "<!-- Block map written by bootbank image: the partition tables, the used part of\n"
    text += "     each FAT volume, and the non-zero blocks of every other partition. -->\n"
    for note in notes {
      text += "<!-- \(note.split(separator: "--", omittingEmptySubsequences: false).joined(separator: "- -")) -->\n"
    }
    text += "<bmap version=\"2.0\">\n"
    text += "    <ImageSize> \(imageSize) </ImageSize>\n"
    text += "    <BlockSize> \(blockSize) </BlockSize>\n"
    text += "    <BlocksCount> \(blockCount) </BlocksCount>\n"
    text += "    <MappedBlocksCount> \(mappedBlockCount) </MappedBlocksCount>\n"
    text += "    <ChecksumType> sha256 </ChecksumType>\n"
    text += "    <BmapFileChecksum> \(checksum) </BmapFileChecksum>\n"
    text += "    <BlockMap>\n"
    for range in ranges {
      let blocks = range.first == range.last ? "\(range.first)" : "\(range.first)-\(range.last)"
      text += "        <Range chksum=\"\(Digests.hex(range.digest))\"> \(blocks) </Range>\n"
    }
    text += "    </BlockMap>\n"
    text += "</bmap>\n"
    return text
  }
}
