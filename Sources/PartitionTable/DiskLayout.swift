import DiskFormat

/// What a disk's partition table says, as ESXi's boot loader reads it and as Linux reads it.
public struct DiskLayout: Hashable, Sendable, Codable {
  public enum TableType: String, Hashable, Sendable, Codable {
    case gpt, mbr, none
  }

  /// The source's name (path of the image or device).
  public var source: String
  public var sizeBytes: Int64
  /// The logical sector size the table was read with, and why that one.
  public var sectorSize: Int
  public var sectorSizeReason: SectorSizeDetection.Reason
  /// Whole logical sectors in the source.
  public var sectorCount: UInt64
  /// The table as ESXi's loader reads it: GPT only when MBR record 1 is protective
  /// (type 0xEE, StartingLBA 1, BootIndicator 0), otherwise MBR with its EBR chain.
  public var type: TableType
  /// The table as Linux (sgdisk, libblkid) reads it. Differs from `type` when record 1 fails the
  /// loader's rule but a GPT is there.
  public var linuxType: TableType
  /// True when the loader can use this table, by the loader's own walk alone (`loader`), so
  /// that it is never false where the loader finds a volume to scan: for GPT, a protective MBR
  /// and a primary header and entry array that pass `gpt_read_header()` and the entry-array
  /// CRC (the loader never falls back to the backup, and never looks at AlternateLBA, the
  /// usable range or overlaps), or, when that CRC fails, MBR records holding a FAT partition;
  /// for MBR, any volume the loader's walk gives (its problems, such as a broken EBR, are
  /// findings), and where Linux reads a GPT or no table instead, a FAT partition the loader can
  /// reach. Not a judgement on what the partitions hold.
  public var esxiBootable: Bool
  /// One verdict per structure, in disk order.
  public var structures: [StructureVerdict]
  /// The partitions as the loader reads them, by number: listed whenever the table can be read,
  /// even when findings say it is unsound (a partition past the end of a truncated image, say);
  /// empty when it cannot be read (a bad primary header CRC, say).
  public var partitions: [Partition]
  /// The volumes as the loader itself walks the table (`get_max_volume`, `get_volume_info`):
  /// what its bank scan looks at. Differs from `partitions` where the loader's walk differs
  /// from Linux's (an entry array failing its CRC on a hybrid MBR, an EBR chain).
  public var loader = LoaderTable(scheme: .none, maxVolume: 0, volumes: [], findings: [], problem: nil)
  /// The partitions as Linux sees them, when that differs from `partitions` (for instance the
  /// backup GPT's, when the primary is bad); nil when the two agree.
  public var linuxPartitions: [Partition]?
  /// Findings about the disk as a whole (ESXi-versus-Linux disagreements, sector-size hints).
  public var findings: [Finding]
  /// GPT DiskGUID, from the header the partitions come from.
  public var diskGUID: GUID?
  /// Both GPT copies as read (headers, verdicts, partitions), whenever a GPT was looked for: what
  /// a repair or a rewrite starts from. Nil on a disk read as MBR with no GPT on it, or none.
  public var gpt: GPTTable?
  /// MBR UniqueMBRDiskSignature (sfdisk's "disk identifier").
  public var mbrDiskSignature: UInt32?

  /// Every finding: the disk's, then each structure's.
  public var allFindings: [Finding] { findings + structures.flatMap(\.findings) }
  /// True when any finding is an error.
  public var hasErrors: Bool { allFindings.contains { $0.severity == .error } }
  /// The verdict for a structure name (`StructureVerdict.primaryHeader`…).
  public func structure(_ name: String) -> StructureVerdict? { structures.first { $0.name == name } }
  /// The partition with a given number, from `partitions`.
  public func partition(_ number: Int) -> Partition? { partitions.first { $0.number == number } }
  /// The loader's volume with a given number (`loader.volumes`): where the bank scan reads.
  public func loaderVolume(_ number: Int) -> Partition? { loader.volumes.first { $0.number == number } }
}
