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

  /// Asks libblkid for the device's table and lists where it and our reading disagree
  /// (`DiskLayout.differences(from:)` decides).
  static func make(_ device: OpenedDevice) -> CrossCheck {
    let target = device.target
    let blkid = Blkid.partitions(path: target.path, sectorSize: target.kind == .file ? target.sectorSize : nil)
    let foreign = ForeignTable(
      tool: "libblkid", type: blkid?.type,
      partitions: (blkid?.partitions ?? []).map {
        ForeignTable.Entry(
          number: $0.number, start512: $0.start512, size512: $0.size512, mbrType: $0.type, typeGUID: $0.typeString,
          name: $0.name)
      })
    let differences = device.layout.differences(from: foreign)
    return CrossCheck(
      blkidTableType: blkid?.type, agrees: differences.isEmpty, differences: differences,
      blkidPartitions: blkid?.partitions ?? [])
  }

  func render() -> String {
    if agrees { return "libblkid agrees (\(blkidTableType ?? "no table"), \(blkidPartitions.count) partitions)" }
    return (["libblkid disagrees:"] + differences.map { "  " + $0 }).joined(separator: "\n")
  }
}
