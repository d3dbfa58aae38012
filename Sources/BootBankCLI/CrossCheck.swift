import DiskFormat
import DiskIO
import PartitionTable

/// Where libblkid and bootbank's own parser disagree about a device's partitions.
struct CrossCheck: Codable {
  /// libblkid's table type ("gpt", "dos", …) or nil when it finds none.
  var blkidTableType: String?
  var agrees: Bool
  var differences: [String]
  var blkidPartitions: [Blkid.Partition]

  var findings: [Finding] {
    differences.map { Finding.warning("blkidDisagrees", "libblkid disagrees: \($0)") }
  }

  static func make(_ device: OpenedDevice) -> CrossCheck {
    let target = device.target
    let blkid = Blkid.partitions(path: target.path, sectorSize: target.kind == .file ? target.sectorSize : nil)
    let ours = device.layout.linuxPartitions ?? device.layout.partitions
    let differences = compare(
      ours: ours, ourType: device.layout.linuxType, sectorSize: device.layout.sectorSize, blkid: blkid)
    return CrossCheck(
      blkidTableType: blkid?.type, agrees: differences.isEmpty, differences: differences,
      blkidPartitions: blkid?.partitions ?? [])
  }

  /// The differences between our partition list (as Linux reads the table) and libblkid's.
  static func compare(ours: [Partition], ourType: DiskLayout.TableType, sectorSize: Int, blkid: Blkid.Table?)
    -> [String]
  {
    var out: [String] = []
    let theirType: DiskLayout.TableType
    switch blkid?.type {
    case "gpt": theirType = .gpt
    case "dos": theirType = .mbr
    case nil: theirType = .none
    case let other?:
      out.append(
        "table type: libblkid reads a \(other) label, which is neither MBR nor GPT (bootbank reads \(ourType.rawValue))"
      )
      return out
    }
    if theirType != ourType {
      out.append("table type: bootbank reads \(ourType.rawValue), libblkid \(blkid?.type ?? "none")")
      return out
    }
    let theirs = Dictionary((blkid?.partitions ?? []).map { ($0.number, $0) }, uniquingKeysWith: { a, _ in a })
    let mine = Dictionary(ours.map { ($0.number, $0) }, uniquingKeysWith: { a, _ in a })
    let units = UInt64(sectorSize / 512)
    for number in Set(theirs.keys).union(mine.keys).sorted() {
      guard let p = mine[number] else {
        out.append("partition \(number): only libblkid lists it")
        continue
      }
      guard let b = theirs[number] else {
        out.append("partition \(number): only bootbank lists it")
        continue
      }
      // libblkid reports 512-byte units whatever the sector size.
      if UInt64(b.start512) != p.firstLBA * units {
        out.append("partition \(number): start \(p.firstLBA * units) (512-byte units) here, \(b.start512) in libblkid")
      }
      if UInt64(b.size512) != p.sectorCount * units {
        out.append("partition \(number): size \(p.sectorCount * units) (512-byte units) here, \(b.size512) in libblkid")
      }
      if let guid = p.typeGUID?.description, guid != (b.typeString ?? "") {
        out.append("partition \(number): type \(guid) here, \(b.typeString ?? "none") in libblkid")
      }
      if let type = p.mbrType, Int(type) != b.type {
        out.append("partition \(number): type 0x\(hexByte(type)) here, 0x\(String(b.type, radix: 16)) in libblkid")
      }
      if p.typeGUID != nil, (b.name ?? "") != p.name {
        out.append("partition \(number): name \"\(p.name)\" here, \"\(b.name ?? "")\" in libblkid")
      }
    }
    return out
  }

  func render() -> String {
    if agrees { return "libblkid agrees (\(blkidTableType ?? "no table"), \(blkidPartitions.count) partitions)" }
    return (["libblkid disagrees:"] + differences.map { "  " + $0 }).joined(separator: "\n")
  }
}
