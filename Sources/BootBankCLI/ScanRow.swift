import DiskIO

/// One device or image in `bootbank scan`.
struct ScanRow: Codable {
  var path: String
  var kind: String?
  var sizeBytes: Int64?
  var sectorSize: Int?
  /// What libblkid reports for the whole device.
  var blkid: BlkidView?
  /// Set when the target cannot be opened.
  var error: String?

  struct BlkidView: Codable {
    var tableType: String?
    var partitions: [Blkid.Partition]
  }

  static func make(path: String) -> ScanRow {
    var row = ScanRow(path: path)
    do {
      let target = try Target(path: path)
      row.kind = target.kind.rawValue
      row.sizeBytes = target.byteCount
      row.sectorSize = target.sectorSize
      let table = Blkid.partitions(path: path, sectorSize: target.kind == .file ? target.sectorSize : nil)
      row.blkid = BlkidView(tableType: table?.type, partitions: table?.partitions ?? [])
    } catch {
      row.error = "\(error)"
    }
    return row
  }

  static func render(_ rows: [ScanRow]) -> String {
    var lines = [["DEVICE", "KIND", "SIZE", "SECTOR", "TABLE (libblkid)", "PARTITIONS"]]
    for row in rows {
      if let error = row.error {
        lines.append([row.path, "-", "-", "-", "-", "error: \(error)"])
        continue
      }
      lines.append([
        row.path, row.kind ?? "-", row.sizeBytes.map(humanSize) ?? "-", row.sectorSize.map(String.init) ?? "-",
        row.blkid?.tableType ?? "none", String(row.blkid?.partitions.count ?? 0),
      ])
    }
    return renderTable(lines)
  }
}
