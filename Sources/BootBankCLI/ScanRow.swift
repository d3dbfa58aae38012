import ArgumentParser
import BootBanks
import DiskIO
import PartitionTable

/// One device or image in `bootbank scan`.
struct ScanRow: Codable {
  var path: String
  var kind: String?
  var sizeBytes: Int64?
  var sectorSize: Int?
  /// The table as bootbank (and ESXi's loader) reads it: gpt, mbr or none.
  var tableType: String?
  var partitionCount: Int?
  /// Partitions holding the VMware FAT magic and a boot.cfg the loader accepts.
  var banks: [Int]?
  /// True when the device is laid out like an ESXi boot device (at least one bank).
  var esxiBootDevice: Bool
  /// What libblkid reports for the whole device.
  var blkid: BlkidView?
  /// Set when the target cannot be opened.
  var error: String?

  struct BlkidView: Codable {
    var tableType: String?
    var partitions: [Blkid.Partition]
  }

  static func make(path: String) -> ScanRow {
    var row = ScanRow(path: path, esxiBootDevice: false)
    do {
      let device = try OpenedDevice.open(TargetOptions.parse([path]))
      let target = device.target
      row.kind = target.kind.rawValue
      row.sizeBytes = target.byteCount
      row.sectorSize = device.layout.sectorSize
      row.tableType = device.layout.type.rawValue
      row.partitionCount = device.layout.partitions.count
      let banks = BankDiscovery.scan(target, layout: device.layout)
        .filter { $0.candidate.uuid != nil && $0.candidate.bootConfig != nil }.map(\.candidate.partition)
      row.banks = banks
      row.esxiBootDevice = !banks.isEmpty
      let table = Blkid.partitions(path: path, sectorSize: target.kind == .file ? target.sectorSize : nil)
      row.blkid = BlkidView(tableType: table?.type, partitions: table?.partitions ?? [])
    } catch {
      row.error = "\(error)"
    }
    return row
  }

  static func render(_ rows: [ScanRow]) -> String {
    var lines = [["DEVICE", "KIND", "SIZE", "SECTOR", "TABLE", "PARTS", "LIBBLKID", "ESXI BANKS"]]
    for row in rows {
      if let error = row.error {
        lines.append([row.path, "-", "-", "-", "-", "-", "-", "error: \(error)"])
        continue
      }
      let banks = row.banks ?? []
      lines.append([
        row.path, row.kind ?? "-", row.sizeBytes.map(humanSize) ?? "-", row.sectorSize.map(String.init) ?? "-",
        row.tableType ?? "-", row.partitionCount.map(String.init) ?? "-",
        "\(row.blkid?.tableType ?? "none")/\(row.blkid?.partitions.count ?? 0)",
        banks.isEmpty ? "-" : "ESXi boot device: banks " + banks.map(String.init).joined(separator: ", "),
      ])
    }
    return renderTable(lines)
  }
}
