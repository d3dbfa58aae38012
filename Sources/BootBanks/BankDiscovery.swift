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
      var problem: String?
      if uuid != nil {
        do {
          bootConfig = try readBootConfig(slice)
        } catch let refusal as LoaderFAT.Refusal {
          problem = "libfat_open refuses it: \(refusal)"
          findings.append(
            .error(
              "loaderCannotOpenFAT",
              "the loader's FAT library (libfat_open) refuses this volume: \(refusal); Linux may still read it, the loader does not count it as a bank",
              partition: slot.partition))
        } catch {
          problem = "\(error)"
          findings.append(
            .error(
              "bootConfigUnreadable", "cannot read /boot.cfg: \(error)", partition: slot.partition, path: "/boot.cfg"))
        }
      }
      if uuid != nil, bootConfig == nil, problem == nil, let other = linuxOnlyBootConfig(slice) {
        findings.append(
          .error(
            "bootConfigLongNameOnly",
            "Linux finds /boot.cfg (its 8.3 name is \(other)), but the loader looks up the 8.3 name BOOT.CFG in the root directory only (fat_get_shortname, libfat_searchdir) and finds none: not a bank",
            partition: slot.partition, path: "/boot.cfg"))
      }
      results.append(
        Result(
          candidate: BankCandidate(
            partition: slot.partition, uuid: uuid, bootConfig: bootConfig, volumeProblem: problem),
          uuidOffset: offset, findings: findings))
    }
    return results
  }

  /// The VMware FAT UUID of a partition as the loader reads it: `vmfat_get_uuid()` in
  /// `safeboot/vmfat.c` reads the magic at byte offset = bytes per sector, nowhere else.
  /// `VMwareFATMagic.read` also looks at byte 512 on 4Kn media, where ESXi 6.7's installer
  /// wrote it (both places are checked): such a magic is reported with a warning and
  /// its offset, but gives no UUID, so the replay does not count the partition as a bank.
  static func readUUID(_ slice: SourceSlice, findings: inout [Finding], partition: Int) -> (BankUUID?, Int?) {
    do {
      guard let magic = try VMwareFATMagic.read(from: slice) else { return (nil, nil) }
      let relative = Int(magic.offset - absoluteBase(of: slice))
      if relative != slice.sectorSize {
        findings.append(
          .warning(
            "bankUUIDAt512",
            "the VMware FAT magic is at byte \(relative) (as ESXi 6.7's installer wrote it on 4Kn media), not in the \(slice.sectorSize)-byte second sector; esx-boot's vmfat_get_uuid reads only the second sector, so the loader does not count this partition as a bank",
            offset: magic.offset, partition: partition))
        return (nil, relative)
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
