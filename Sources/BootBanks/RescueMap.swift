import DiskFormat

/// A GNU ddrescue mapfile: which byte ranges of a device were read, and how each went.
///
/// The format (ddrescue manual, "Mapfile structure"): comment lines start with `#`; the first
/// other line is the status line `current_pos current_status current_pass`; every following
/// line is a block `pos size status`, positions and sizes in hexadecimal with `0x` (decimal is
/// accepted too), blocks in order and contiguous. Block status: `?` non-tried, `*`
/// non-trimmed, `/` non-scraped, `-` bad sector(s), `+` finished (read). ddrescue,
/// ddrescuelog and a later `bootbank surface` read what this writes.
public struct RescueMap: Hashable, Sendable {
  public enum Status: Character, Hashable, Sendable, CaseIterable {
    case nonTried = "?"
    case nonTrimmed = "*"
    case nonScraped = "/"
    case bad = "-"
    case finished = "+"
  }

  public struct Block: Hashable, Sendable {
    public var position: Int64
    public var size: Int64
    public var status: Status
    public var end: Int64 { position + size }

    public init(position: Int64, size: Int64, status: Status) {
      self.position = position
      self.size = size
      self.status = status
    }
  }

  /// The position and phase where the run stopped (`+` once finished).
  public var currentPosition: Int64
  public var currentStatus: Character
  public var currentPass: Int
  /// Contiguous blocks from 0, merged where neighbours share a status.
  public private(set) var blocks: [Block]

  /// A map of `size` bytes, none of them tried.
  public init(size: Int64) {
    currentPosition = 0
    currentStatus = "?"
    currentPass = 1
    blocks = size > 0 ? [Block(position: 0, size: size, status: .nonTried)] : []
  }

  /// The bytes the map covers.
  public var size: Int64 { blocks.last?.end ?? 0 }

  /// Bytes in each status.
  public func bytes(_ status: Status) -> Int64 { blocks.filter { $0.status == status }.reduce(0) { $0 + $1.size } }

  /// The blocks of `status`.
  public func ranges(_ status: Status) -> [Range<Int64>] {
    blocks.filter { $0.status == status }.map { $0.position..<$0.end }
  }

  /// The status of byte `offset` (nil outside the map).
  public func status(at offset: Int64) -> Status? {
    var low = 0
    var high = blocks.count
    while low < high {
      let mid = (low + high) / 2
      if blocks[mid].end <= offset { low = mid + 1 } else { high = mid }
    }
    guard low < blocks.count, blocks[low].position <= offset else { return nil }
    return blocks[low].status
  }

  /// Marks `range` (clipped to the map) with `status`, splitting and merging blocks.
  public mutating func mark(_ range: Range<Int64>, _ status: Status) {
    let range = range.clamped(to: 0..<size)
    guard !range.isEmpty else { return }
    var result: [Block] = []
    result.reserveCapacity(blocks.count + 2)
    func append(_ block: Block) {
      guard block.size > 0 else { return }
      if let last = result.last, last.status == block.status, last.end == block.position {
        result[result.count - 1].size += block.size
      } else {
        result.append(block)
      }
    }
    var inserted = false
    for block in blocks {
      if block.end <= range.lowerBound || block.position >= range.upperBound {
        if !inserted, block.position >= range.upperBound {
          append(Block(position: range.lowerBound, size: Int64(range.count), status: status))
          inserted = true
        }
        append(block)
        continue
      }
      if block.position < range.lowerBound {
        append(Block(position: block.position, size: range.lowerBound - block.position, status: block.status))
      }
      if !inserted {
        append(Block(position: range.lowerBound, size: Int64(range.count), status: status))
        inserted = true
      }
      if block.end > range.upperBound {
        append(Block(position: range.upperBound, size: block.end - range.upperBound, status: block.status))
      }
    }
    if !inserted { append(Block(position: range.lowerBound, size: Int64(range.count), status: status)) }
    blocks = result
  }

  /// The mapfile text.
  public func encoded(commandLine: String? = nil) -> String {
    var lines = ["# Mapfile. Created by bootbank surface"]
    if let commandLine { lines.append("# Command line: \(commandLine)") }
    lines.append("# current_pos  current_status  current_pass")
    lines.append("\(Self.hex(currentPosition))     \(currentStatus)               \(currentPass)")
    lines.append("#      pos        size  status")
    for block in blocks {
      lines.append("\(Self.hex(block.position))  \(Self.hex(block.size))  \(block.status.rawValue)")
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// ddrescue's form: `0x`, at least eight upper-case digits.
  static func hex(_ value: Int64) -> String { "0x" + hexDigits(value, width: 8, uppercase: true) }

  /// Why a mapfile cannot be read: its line number and what is wrong.
  public struct ParseError: Error, Hashable, Sendable, CustomStringConvertible {
    public var line: Int
    public var why: String
    public var description: String { "mapfile line \(line): \(why)" }
  }

  /// The most blocks a mapfile may hold (a device with bad sectors everywhere, 4 KiB apart, on
  /// a 64 GiB card has 16 M); more is refused rather than held in memory.
  public static let maximumBlocks = 16 << 20

  /// Reads a mapfile.
  ///
  /// - Throws: `ParseError` naming the line: a bad number or status, blocks that are not in
  ///   order and contiguous from 0, or more than `maximumBlocks`.
  public init(parsing text: String) throws(ParseError) {
    var status: (Int64, Character, Int)?
    var parsed: [Block] = []
    var lineNumber = 0
    for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
      lineNumber += 1
      let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
      let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
      if fields.isEmpty { continue }
      if status == nil {
        guard fields.count >= 2, let position = Self.number(fields[0]), fields[1].count == 1 else {
          throw ParseError(line: lineNumber, why: "expected the status line 'current_pos current_status [pass]'")
        }
        let pass = fields.count >= 3 ? Int(fields[2]) ?? 1 : 1
        status = (position, fields[1].first!, pass)
        continue
      }
      guard fields.count == 3, let position = Self.number(fields[0]), let size = Self.number(fields[1]),
        fields[2].count == 1, let blockStatus = Status(rawValue: fields[2].first!)
      else {
        throw ParseError(line: lineNumber, why: "expected a block 'pos size status' (status one of ?*/-+)")
      }
      guard size > 0 else { throw ParseError(line: lineNumber, why: "block size \(size) is not positive") }
      let expected = parsed.last?.end ?? 0
      guard position == expected else {
        throw ParseError(line: lineNumber, why: "block at \(Self.hex(position)), expected \(Self.hex(expected))")
      }
      guard position <= Int64.max - size else { throw ParseError(line: lineNumber, why: "block runs past 2^63") }
      guard parsed.count < Self.maximumBlocks else {
        throw ParseError(line: lineNumber, why: "more than \(Self.maximumBlocks) blocks")
      }
      if let last = parsed.last, last.status == blockStatus {
        parsed[parsed.count - 1].size += size
      } else {
        parsed.append(Block(position: position, size: size, status: blockStatus))
      }
    }
    guard let status else { throw ParseError(line: lineNumber, why: "no status line") }
    currentPosition = status.0
    currentStatus = status.1
    currentPass = status.2
    blocks = parsed
  }

  /// A non-negative number in hexadecimal (`0x`), octal (`0` prefix) or decimal, as ddrescue
  /// reads them.
  static func number(_ text: Substring) -> Int64? {
    if text.hasPrefix("0x") || text.hasPrefix("0X") { return Int64(text.dropFirst(2), radix: 16) }
    if text.count > 1, text.hasPrefix("0") { return Int64(text.dropFirst(), radix: 8) }
    return Int64(text, radix: 10)
  }
}
