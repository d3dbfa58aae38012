import DiskFormat
import DiskIO
import FAT
import PartitionTable

/// A device opened with the right sector size and its partition table read: the start of
/// every command that looks inside a device.
struct OpenedDevice {
  var target: Target
  var layout: DiskLayout

  /// Opens `options.target` read-only and reads its table (see `PartitionTable.readReopening`).
  static func open(_ options: TargetOptions) throws -> OpenedDevice {
    try open(path: options.target, sectorSize: options.sectorSize)
  }

  /// Opens `path` read-only and reads its table. An image file with no `sectorSize` is read
  /// at 512 first, and reopened at 4096 when its GPT is found only there.
  static func open(path: String, sectorSize: Int?) throws -> OpenedDevice {
    let target = try Target(path: path, sectorSize: sectorSize)
    let (opened, layout) = try PartitionTable.readReopening(
      target, sizeIsKnown: target.kind == .blockDevice || sectorSize != nil
    ) { size in try Target(path: path, sectorSize: size) }
    return OpenedDevice(target: opened, layout: layout)
  }

  /// The bytes of partition `partition` as a source addressed from zero.
  func source(of partition: Partition) throws -> SourceSlice {
    let start = Int64(clamping: partition.offsetBytes)
    let (end, overflow) = start.addingReportingOverflow(Int64(clamping: partition.sizeBytes))
    guard !overflow, end <= target.byteCount else {
      throw ReadError(
        source: target.path, offset: start, count: Int(clamping: partition.sizeBytes), sectorSize: target.sectorSize,
        kind: .outOfRange(size: target.byteCount))
    }
    return target.slice(start..<end)
  }
}

/// `bootbank info --json`: the stable shape documented in the README.
struct InfoReport: Codable {
  struct TargetView: Codable {
    var path: String
    var kind: String
    var sizeBytes: Int64
    var sectorSize: Int
    /// Where the sector size came from: device, option, default, or gptHeaderFoundOnlyAtOtherSize.
    var sectorSizeSource: String
  }
  struct TableView: Codable {
    var type: String
    /// The table type Linux (sgdisk, libblkid) reads, when it differs from the loader's.
    var linuxType: String
    var esxiBootable: Bool
    @Nullable var diskGUID: String?
    var structures: [StructureVerdict]
    var findings: [Finding]
  }
  struct FilesystemView: Codable {
    var type: String
    @Nullable var label: String?
    @Nullable var serial: String?
  }
  struct PartitionView: Codable {
    var number: Int
    var firstLBA: UInt64
    var lastLBA: UInt64
    var sizeBytes: UInt64
    @Nullable var typeGUID: String?
    @Nullable var mbrType: String?
    var typeName: String
    var name: String
    @Nullable var uniqueGUID: String?
    var attributes: [String]
    var bootable: Bool
    var logical: Bool
    var extendedContainer: Bool
    @Nullable var filesystem: FilesystemView?
    @Nullable var vmwareUUID: String?
    @Nullable var vmwareVolumesUUID: String?
    /// Set when the partition's bytes cannot be read.
    var readError: String?
  }
  var target: TargetView
  var table: TableView
  var partitions: [PartitionView]
  /// "loader" when `partitions` is the table as ESXi's loader reads it, "linux" when the loader
  /// reads none and they are what Linux reads (the backup GPT, say).
  var partitionsSource: String
  var crossCheck: CrossCheck?

  static func make(_ device: OpenedDevice) -> InfoReport {
    let target = device.target
    let layout = device.layout
    let source: String
    switch (target.kind, layout.sectorSizeReason) {
    case (.blockDevice, _): source = "device"
    case (_, .gptHeaderFoundOnlyAtOtherSize): source = "gptHeaderFoundOnlyAtOtherSize"
    default: source = target.sectorSizeSource
    }
    var report = InfoReport(
      target: TargetView(
        path: target.path, kind: target.kind.rawValue, sizeBytes: target.byteCount, sectorSize: layout.sectorSize,
        sectorSizeSource: source),
      table: TableView(
        type: layout.type.rawValue, linuxType: layout.linuxType.rawValue, esxiBootable: layout.esxiBootable,
        diskGUID: layout.diskGUID?.description, structures: layout.structures, findings: layout.findings),
      partitions: [], partitionsSource: "loader", crossCheck: nil)
    let (shown, listing) = layout.listedPartitions
    report.partitionsSource = listing.rawValue
    for partition in shown {
      var view = PartitionView(
        number: partition.number, firstLBA: partition.firstLBA, lastLBA: partition.lastLBA,
        sizeBytes: partition.sizeBytes, typeGUID: partition.typeGUID?.description,
        mbrType: partition.mbrType.map { "0x" + hexByte($0) }, typeName: partition.typeName, name: partition.name,
        uniqueGUID: partition.uniqueGUID?.description, attributes: partition.attributeNames,
        bootable: partition.bootable,
        logical: partition.isLogical, extendedContainer: partition.isExtendedContainer, filesystem: nil,
        vmwareUUID: nil, vmwareVolumesUUID: nil, readError: nil)
      if !partition.isExtendedContainer {
        do {
          let content = try PartitionContent.probe(try device.source(of: partition))
          view.filesystem = content.fileSystem.map {
            FilesystemView(type: $0.type.rawValue, label: $0.label, serial: $0.serial)
          }
          view.vmwareUUID = content.magic?.kernelForm
          view.vmwareVolumesUUID = content.magic?.volumeForm
        } catch {
          view.readError = "\(error)"
        }
      }
      report.partitions.append(view)
    }
    return report
  }

  /// Every finding of the report.
  var findings: [Finding] {
    table.findings + table.structures.flatMap(\.findings)
      + partitions.compactMap { p in p.readError.map { Finding.error("partitionUnreadable", $0, partition: p.number) } }
      + (crossCheck?.findings ?? [])
  }
}
