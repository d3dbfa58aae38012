import DiskFormat
import FAT

/// Finds the loader's candidate banks on a device: partitions of a FAT type, with the
/// VMware FAT magic in their second sector, and their `/boot.cfg`.
///
/// Reading the partition table and the FAT volume belongs to `PartitionTable` and `FAT`;
/// this takes their results (`BankSlot`s, and a closure that reads `/boot.cfg` from a
/// partition) so that it works on any `ByteSource`.
public enum BankDiscovery {
  /// One partition looked at.
  public struct Result: Hashable, Sendable {
    /// What the replay takes.
    public var candidate: BankCandidate
    /// Byte offset in the partition where the UUID's magic was found (the sector size, or
    /// 512 on 4Kn media the 6.7 installer prepared), or `nil`.
    public var uuidOffset: Int?
    /// Problems met while looking (unreadable sectors, magic at 512 on 4Kn media).
    public var findings: [Finding]
  }

  /// Looks at every slot in partition-number order.
  ///
  /// - Parameters:
  ///   - source: The whole device or image.
  ///   - slots: The partition-table entries.
  ///   - readBootConfig: Reads `/boot.cfg` from the FAT volume in a partition; returns
  ///     `nil` when there is none. Errors are reported as findings and the partition is
  ///     then not a bank.
  public static func scan(
    _ source: any ByteSource, slots: [BankSlot],
    readBootConfig: (SourceSlice) throws -> [UInt8]?
  ) -> [Result] {
    var results: [Result] = []
    for slot in slots.sorted(by: { $0.partition < $1.partition }) where slot.mayBeBank {
      var findings: [Finding] = []
      let slice = source.slice(slot.byteRange)
      let (uuid, offset) = readUUID(slice, findings: &findings, partition: slot.partition)
      var bootConfig: [UInt8]?
      if uuid != nil {
        do {
          bootConfig = try readBootConfig(slice)
        } catch {
          findings.append(
            .error(
              "bootConfigUnreadable", "cannot read /boot.cfg: \(error)", partition: slot.partition, path: "/boot.cfg"))
        }
      }
      results.append(
        Result(
          candidate: BankCandidate(partition: slot.partition, uuid: uuid, bootConfig: bootConfig), uuidOffset: offset,
          findings: findings))
    }
    return results
  }

  /// The VMware FAT UUID of a partition: at the sector size (where the loader reads it),
  /// and on 4Kn media also at byte 512 (where the 6.7 installer wrote it), through
  /// `VMwareFATMagic.read`. A UUID found only at 512 on 4Kn media is kept (ESXI.md §2 asks
  /// for both places) with a warning, since esx-boot's `vmfat_get_uuid` reads only
  /// `bytes_per_sector`.
  static func readUUID(_ slice: SourceSlice, findings: inout [Finding], partition: Int) -> (BankUUID?, Int?) {
    do {
      guard let magic = try VMwareFATMagic.read(from: slice) else { return (nil, nil) }
      let relative = Int(magic.offset - absoluteBase(of: slice))
      if relative != slice.sectorSize {
        findings.append(
          .warning(
            "bankUUIDAt512",
            "the VMware FAT magic is at byte \(relative) (as ESXi 6.7's installer wrote it on 4Kn media), not in the \(slice.sectorSize)-byte second sector; esx-boot's vmfat_get_uuid reads only the second sector, so a loader of that code would not count this partition as a bank",
            offset: magic.offset, partition: partition))
      }
      return (BankUUID(magic), relative)
    } catch {
      findings.append(
        .error(
          "sectorUnreadable", "cannot read the second sector: \(error)",
          offset: absoluteBase(of: slice) + Int64(slice.sectorSize), partition: partition))
      return (nil, nil)
    }
  }

  /// The absolute offset of a (possibly nested) slice.
  static func absoluteBase(of slice: SourceSlice) -> Int64 {
    var base = slice.baseOffset
    var inner = slice.base
    var depth = 0
    while let next = inner as? SourceSlice, depth < 16 {
      base &+= next.baseOffset
      inner = next.base
      depth += 1
    }
    return base
  }
}
