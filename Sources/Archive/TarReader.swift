/// A bounded push reader of tar streams: POSIX ustar, GNU (long names 'L'/'K', base-256
/// numbers) and pax ('x' headers: `path`, `linkpath`, `size`; 'g' headers skipped).
///
/// Feed the tar bytes in chunks of any size (typically `GzipDecoder`'s output); members
/// are announced to a `TarVisitor` as their headers complete, and their data is passed
/// through in chunks, never accumulated (only long names and pax headers are buffered, up to
/// `Limits.maxExtendedHeaderSize`). Every header's checksum is verified.
///
/// Header layout (POSIX.1-2017 `pax`, ustar Interchange Format), offsets in the 512-byte block:
/// name 0 (100), mode 100 (8), uid 108 (8), gid 116 (8), size 124 (12), mtime 136 (12),
/// chksum 148 (8), typeflag 156, linkname 157 (100), magic 257 (6), version 263 (2),
/// uname 265 (32), gname 297 (32), devmajor 329 (8), devminor 337 (8), prefix 345 (155).
public struct TarReader {
  /// Bounds on what one archive may make the reader do.
  public struct Limits: Hashable, Sendable {
    public var maxMembers: Int
    public var maxNameLength: Int
    public var maxExtendedHeaderSize: Int

    public init(maxMembers: Int = 100_000, maxNameLength: Int = 4096, maxExtendedHeaderSize: Int = 1 << 20) {
      self.maxMembers = maxMembers
      self.maxNameLength = maxNameLength
      self.maxExtendedHeaderSize = maxExtendedHeaderSize
    }
  }

  enum Offset {
    static let name = 0, mode = 100, uid = 108, gid = 116, size = 124, mtime = 136, chksum = 148
    static let typeflag = 156, linkname = 157, magic = 257, version = 263, uname = 265, gname = 297
    static let prefix = 345
  }
  static let blockSize = 512

  public let limits: Limits

  private enum Phase {
    /// Collecting a header block.
    case header
    /// Passing a member's data on (`remaining` bytes), then `padding` bytes.
    case body(member: TarMember, remaining: Int64, padding: Int, deliver: Bool)
    /// Collecting a GNU long name / long link or a pax header body.
    case extended(typeflag: UInt8, headerOffset: Int64, remaining: Int64, padding: Int)
    /// After the first zero block.
    case oneZeroBlock
    /// After the end-of-archive blocks.
    case ended
  }

  private var phase: Phase = .header
  private var block: [UInt8] = []
  private var extended: [UInt8] = []
  private var position: Int64 = 0
  private var summary = TarSummary()
  private var pendingLongName: String?
  private var pendingLongLink: String?
  private var pendingPax: [String: String] = [:]
  private var failure: TarError?

  public init(limits: Limits = Limits()) {
    self.limits = limits
    block.reserveCapacity(Self.blockSize)
  }

  /// Reads the next chunk of the tar stream.
  ///
  /// - Throws: `TarError`; whatever `visitor` throws.
  public mutating func feed<V: TarVisitor>(_ bytes: Span<UInt8>, to visitor: inout V) throws {
    if let failure { throw failure }
    do {
      try consume(bytes, visitor: &visitor)
    } catch let error as TarError {
      failure = error
      throw error
    }
  }

  /// Checks that the stream ended between members (or after the end-of-archive blocks).
  ///
  /// - Throws: `TarError.Kind.truncated` naming the member and where its data stopped.
  public mutating func finish() throws -> TarSummary {
    if let failure { throw failure }
    var error: TarError?
    switch phase {
    case .header:
      if !block.isEmpty {
        error = TarError(.truncated, member: nil, field: "header", offset: position)
      } else if pendingLongName != nil || pendingLongLink != nil || !pendingPax.isEmpty {
        error = TarError(.truncated, member: pendingLongName, field: "header", offset: position)
      }
    case .body(let member, let remaining, _, _):
      error = TarError(.truncated, member: member.name, field: remaining > 0 ? "body" : "padding", offset: position)
    case .extended(let typeflag, _, let remaining, _):
      error = TarError(
        .truncated, member: nil,
        field: remaining > 0 ? "\(Character(Unicode.Scalar(typeflag))) header body" : "padding",
        offset: position)
    case .oneZeroBlock:
      // One zero block, then the end (a partial block after it is ignored, as GNU tar does).
      summary.end = .loneZeroBlock
    case .ended:
      break
    }
    if let error {
      failure = error
      throw error
    }
    summary.byteCount = position
    return summary
  }

  // MARK: The state machine

  private mutating func consume<V: TarVisitor>(_ bytes: Span<UInt8>, visitor: inout V) throws {
    var index = 0
    while index < bytes.count {
      switch phase {
      case .header, .oneZeroBlock:
        let n = min(Self.blockSize - block.count, bytes.count - index)
        for i in index..<(index + n) { block.append(bytes[i]) }
        index += n
        position += Int64(n)
        if block.count == Self.blockSize {
          let headerOffset = position - Int64(Self.blockSize)
          try headerBlock(at: headerOffset, visitor: &visitor)
          block.removeAll(keepingCapacity: true)
        }
      case .body(let member, var remaining, var padding, let deliver):
        if remaining > 0 {
          let n = Int(min(remaining, Int64(bytes.count - index)))
          if deliver { try visitor.body(bytes.extracting(index..<(index + n)), of: member) }
          index += n
          position += Int64(n)
          remaining -= Int64(n)
        } else {
          let n = min(padding, bytes.count - index)
          index += n
          position += Int64(n)
          padding -= n
        }
        if remaining == 0 && padding == 0 {
          phase = .header
          try visitor.end(member)
        } else {
          phase = .body(member: member, remaining: remaining, padding: padding, deliver: deliver)
        }
      case .extended(let typeflag, let headerOffset, var remaining, var padding):
        if remaining > 0 {
          let n = Int(min(remaining, Int64(bytes.count - index)))
          for i in index..<(index + n) { extended.append(bytes[i]) }
          index += n
          position += Int64(n)
          remaining -= Int64(n)
        } else {
          let n = min(padding, bytes.count - index)
          index += n
          position += Int64(n)
          padding -= n
        }
        if remaining == 0 && padding == 0 {
          phase = .header
          try applyExtended(typeflag: typeflag, headerOffset: headerOffset)
        } else {
          phase = .extended(typeflag: typeflag, headerOffset: headerOffset, remaining: remaining, padding: padding)
        }
      case .ended:
        for i in index..<bytes.count where bytes[i] != 0 { summary.nonZeroBytesAfterEnd += 1 }
        position += Int64(bytes.count - index)
        index = bytes.count
      }
    }
  }

  /// A complete 512-byte block in `block`, at `offset` in the stream: the end marker, an
  /// extended header (GNU long name or link, pax) or a member header.
  private mutating func headerBlock<V: TarVisitor>(at offset: Int64, visitor: inout V) throws {
    if endOfArchive() { return }
    let rawName = Self.string(block, Offset.name, 100)
    try verifyChecksum(at: offset, member: rawName)
    var size = try Self.number(block, Offset.size, 12, field: "size", member: rawName, base: offset)
    guard size >= 0 else {
      throw TarError(.invalidNumber("negative"), member: rawName, field: "size", offset: offset + Int64(Offset.size))
    }
    let typeflag = block[Offset.typeflag]
    if try startExtended(typeflag: typeflag, size: size, at: offset, member: rawName) { return }

    guard summary.memberCount < limits.maxMembers else {
      throw TarError(.tooManyMembers(limit: limits.maxMembers), member: rawName, field: "header", offset: offset)
    }
    let (name, linkName) = try resolveNames(rawName: rawName, size: &size, at: offset)
    func num(_ at: Int, _ width: Int, _ field: String) throws -> Int64 {
      try Self.number(block, at, width, field: field, member: rawName, base: offset)
    }
    let kind = TarMember.Kind(typeflag: typeflag)
    if kind.isHeaderOnly { size = 0 }
    let member = TarMember(
      name: name, kind: kind, typeflag: typeflag, size: size,
      mode: UInt32(truncatingIfNeeded: try num(Offset.mode, 8, "mode")),
      uid: try num(Offset.uid, 8, "uid"), gid: try num(Offset.gid, 8, "gid"),
      modificationTime: try num(Offset.mtime, 12, "mtime"), linkName: linkName,
      userName: Self.string(block, Offset.uname, 32), groupName: Self.string(block, Offset.gname, 32),
      headerOffset: offset, dataOffset: offset + Int64(Self.blockSize))
    summary.memberCount += 1
    let deliver = try visitor.begin(member)
    if size == 0 {
      try visitor.end(member)
    } else {
      phase = .body(member: member, remaining: size, padding: Self.padding(size), deliver: deliver)
    }
  }

  /// The end-of-archive rule: two zero blocks end it, as does (like GNU tar, "A lone zero
  /// block at …") a zero block followed by anything else. Returns true when `block` was a
  /// zero block or came after one.
  private mutating func endOfArchive() -> Bool {
    let isZero = block.allSatisfy { $0 == 0 }
    if case .oneZeroBlock = phase {
      if isZero {
        summary.end = .twoZeroBlocks
        phase = .ended
        return true
      }
      summary.end = .loneZeroBlock
      phase = .ended
      summary.nonZeroBytesAfterEnd += Int64(block.filter { $0 != 0 }.count)
      return true
    }
    if isZero {
      phase = .oneZeroBlock
      return true
    }
    return false
  }

  /// The header checksum, checked first: nothing else in a header with a bad checksum is
  /// trustworthy. The sum of the block with chksum read as spaces, unsigned or (as old tars
  /// wrote it) signed.
  private func verifyChecksum(at offset: Int64, member rawName: String) throws {
    var unsigned: UInt32 = 0
    var signed: Int32 = 0
    for (i, byte) in block.enumerated() {
      let b = (Offset.chksum..<(Offset.chksum + 8)).contains(i) ? UInt8(ascii: " ") : byte
      unsigned &+= UInt32(b)
      signed &+= Int32(Int8(bitPattern: b))
    }
    let stored = try? Self.number(block, Offset.chksum, 8, field: "chksum", member: rawName, base: offset)
    guard let stored, stored == Int64(unsigned) || stored == Int64(signed) else {
      throw TarError(
        .checksumMismatch(stored: stored.flatMap { UInt32(exactly: $0) }, computed: unsigned),
        member: rawName.isEmpty ? nil : rawName, field: "chksum", offset: offset + Int64(Offset.chksum))
    }
  }

  /// A GNU long-name or long-link header, or a pax header, starts collecting its body for the
  /// next member. Returns false for any other typeflag.
  private mutating func startExtended(typeflag: UInt8, size: Int64, at offset: Int64, member rawName: String) throws
    -> Bool
  {
    switch typeflag {
    case UInt8(ascii: "L"), UInt8(ascii: "K"), UInt8(ascii: "x"), UInt8(ascii: "g"):
      guard size <= Int64(limits.maxExtendedHeaderSize) else {
        throw TarError(
          .extendedHeaderTooLarge(size: size, limit: limits.maxExtendedHeaderSize), member: rawName, field: "size",
          offset: offset + Int64(Offset.size))
      }
      extended.removeAll(keepingCapacity: true)
      let padding = Self.padding(size)
      if size == 0 {
        try applyExtended(typeflag: typeflag, headerOffset: offset)
      } else {
        phase = .extended(typeflag: typeflag, headerOffset: offset, remaining: size, padding: padding)
      }
      return true
    default:
      return false
    }
  }

  /// The member's name and link name: ustar prefix, then a pending GNU long name or link, then
  /// pax `path`/`linkpath` (pax `size` replaces `size`), within the name-length limit. Clears
  /// what was pending.
  private mutating func resolveNames(rawName: String, size: inout Int64, at offset: Int64) throws -> (String, String) {
    let magic = Array(block[Offset.magic..<(Offset.magic + 6)])
    let isUstar = magic == Array("ustar\0".utf8)  // POSIX; GNU writes "ustar  \0" and no prefix
    var name = rawName
    if isUstar {
      let prefix = Self.string(block, Offset.prefix, 155)
      if !prefix.isEmpty { name = prefix + "/" + rawName }
    }
    if let long = pendingLongName { name = long }
    if let path = pendingPax["path"] { name = path }
    var linkName = Self.string(block, Offset.linkname, 100)
    if let long = pendingLongLink { linkName = long }
    if let path = pendingPax["linkpath"] { linkName = path }
    if let paxSize = pendingPax["size"] {
      guard let value = Int64(paxSize), value >= 0 else {
        throw TarError(.invalidPaxRecord("size=\(paxSize)"), member: name, field: "pax size", offset: offset)
      }
      size = value
    }
    guard name.utf8.count <= limits.maxNameLength else {
      throw TarError(
        .nameTooLong(length: name.utf8.count, limit: limits.maxNameLength), member: String(name.prefix(100)),
        field: "name", offset: offset)
    }
    pendingLongName = nil
    pendingLongLink = nil
    pendingPax = [:]
    return (name, linkName)
  }

  /// Applies a complete GNU long-name/long-link or pax body to the next member.
  private mutating func applyExtended(typeflag: UInt8, headerOffset: Int64) throws {
    switch typeflag {
    case UInt8(ascii: "L"), UInt8(ascii: "K"):
      let end = extended.firstIndex(of: 0) ?? extended.count
      let value = String(decoding: extended[..<end], as: UTF8.self)
      guard end <= limits.maxNameLength else {
        throw TarError(
          .nameTooLong(length: end, limit: limits.maxNameLength), member: String(value.prefix(100)),
          field: "\(Character(Unicode.Scalar(typeflag))) header body", offset: headerOffset + Int64(Self.blockSize))
      }
      if typeflag == UInt8(ascii: "L") { pendingLongName = value } else { pendingLongLink = value }
    case UInt8(ascii: "x"):
      for (key, value) in try Self.paxRecords(extended, at: headerOffset + Int64(Self.blockSize)) {
        pendingPax[key] = value
      }
    default:
      break  // 'g': global pax headers do not name members; read and skipped.
    }
    extended.removeAll(keepingCapacity: true)
  }

  // MARK: Field decoding

  static func padding(_ size: Int64) -> Int {
    let rest = Int(size % Int64(blockSize))
    return rest == 0 ? 0 : blockSize - rest
  }

  /// A NUL-terminated string field.
  static func string(_ block: [UInt8], _ at: Int, _ width: Int) -> String {
    let field = block[at..<(at + width)]
    let end = field.firstIndex(of: 0) ?? field.endIndex
    return String(decoding: field[at..<end], as: UTF8.self)
  }

  /// A numeric field: octal ASCII (leading spaces/NULs, terminated by space or NUL), or GNU
  /// base-256 when the first byte has its high bit set.
  static func number(
    _ block: [UInt8], _ at: Int, _ width: Int, field: String, member: String, base: Int64
  ) throws(TarError) -> Int64 {
    let bytes = block[at..<(at + width)]
    func fail(_ why: String) -> TarError {
      TarError(.invalidNumber(why), member: member.isEmpty ? nil : member, field: field, offset: base + Int64(at))
    }
    guard let first = bytes.first else { return 0 }
    if first & 0x80 != 0 {
      guard first == 0x80 else { throw fail("negative base-256 number") }
      var value: Int64 = 0
      for byte in bytes.dropFirst() {
        guard value <= (Int64.max >> 8) else { throw fail("base-256 number too large") }
        value = value << 8 | Int64(byte)
      }
      return value
    }
    var value: Int64 = 0
    var index = bytes.startIndex
    while index < bytes.endIndex, bytes[index] == UInt8(ascii: " ") || bytes[index] == 0 { index += 1 }
    var digits = 0
    while index < bytes.endIndex, (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(bytes[index]) {
      guard value <= (Int64.max >> 3) else { throw fail("octal number too large") }
      value = value << 3 | Int64(bytes[index] - UInt8(ascii: "0"))
      index += 1
      digits += 1
    }
    while index < bytes.endIndex {
      guard bytes[index] == UInt8(ascii: " ") || bytes[index] == 0 else {
        throw fail(String(decoding: bytes, as: UTF8.self))
      }
      index += 1
    }
    return value
  }

  /// pax extended-header records: "<length> <key>=<value>\n", length counting the whole record.
  static func paxRecords(_ body: [UInt8], at base: Int64) throws(TarError) -> [(String, String)] {
    var records: [(String, String)] = []
    var index = 0
    while index < body.count {
      if body[index] == 0 { break }  // some writers pad with NULs
      func fail(_ why: String) -> TarError {
        TarError(.invalidPaxRecord(why), member: nil, field: "pax record", offset: base + Int64(index))
      }
      var length = 0
      var cursor = index
      while cursor < body.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(body[cursor]) {
        guard length < 1 << 30 else { throw fail("length too large") }
        length = length * 10 + Int(body[cursor] - UInt8(ascii: "0"))
        cursor += 1
      }
      guard cursor < body.count, body[cursor] == UInt8(ascii: " "), length > cursor - index + 1,
        index + length <= body.count, body[index + length - 1] == UInt8(ascii: "\n")
      else { throw fail("bad length") }
      let record = body[(cursor + 1)..<(index + length - 1)]
      guard let equals = record.firstIndex(of: UInt8(ascii: "=")) else { throw fail("no '='") }
      records.append(
        (
          String(decoding: record[record.startIndex..<equals], as: UTF8.self),
          String(decoding: record[(equals + 1)...], as: UTF8.self)
        ))
      index += length
    }
    return records
  }
}
