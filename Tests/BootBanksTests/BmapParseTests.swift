import DiskFormat
import Foundation
import TestSupport
import Testing

@testable import BootBanks

@Suite("restore: bmap files and checking an image against one")
struct BmapParseTests {
  /// A file of `blocks` blocks of 4096 bytes, with data in some and holes elsewhere.
  static func sparseImage(_ dir: ScratchDirectory, name: String = "image.raw") throws -> String {
    let path = dir.path(name)
    var rng = SplitMix64(state: 7)
    var bytes = [UInt8](repeating: 0, count: 64 * 4096 + 1024)
    for block in [0, 1, 2, 9, 10, 30, 64] {
      for i in 0..<min(4096, bytes.count - block * 4096) {
        bytes[block * 4096 + i] = UInt8(truncatingIfNeeded: rng.next())
      }
    }
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    // Punch the zero blocks out, so bmaptool maps only the data.
    #expect(try run("fallocate", ["--dig-holes", path]).status == 0)
    return path
  }

  @Test func bootbanksOwnBmapReadsBackEqual() throws {
    let map = Bmap(
      imageSize: 5 * 4096 + 512, blockSize: 4096,
      ranges: [
        .init(first: 0, last: 1, digest: Array(repeating: 1, count: 32)),
        .init(first: 3, last: 3, digest: Array(repeating: 2, count: 32)),
        .init(first: 5, last: 5, digest: Array(repeating: 3, count: 32)),
      ], notes: ["partition 7 left out"])
    let parsed = try Bmap.parse(Array(map.encoded().utf8))
    #expect(parsed.imageSize == map.imageSize)
    #expect(parsed.blockSize == 4096)
    #expect(parsed.ranges == map.ranges)
    #expect(parsed.checksumType == .sha256)
    #expect(parsed.mappedByteCount == 3 * 4096 + 512)
  }

  /// `bmaptool create` (format 2.0, SHA-256) read, and the image checks against it; one byte
  /// changed inside a mapped block is found, naming the blocks.
  @Test(.enabled(if: hasTool("bmaptool") && hasTool("fallocate"), "needs bmaptool and fallocate"))
  func bmaptoolCreateIsReadAndTheImageChecks() throws {
    let dir = try ScratchDirectory("bmap-parse")
    let image = try Self.sparseImage(dir)
    let bmapPath = dir.path("image.bmap")
    let created = try run("bmaptool", ["create", "-o", bmapPath, image])
    try #require(created.status == 0, "\(created.stderr)")
    let map = try Bmap.parse(Array(try Data(contentsOf: URL(fileURLWithPath: bmapPath))))
    #expect(map.checksumType == .sha256)
    #expect(map.ranges.map(\.first) == [0, 9, 30, 64])
    #expect(map.ranges.map(\.last) == [2, 10, 30, 64])
    let source = try TestFileSource(path: image)
    try BmapImageCheck.verify(source, bmap: map)

    // One byte of block 30 changed.
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: image))
    try handle.seek(toOffset: 30 * 4096 + 100)
    try handle.write(
      contentsOf: Data([0x5A ^ (try TestFileSource(path: image).read(at: 30 * 4096 + 100, count: 1)[0])]))
    try handle.close()
    let error = #expect(throws: BmapImageError.self) {
      try BmapImageCheck.verify(try TestFileSource(path: image), bmap: map)
    }
    #expect(error?.description.contains("blocks 30-30") == true, "\(error?.description ?? "")")
  }

  /// Format 1.3 (bmaptool before 3.0): SHA-1 in `sha1=` attributes and `BmapFileSHA1`,
  /// written here by Python's hashlib, independent of our hashers.
  @Test(.enabled(if: hasTool("python3"), "needs python3"))
  func format13WithSHA1IsRead() throws {
    let dir = try ScratchDirectory("bmap-13")
    let script = """
      import hashlib, sys
      data = bytes((i * 7) % 251 for i in range(3 * 4096))
      open(sys.argv[1], 'wb').write(data)
      def r(a, b): return '<Range sha1="%s"> %s </Range>' % (hashlib.sha1(data[a*4096:(b+1)*4096]).hexdigest(), a if a == b else '%d-%d' % (a, b))
      text = '<?xml version="1.0" ?>\\n<bmap version="1.3">\\n<ImageSize> %d </ImageSize>\\n<BlockSize> 4096 </BlockSize>\\n<BlocksCount> 3 </BlocksCount>\\n<MappedBlocksCount> 3 </MappedBlocksCount>\\n<BmapFileSHA1> %s </BmapFileSHA1>\\n<BlockMap>\\n%s\\n%s\\n</BlockMap>\\n</bmap>\\n'
      blank = text % (len(data), '0' * 40, r(0, 1), r(2, 2))
      sha = hashlib.sha1(blank.encode()).hexdigest()
      open(sys.argv[2], 'w').write(text % (len(data), sha, r(0, 1), r(2, 2)))
      """
    let result = try run("python3", ["-c", script, dir.path("old.raw"), dir.path("old.bmap")])
    try #require(result.status == 0, "\(result.stderr)")
    let map = try Bmap.parse(Array(try Data(contentsOf: URL(fileURLWithPath: dir.path("old.bmap")))))
    #expect(map.checksumType == .sha1)
    #expect(map.ranges.count == 2)
    try BmapImageCheck.verify(try TestFileSource(path: dir.path("old.raw")), bmap: map)
  }

  /// Hostile and broken maps: one line, naming the element (or attribute) at fault.
  @Test(arguments: [
    ("<BlockSize> 4096 </BlockSize>", "", "<BlockSize> is missing"),
    ("<BlockSize> 4096 </BlockSize>", "<BlockSize> four </BlockSize>", "<BlockSize>"),
    ("<BlocksCount> 3 </BlocksCount>", "<BlocksCount> 4 </BlocksCount>", "<BlocksCount> 4"),
    ("<MappedBlocksCount> 2 </MappedBlocksCount>", "<MappedBlocksCount> 1 </MappedBlocksCount>", "<MappedBlocksCount>"),
    ("<ChecksumType> sha256 </ChecksumType>", "<ChecksumType> md5 </ChecksumType>", "<ChecksumType>"),
    ("> 0-1 </Range>", "> 1-0 </Range>", "<Range> 1"),
    ("> 0-1 </Range>", "> 0-9 </Range>", "past the last block"),
    ("chksum=\"abab", "chksum=\"zzab", "chksum="),
    ("<bmap version=\"2.0\">", "<bmap version=\"9.0\">", "version"),
    ("<bmap version=\"2.0\">", "<bmap version=\"1.2\">", "no checksums"),
    ("</BlockMap>", "<Other/></BlockMap>", "<other> inside <BlockMap>"),
    ("</bmap>", "", "not a bmap"),
    ("<?xml version=\"1.0\" ?>", "<?xml version=\"1.0\" ?><?evil x?>", "processing instruction"),
  ])
  func brokenMapsAreRefusedNamingTheElement(_ find: String, _ replacement: String, _ expected: String) throws {
    let map = Bmap(
      imageSize: 10_000, blockSize: 4096, ranges: [.init(first: 0, last: 1, digest: Array(repeating: 0xAB, count: 32))])
    let good = map.encoded()
    #expect(good.contains(find), "the template holds \(find)")
    var text = good.replacingOccurrences(of: find, with: replacement)
    // Keep the file's own checksum right, so the element itself is what is refused.
    if let field = text.range(of: #"<BmapFileChecksum> [0-9a-f]{64} "#, options: .regularExpression) {
      let zeros = "<BmapFileChecksum> " + String(repeating: "0", count: 64) + " "
      let blank = text.replacingCharacters(in: field, with: zeros)
      var hasher = SHA256Check()
      text = text.replacingCharacters(in: field, with: "<BmapFileChecksum> \(hasher.hex(blank)) ")
    }
    let error = #expect(throws: Bmap.ParseError.self) { try Bmap.parse(Array(text.utf8)) }
    let line = error?.description ?? ""
    #expect(line.contains(expected), "\(line)")
    #expect(!line.contains("\n"))
  }

  /// Random damage (bytes flipped, cut short) never traps and never yields a map whose ranges
  /// are out of order or past the image: it parses into a sound map or throws `ParseError`.
  @Test func damagedMapsNeverTrap() {
    let map = Bmap(
      imageSize: 40_000, blockSize: 4096,
      ranges: [
        .init(first: 0, last: 1, digest: Array(repeating: 0xAB, count: 32)),
        .init(first: 4, last: 9, digest: Array(repeating: 0xCD, count: 32)),
      ])
    let good = Array(map.encoded().utf8)
    var rng = SplitMix64(state: 2026)
    var parsed = 0
    for round in 0..<3000 {
      var bytes = good
      if round % 5 == 0 {
        bytes = Array(bytes.prefix(Int(rng.next() % UInt64(bytes.count))))
      } else {
        for _ in 0..<(1 + rng.next() % 4) {
          bytes[Int(rng.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: rng.next())
        }
      }
      guard let result = try? Bmap.parse(bytes) else { continue }
      parsed += 1
      #expect(zip(result.ranges, result.ranges.dropFirst()).allSatisfy { $0.last < $1.first })
      #expect(result.ranges.allSatisfy { $0.first <= $0.last && $0.last < result.blockCount })
    }
    // Some damage falls in comments or white space; most is caught by the file's checksum.
    #expect(parsed < 3000)
  }

  @Test func aChangedMapFailsItsOwnChecksum() throws {
    let map = Bmap(
      imageSize: 10_000, blockSize: 4096, ranges: [.init(first: 0, last: 1, digest: Array(repeating: 0xAB, count: 32))])
    let text = map.encoded().replacingOccurrences(of: "abab", with: "abac")
    let error = #expect(throws: Bmap.ParseError.self) { try Bmap.parse(Array(text.utf8)) }
    #expect(error?.description.contains("<BmapFileChecksum>") == true)
  }

  /// The stream check hands on mapped bytes only, and stops at the first range that differs.
  @Test func streamCheckStoresMappedBytesAndStopsAtABadRange() throws {
    var bytes = [UInt8](repeating: 0, count: 6 * 512)
    for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: i * 13 + 1) }
    func sha(_ r: Range<Int>) -> [UInt8] {
      var h = SHA256Check()
      return h.digest(Array(bytes[r]))
    }
    let map = Bmap(
      imageSize: Int64(bytes.count), blockSize: 512,
      ranges: [.init(first: 1, last: 2, digest: sha(512..<1536)), .init(first: 4, last: 4, digest: sha(2048..<2560))])
    var stored: [Int64: Int] = [:]
    let check = BmapStreamCheck(bmap: map, imageName: "img") { offset, span in stored[offset] = span.count }
    for chunk in stride(from: 0, to: bytes.count, by: 700) {
      let piece = Array(bytes[chunk..<min(bytes.count, chunk + 700)])
      try check.consume(piece.span)
    }
    try check.finish()
    #expect(stored.values.reduce(0, +) == 3 * 512)
    #expect(stored.keys.min() == 512)

    var bad = bytes
    bad[2100] ^= 1
    var after: [Int64] = []
    let failing = BmapStreamCheck(bmap: map, imageName: "img") { offset, _ in after.append(offset) }
    let error = #expect(throws: BmapImageError.self) { try failing.consume(bad.span) }
    #expect(error?.description.contains("blocks 4-4") == true)
    #expect(after.allSatisfy { $0 < 2560 })
    let short = BmapStreamCheck(bmap: map, imageName: "img") { _, _ in }
    let head = Array(bytes[0..<1536])
    try short.consume(head.span)
    #expect(throws: BmapImageError.self) { try short.finish() }
  }
}

/// SHA-256 through sha256sum, so the tests do not check our hasher with itself.
struct SHA256Check {
  mutating func hex(_ text: String) -> String {
    String((try? run("sha256sum", ["-"], stdin: Data(text.utf8)).text.prefix(64)) ?? "")
  }
  mutating func digest(_ bytes: [UInt8]) -> [UInt8] {
    let hex = String((try? run("sha256sum", ["-"], stdin: Data(bytes)).text.prefix(64)) ?? "")
    return Bmap.bytes(hex: hex) ?? []
  }
}
