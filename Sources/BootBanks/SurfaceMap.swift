import BootConfig
import DiskFormat
import FAT
import PartitionTable

/// What an unreadable byte range of a device hurts: the table structure, the partition, the
/// FAT structure or the file, which bank, and whether the bank the loader boots next needs it.
public struct SurfaceDamage: Hashable, Sendable, Codable {
  /// Absolute byte range (whole sectors).
  public var offset: Int64
  public var size: Int64
  public var firstLBA: UInt64
  public var lastLBA: UInt64
  /// The partition the range lies in, if any.
  public var partition: Int?
  /// What lies there: "protective MBR", "primary GPT entries", "boot sector", "FAT 1",
  /// "root directory", "file", "free space", "unallocated space" …
  public var structure: String
  /// The file (or directory) whose clusters the range holds.
  public var path: String?
  /// `/bootbank` or `/altbootbank` when the partition is a bank.
  public var role: String?
  /// Whether the next boot reads these bytes: the table the loader reads, or the next bank's
  /// boot sector, magic, first FAT, root directory, boot.cfg, kernel or a module.
  public var neededByNextBoot: Bool
}

/// Maps byte ranges of a device to what lies there.
public enum SurfaceMap {
  /// A structure of the partition table and its byte range.
  public struct TableStructure: Hashable, Sendable {
    public var name: String
    public var range: Range<Int64>
    /// Whether ESXi's loader reads it (sector 0, the primary GPT header and entries, EBRs).
    public var readByLoader: Bool
  }

  /// The table's own structures: sector 0, both GPT headers and entry arrays, the EBRs. With
  /// no table read (its sectors may be the unreadable ones), the places a GPT disk keeps them.
  public static func tableStructures(_ layout: DiskLayout?, size: Int64, sectorSize: Int) -> [TableStructure] {
    let sector = Int64(sectorSize)
    var out = [
      TableStructure(
        name: layout?.type == .gpt ? "protective MBR" : "MBR", range: 0..<min(sector, size), readByLoader: true)
    ]
    func add(_ name: String, lba: UInt64, bytes: UInt64, loader: Bool) {
      // LBAs and sizes come from the disk: multiplied and added without overflow.
      guard let first = Int64(exactly: lba), case (let start, false) = first.multipliedReportingOverflow(by: sector),
        start >= 0, start < size, let length = Int64(exactly: bytes), length > 0
      else { return }
      out.append(TableStructure(name: name, range: start..<(start + min(length, size - start)), readByLoader: loader))
    }
    guard let layout else {
      let last = UInt64(max(1, size / sector)) - 1
      let entries = UInt64(16_384 / sectorSize)
      add("primary GPT header (the table could not be read)", lba: 1, bytes: UInt64(sector), loader: true)
      add("primary GPT entries (the table could not be read)", lba: 2, bytes: entries * UInt64(sector), loader: true)
      if last > entries + 2 {
        add(
          "backup GPT entries (the table could not be read)", lba: last - entries, bytes: entries * UInt64(sector),
          loader: false)
        add("backup GPT header (the table could not be read)", lba: last, bytes: UInt64(sector), loader: false)
      }
      return out
    }
    if let gpt = layout.gpt {
      if let header = gpt.primaryHeader {
        add("primary GPT header", lba: header.myLBA, bytes: UInt64(sector), loader: true)
        add("primary GPT entries", lba: header.partitionEntryLBA, bytes: header.entryArrayBytes ?? 0, loader: true)
      } else {
        add("primary GPT header", lba: 1, bytes: UInt64(sector), loader: true)
      }
      if let header = gpt.backupHeader {
        add("backup GPT header", lba: header.myLBA, bytes: UInt64(sector), loader: false)
        add("backup GPT entries", lba: header.partitionEntryLBA, bytes: header.entryArrayBytes ?? 0, loader: false)
      }
    }
    for partition in layout.partitions where partition.isLogical {
      let ebr = partition.entryOffset / sector * sector
      if ebr > 0 {
        out.append(
          TableStructure(name: "EBR of partition \(partition.number)", range: ebr..<ebr + sector, readByLoader: true))
      }
    }
    return out
  }

  /// Whether a partition may hold a FAT volume (a bank, the ESP, a 6.x locker).
  public static func mayHoldFAT(_ partition: Partition) -> Bool {
    BankSlot(partition)?.mayBeBank ?? false
  }

  /// What each of `ranges` hurts, in order; a range that spans several structures or files is
  /// split at their borders.
  ///
  /// - Parameters:
  ///   - source: The device, to read the FAT of each partition a range falls in.
  ///   - status: The loader's choice on the device (roles and the next bank's boot.cfg).
  public static func describe(
    _ ranges: [Range<Int64>], source: any ByteSource, layout: DiskLayout?, status: BankStatus?
  ) -> [SurfaceDamage] {
    let sector = Int64(layout?.sectorSize ?? source.sectorSize)
    let tables = tableStructures(layout, size: source.byteCount, sectorSize: Int(sector))
    var volumes: [Int: IndexedVolume?] = [:]
    var out: [SurfaceDamage] = []
    for range in ranges {
      var pieces: [SurfaceDamage] = []
      // Walk the range sector by sector only at borders: take runs that share a description.
      var offset = range.lowerBound
      while offset < range.upperBound {
        let (damage, runEnd) = describe(
          at: offset, limit: range.upperBound, sector: sector, layout: layout, tables: tables, source: source,
          status: status, volumes: &volumes)
        var piece = damage
        piece.offset = offset
        piece.size = runEnd - offset
        piece.firstLBA = UInt64(offset / sector)
        piece.lastLBA = UInt64((runEnd - 1) / sector)
        if var last = pieces.last, last.structure == piece.structure, last.path == piece.path,
          last.partition == piece.partition, last.offset + last.size == piece.offset
        {
          last.size += piece.size
          last.lastLBA = piece.lastLBA
          pieces[pieces.count - 1] = last
        } else {
          pieces.append(piece)
        }
        offset = runEnd
      }
      out += pieces
    }
    return out
  }

  /// What lies at `offset`, and where that stops being true (at most `limit`).
  static func describe(
    at offset: Int64, limit: Int64, sector: Int64, layout: DiskLayout?, tables: [TableStructure],
    source: any ByteSource, status: BankStatus?, volumes: inout [Int: IndexedVolume?]
  ) -> (SurfaceDamage, Int64) {
    var damage = SurfaceDamage(
      offset: offset, size: 0, firstLBA: 0, lastLBA: 0, partition: nil, structure: "unallocated space", path: nil,
      role: nil, neededByNextBoot: false)
    if let table = tables.first(where: { $0.range.contains(offset) }) {
      damage.structure = table.name
      damage.neededByNextBoot = table.readByLoader && (layout?.esxiBootable ?? true)
      return (damage, min(limit, table.range.upperBound))
    }
    let partitions = (layout?.partitions ?? []).filter { !$0.isExtendedContainer }
    guard
      let partition = partitions.first(where: { $0.byteRange.contains(offset) })
    else {
      // Up to the next partition or table structure.
      let starts =
        partitions.map(\.byteRange.lowerBound).filter { $0 > offset }
        + tables.map(\.range.lowerBound).filter { $0 > offset }
      return (damage, min(limit, starts.min() ?? limit))
    }
    let start = partition.byteRange.lowerBound
    let end = min(limit, partition.byteRange.upperBound)
    damage.partition = partition.number
    let verdict = status?.choice.verdict(for: partition.number)
    damage.role = verdict?.role?.rawValue
    let isNext = status?.choice.nextPartition == partition.number
    damage.structure = "partition data (\(partition.typeName))"
    guard mayHoldFAT(partition) else { return (damage, end) }
    if volumes[partition.number] == nil {
      let volume = try? FATVolume(source: source.slice(partition.byteRange))
      volumes[partition.number] = .some(volume.map(IndexedVolume.init))
    }
    guard let indexed = volumes[partition.number] ?? nil else {
      damage.structure = "FAT volume (its boot sector or FAT cannot be read)"
      damage.neededByNextBoot = isNext
      return (damage, end)
    }
    let boot = indexed.volume.bootSector
    let relative = offset - start
    let bytesPerSector = Int64(boot.bytesPerSector)
    func until(_ relativeEnd: Int64) -> Int64 { min(end, start + relativeEnd) }
    if relative < bytesPerSector {
      damage.structure = "boot sector"
      damage.neededByNextBoot = isNext
      return (damage, until(bytesPerSector))
    }
    if relative < 2 * bytesPerSector {
      damage.structure = "sector 1 (VMware FAT magic and bank UUID)"
      damage.neededByNextBoot = isNext
      return (damage, until(2 * bytesPerSector))
    }
    if relative < boot.fatOffset(copy: 0) {
      damage.structure = "reserved sectors"
      return (damage, until(boot.fatOffset(copy: 0)))
    }
    for copy in 0..<boot.fatCount where relative < boot.fatOffset(copy: copy) + boot.fatByteCount {
      damage.structure = "FAT \(copy + 1)"
      damage.neededByNextBoot = isNext && copy == 0
      return (damage, until(boot.fatOffset(copy: copy) + boot.fatByteCount))
    }
    if relative < boot.dataOffset {
      damage.structure = "root directory"
      damage.neededByNextBoot = isNext
      return (damage, until(boot.dataOffset))
    }
    let clusterBytes = Int64(boot.bytesPerCluster)
    let cluster = UInt32(clamping: (relative - boot.dataOffset) / clusterBytes + 2)
    let clusterEnd = until(boot.dataOffset + (Int64(cluster) - 1) * clusterBytes)
    guard cluster <= boot.clusterCount + 1 else {
      damage.structure = "past the last cluster"
      return (damage, end)
    }
    if let owner = indexed.owner(of: cluster) {
      damage.structure = owner.isDirectory ? "directory" : "file"
      damage.path = owner.path
      if isNext, let config = verdict?.config {
        damage.neededByNextBoot = owner.isDirectory || needed(owner.path, by: config)
      }
    } else {
      damage.structure = "free space"
    }
    return (damage, clusterEnd)
  }

  /// A FAT volume with, built on first use, the entry that owns each allocated cluster (one
  /// walk of the tree; memory bounded by the cluster count).
  final class IndexedVolume {
    let volume: FATVolume
    private var owners: [UInt32: Int]?
    private var entries: [FATEntry] = []

    init(_ volume: FATVolume) { self.volume = volume }

    func owner(of cluster: UInt32) -> FATEntry? {
      if owners == nil {
        var index: [UInt32: Int] = [:]
        func add(_ entry: FATEntry) {
          entries.append(entry)
          for c in volume.clusterChain(of: entry).clusters where index[c] == nil { index[c] = entries.count - 1 }
        }
        if volume.type == .fat32 { add(volume.root) }
        _ = try? volume.walk { entry in if entry.firstCluster >= 2 { add(entry) } }
        owners = index
      }
      return owners?[cluster].map { entries[$0] }
    }
  }

  /// Whether the loader reads `path` to boot a bank with `config`: boot.cfg, the kernel, a module.
  static func needed(_ path: String, by config: BootConfig) -> Bool {
    func key(_ text: String) -> String { text.split(separator: "/").last.map { String($0).uppercased() } ?? "" }
    let name = key(path)
    if name == "BOOT.CFG" { return true }
    let files = ([config.kernelItem].compactMap { $0 } + config.modules).map { key($0.path) }
    return files.contains(name)
  }
}
