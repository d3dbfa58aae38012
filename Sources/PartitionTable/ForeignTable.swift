import DiskFormat

/// A partition table as another tool reads it (libblkid, say): what
/// `DiskLayout.differences(from:)` compares the table with.
public struct ForeignTable: Hashable, Sendable {
  /// The tool's name, as the differences name it ("libblkid").
  public var tool: String
  /// The tool's label type ("gpt", "dos", "bsd", …), nil when it finds none.
  public var type: String?
  public var partitions: [Entry]

  /// One partition as the tool lists it, in 512-byte units whatever the sector size.
  public struct Entry: Hashable, Sendable {
    public var number: Int
    public var start512: Int64
    public var size512: Int64
    /// The MBR type byte (0 for GPT).
    public var mbrType: Int
    /// The GPT type GUID, upper case, or nil.
    public var typeGUID: String?
    public var name: String?

    public init(number: Int, start512: Int64, size512: Int64, mbrType: Int, typeGUID: String?, name: String?) {
      self.number = number
      self.start512 = start512
      self.size512 = size512
      self.mbrType = mbrType
      self.typeGUID = typeGUID
      self.name = name
    }
  }

  public init(tool: String, type: String?, partitions: [Entry]) {
    self.tool = tool
    self.type = type
    self.partitions = partitions
  }
}

extension DiskLayout {
  /// Where `foreign` disagrees with the table as Linux reads it here (the loader's reading
  /// when Linux reads the same): the table type, then per partition its presence, start,
  /// size, type and GPT name. Empty when they agree.
  public func differences(from foreign: ForeignTable) -> [String] {
    let tool = foreign.tool
    let ours = linuxPartitions ?? partitions
    let theirType: TableType
    switch foreign.type {
    case "gpt": theirType = .gpt
    case "dos": theirType = .mbr
    case nil: theirType = .none
    case let other?:
      return [
        "table type: \(tool) reads a \(other) label, which is neither MBR nor GPT (bootbank reads \(linuxType.rawValue))"
      ]
    }
    if theirType != linuxType {
      return ["table type: bootbank reads \(linuxType.rawValue), \(tool) \(foreign.type ?? "none")"]
    }
    var out: [String] = []
    let theirs = Dictionary(foreign.partitions.map { ($0.number, $0) }, uniquingKeysWith: { a, _ in a })
    let mine = Dictionary(ours.map { ($0.number, $0) }, uniquingKeysWith: { a, _ in a })
    let units = UInt64(sectorSize / 512)
    for number in Set(theirs.keys).union(mine.keys).sorted() {
      guard let p = mine[number] else {
        out.append("partition \(number): only \(tool) lists it")
        continue
      }
      guard let b = theirs[number] else {
        out.append("partition \(number): only bootbank lists it")
        continue
      }
      let (start, startOverflow) = p.firstLBA.multipliedReportingOverflow(by: units)
      let (size, sizeOverflow) = p.sectorCount.multipliedReportingOverflow(by: units)
      if startOverflow || UInt64(clamping: b.start512) != start {
        out.append("partition \(number): start \(start) (512-byte units) here, \(b.start512) in \(tool)")
      }
      if sizeOverflow || UInt64(clamping: b.size512) != size {
        out.append("partition \(number): size \(size) (512-byte units) here, \(b.size512) in \(tool)")
      }
      if let guid = p.typeGUID?.description, guid != (b.typeGUID ?? "") {
        out.append("partition \(number): type \(guid) here, \(b.typeGUID ?? "none") in \(tool)")
      }
      if let type = p.mbrType, Int(type) != b.mbrType {
        out.append("partition \(number): type 0x\(hexByte(type)) here, 0x\(String(b.mbrType, radix: 16)) in \(tool)")
      }
      if p.typeGUID != nil, (b.name ?? "") != p.name {
        out.append("partition \(number): name \"\(p.name)\" here, \"\(b.name ?? "")\" in \(tool)")
      }
    }
    return out
  }
}
