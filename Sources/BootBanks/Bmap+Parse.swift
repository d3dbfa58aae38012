import Checksum
import Foundation

extension Bmap {
  /// Why a bmap file cannot be used, in one line naming the element (or attribute) at fault.
  public struct ParseError: Error, Hashable, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
  }

  /// The newest major format version `parse` reads.
  public static let newestVersion = 2

  /// Reads a bmap file: bootbank's or `bmaptool create`'s, format 2.0 (or its twin 1.4) with
  /// `ChecksumType` sha256 or sha1, or format 1.3 with SHA-1. Formats 1.0 to 1.2 carry no
  /// checksums and are refused: every range a restore writes is checked.
  ///
  /// Checks what bmaptool checks (BlocksCount against ImageSize and BlockSize, the file's own
  /// checksum) and more: ranges ascending, disjoint, inside the image, summing to
  /// MappedBlocksCount, each with a digest of the right length.
  ///
  /// - Throws: `ParseError` naming the element or attribute.
  public static func parse(_ bytes: [UInt8]) throws(ParseError) -> Bmap {
    let root: XMLTree.Element
    do { root = try ImageDatabase.document(bytes) } catch {
      throw ParseError("not a bmap: \(error)")
    }
    guard root.name == "bmap" else { throw ParseError("the root element is <\(root.name)>, not <bmap>") }
    guard let version = XMLTree.attribute(root, "version") else { throw ParseError("<bmap> has no version") }
    let parts = version.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count == 2, let major = Int(parts[0]), let minor = Int(parts[1]), major >= 1, minor >= 0 else {
      throw ParseError("<bmap version=\"\(version)\"> is not MAJOR.MINOR")
    }
    guard major <= newestVersion else {
      throw ParseError("<bmap version=\"\(version)\">: format \(major) is newer than 2")
    }

    func only(_ name: String) throws(ParseError) -> XMLTree.Element {
      let found = XMLTree.children(root, name.lowercased())
      guard found.count == 1 else {
        throw ParseError(found.isEmpty ? "<\(name)> is missing" : "<\(name)> appears \(found.count) times")
      }
      return found[0]
    }
    func number(_ name: String, in range: ClosedRange<Int64>) throws(ParseError) -> Int64 {
      let text = XMLTree.text(try only(name)) ?? ""
      guard let value = Int64(text), range.contains(value) else {
        throw ParseError(
          "<\(name)> \"\(text.prefix(40))\" is not a number in \(range.lowerBound)...\(range.upperBound)")
      }
      return value
    }

    let type: ChecksumType
    let attribute: String
    let fileChecksumName: String
    if major >= 2 || (major == 1 && minor == 4) {
      let text = XMLTree.text(try only("ChecksumType")) ?? ""
      guard let known = ChecksumType(rawValue: text.lowercased()) else {
        throw ParseError("<ChecksumType> \"\(text.prefix(40))\" is neither sha256 nor sha1")
      }
      (type, attribute, fileChecksumName) = (known, "chksum", "BmapFileChecksum")
    } else if major == 1 && minor == 3 {
      (type, attribute, fileChecksumName) = (.sha1, "sha1", "BmapFileSHA1")
    } else {
      throw ParseError("<bmap version=\"\(version)\"> carries no checksums (format 1.3 and later do)")
    }

    let imageSize = try number("ImageSize", in: 0...(Int64.max / 2))
    let blockSize = try number("BlockSize", in: 1...(1 << 30))
    let blocksCount = try number("BlocksCount", in: 0...Int64.max)
    let mappedCount = try number("MappedBlocksCount", in: 0...Int64.max)
    guard blocksCount == (imageSize + blockSize - 1) / blockSize else {
      throw ParseError(
        "<BlocksCount> \(blocksCount) does not fit <ImageSize> \(imageSize) in blocks of <BlockSize> \(blockSize)")
    }
    guard mappedCount <= blocksCount else {
      throw ParseError("<MappedBlocksCount> \(mappedCount) is more than <BlocksCount> \(blocksCount)")
    }

    let fileChecksum = XMLTree.text(try only(fileChecksumName)) ?? ""
    guard let stated = Self.bytes(hex: fileChecksum), stated.count == type.byteCount else {
      throw ParseError("<\(fileChecksumName)> \"\(fileChecksum.prefix(80))\" is not a \(type.rawValue) digest")
    }
    let computed = Self.fileChecksum(bytes, stated: fileChecksum, type: type)
    guard computed == stated else {
      throw ParseError(
        "<\(fileChecksumName)> \(fileChecksum) does not match the file (\(Digests.hex(computed ?? []))): the bmap was changed or damaged"
      )
    }

    let map = try only("BlockMap")
    var ranges: [Range] = []
    var mapped: Int64 = 0
    for (index, element) in map.children.enumerated() {
      let place = "<Range> \(index + 1) of <BlockMap>"
      guard element.name == "range" else { throw ParseError("<\(element.name)> inside <BlockMap>, not <Range>") }
      let text = XMLTree.text(element) ?? ""
      let ends = text.split(separator: "-", omittingEmptySubsequences: false).map {
        Int64($0.trimmingCharacters(in: .whitespaces))
      }
      guard (1...2).contains(ends.count), let first = ends[0], let last = ends.last!, first >= 0, first <= last else {
        throw ParseError("\(place): \"\(text.prefix(40))\" is not FIRST or FIRST-LAST")
      }
      guard last < blocksCount else {
        throw ParseError("\(place): block \(last) is past the last block \(blocksCount - 1)")
      }
      if let previous = ranges.last, first <= previous.last {
        throw ParseError(
          "\(place): blocks \(first)-\(last) do not come after the previous range (ends at \(previous.last))")
      }
      let hex = XMLTree.attribute(element, attribute) ?? ""
      guard let digest = Self.bytes(hex: hex), digest.count == type.byteCount else {
        throw ParseError("\(place): \(attribute)=\"\(hex.prefix(80))\" is not a \(type.rawValue) digest")
      }
      mapped += last - first + 1
      ranges.append(Range(first: first, last: last, digest: digest))
    }
    guard mapped == mappedCount else {
      throw ParseError("<MappedBlocksCount> \(mappedCount), but the ranges of <BlockMap> map \(mapped) blocks")
    }
    return Bmap(imageSize: imageSize, blockSize: Int(blockSize), ranges: ranges, checksumType: type)
  }

  /// The file's checksum as bmaptool computes it: the digest of the file with the first
  /// occurrence of the stated checksum's text replaced by ASCII zeros.
  static func fileChecksum(_ bytes: [UInt8], stated: String, type: ChecksumType) -> [UInt8]? {
    let needle = Array(stated.utf8)
    guard !needle.isEmpty, needle.count <= bytes.count else { return nil }
    var copy = bytes
    var found = false
    var at = 0
    while at + needle.count <= copy.count {
      if copy[at] == needle[0] && Array(copy[at..<(at + needle.count)]) == needle {
        for i in at..<(at + needle.count) { copy[i] = UInt8(ascii: "0") }
        found = true
        break
      }
      at += 1
    }
    guard found else { return nil }
    switch type {
    case .sha256:
      var hasher = SHA256Hasher()
      hasher.update(copy)
      return hasher.finalize()
    case .sha1:
      var hasher = SHA1Hasher()
      hasher.update(copy)
      return hasher.finalize()
    }
  }
}

extension Bmap {
  /// The bytes of a hex string (either case), or nil when it is not hex of whole bytes.
  static func bytes(hex: String) -> [UInt8]? {
    let digits = Array(hex.utf8)
    guard digits.count % 2 == 0, digits.count <= 256 else { return nil }
    func value(_ c: UInt8) -> UInt8? {
      switch c {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
      case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
      case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
      default: nil
      }
    }
    var out: [UInt8] = []
    out.reserveCapacity(digits.count / 2)
    var i = 0
    while i < digits.count {
      guard let high = value(digits[i]), let low = value(digits[i + 1]) else { return nil }
      out.append(high << 4 | low)
      i += 2
    }
    return out
  }
}
