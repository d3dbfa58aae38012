import ArgumentParser
import BootBanks
import DiskFormat
import DiskIO
import PartitionTable

/// One device or image in `bootbank scan`. Every key is written, `null` where it does not apply.
struct ScanRow: Codable {
  var path: String
  @Nullable var kind: String? = nil
  /// For block devices, from sysfs (lsblk's TRAN, MODEL, SERIAL).
  @Nullable var transport: String? = nil
  @Nullable var model: String? = nil
  @Nullable var serial: String? = nil
  @Nullable var sizeBytes: Int64? = nil
  @Nullable var sectorSize: Int? = nil
  /// The table as bootbank (and ESXi's loader) reads it: gpt, mbr or none.
  @Nullable var tableType: String? = nil
  @Nullable var partitionCount: Int? = nil
  /// Partitions holding the VMware FAT magic and a boot.cfg the loader accepts.
  @Nullable var banks: [Int]? = nil
  /// True when the device is laid out like an ESXi boot device (at least one bank).
  var esxiBootDevice: Bool
  /// What libblkid reports for the whole device.
  @Nullable var blkid: BlkidView? = nil
  /// Set when the target cannot be opened or read.
  @Nullable var error: String? = nil

  struct BlkidView: Codable {
    @Nullable var tableType: String? = nil
    var partitions: [Blkid.Partition]
  }

  static func make(path: String) -> ScanRow {
    var row = ScanRow(path: path, esxiBootDevice: false)
    if let identity = BlockDevices.identity(of: path) {
      row.transport = identity.transport
      row.model = identity.model
      row.serial = identity.serial
      row.sizeBytes = identity.sizeBytes
    }
    do {
      let device = try OpenedDevice.open(path: path, sectorSize: nil)
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
      let error = failure(error, path: path)
      row.error = error.message
    }
    return row
  }

  static func render(_ rows: [ScanRow]) -> String {
    var lines = [["DEVICE", "TRAN", "MODEL", "SERIAL", "SIZE", "SECTOR", "TABLE", "PARTS", "LIBBLKID", "ESXI BANKS"]]
    for row in rows {
      let identity = [
        row.transport ?? "-", row.model ?? "-", row.serial ?? "-", row.sizeBytes.map(humanSize) ?? "-",
      ]
      if let error = row.error {
        lines.append([row.path] + identity + ["-", "-", "-", "-", "error: \(error)"])
        continue
      }
      let banks = row.banks ?? []
      lines.append(
        [row.path] + identity + [
          row.sectorSize.map(String.init) ?? "-", row.tableType ?? "-", row.partitionCount.map(String.init) ?? "-",
          "\(row.blkid?.tableType ?? "none")/\(row.blkid?.partitions.count ?? 0)",
          banks.isEmpty ? "-" : "ESXi boot device: banks " + banks.map(String.init).joined(separator: ", "),
        ])
    }
    return renderTable(lines)
  }
}
