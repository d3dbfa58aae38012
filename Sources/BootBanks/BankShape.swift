import DiskFormat
import FAT
import PartitionTable

/// A partition the loader skips although it is shaped like a boot bank: where ESXi's
/// installers put banks, or named like one, but holding no bank now.
///
/// ESXi's installers put the banks in partitions 5 and 6 (a 7.x device may briefly hold a
/// third, `BOOTBANK3`), with GPT names `BANK1`/`BANK2` (5.x/6.x) or `BOOTBANK1`/`BOOTBANK2`
/// (7.x and later). Such a partition whose FAT volume cannot be read, or that holds files but
/// no `/boot.cfg`, most likely held a bank that is now destroyed: that is a finding, and the
/// device's verdict names it. One that holds an empty volume is an empty bank (as after a
/// fresh install): named, no finding. The cases a bank's own findings already cover (no
/// magic beside a sound boot.cfg, a boot.cfg the loader rejects, an unreadable second
/// sector) are left to them.
public struct BankShape: Hashable, Sendable {
  /// What the partition holds now.
  public enum Remains: Hashable, Sendable {
    /// Its FAT volume cannot be read (the boot sector or FAT is overwritten).
    case volumeUnreadable(String)
    /// A readable volume with files but no `/boot.cfg`.
    case noBootConfig(files: Int)
    /// A readable, empty volume.
    case empty
  }

  public var partition: Int
  /// Why it looks like a bank: "GPT name BOOTBANK2", "partition 6 of a basic data type", …
  public var signs: [String]
  public var remains: Remains
  /// The error naming a destroyed bank (nil for an empty bank).
  public var finding: Finding?

  /// Partition numbers ESXi's installers give the banks.
  static let bankNumbers: Set<Int> = [5, 6]

  /// Whether a GPT partition name is one ESXi's installers give a bank.
  static func isBankName(_ name: String) -> Bool {
    let upper = name.uppercased()
    for prefix in ["BOOTBANK", "BANK"] where upper.hasPrefix(prefix) {
      return upper.dropFirst(prefix.count).allSatisfy(\.isNumber)
    }
    return false
  }

  /// Why `partition` looks like a bank (empty: it does not). The VMware FAT magic alone is
  /// no sign (the ESP and a 6.x store carry it too), but it is named beside the others.
  static func signs(of partition: Partition, hasMagic: Bool) -> [String] {
    guard let slot = BankSlot(partition), slot.mayBeBank, slot.type != .gpt(BankSlot.efiSystem),
      slot.type != .mbr(0xEF)
    else { return [] }
    var signs: [String] = []
    if partition.typeGUID != nil, isBankName(partition.name) { signs.append("GPT name \(partition.name)") }
    if bankNumbers.contains(partition.number) {
      signs.append("partition \(partition.number) of type \(partition.typeName), where ESXi puts its banks")
    }
    if !signs.isEmpty, hasMagic { signs.append("the VMware FAT magic in its second sector") }
    return signs
  }

  /// Every bank-shaped partition that the loader does not count as a bank and that no other
  /// finding explains.
  public static func survey(_ source: any ByteSource, layout: DiskLayout, status: BankStatus) -> [BankShape] {
    // A partition with a boot.cfg is the loader's business: a bank, or one its findings explain.
    let explained = Set(status.discovered.filter { $0.candidate.bootConfig != nil }.map(\.candidate.partition))
    let magic = Set(status.discovered.filter { $0.candidate.uuid != nil }.map(\.candidate.partition))
    var shapes: [BankShape] = []
    for partition in layout.partitions.sorted(by: { $0.number < $1.number }) where !explained.contains(partition.number)
    {
      let signs = signs(of: partition, hasMagic: magic.contains(partition.number))
      guard !signs.isEmpty, let range = ChecksumManifest.byteRange(of: partition.number, in: source, layout: layout)
      else { continue }
      let remains: Remains
      do {
        let volume = try FATVolume(source: source.slice(range))
        let root = try volume.list(path: "/").filter { !$0.attributes.contains(.volumeLabel) }
        if try volume.lookup("/boot.cfg") != nil { continue }  // bankMagicMissing says it
        remains = root.isEmpty ? .empty : .noBootConfig(files: root.count)
      } catch {
        remains = .volumeUnreadable("\(error)")
      }
      shapes.append(make(partition, signs: signs, remains: remains, at: range.lowerBound, layout: layout))
    }
    return shapes
  }

  static func make(_ partition: Partition, signs: [String], remains: Remains, at offset: Int64, layout: DiskLayout)
    -> BankShape
  {
    let why: String
    switch remains {
    case .empty:
      return BankShape(partition: partition.number, signs: signs, remains: remains, finding: nil)
    case .volumeUnreadable(let error): why = "its FAT volume cannot be read (\(error))"
    case .noBootConfig(let files): why = "its FAT volume holds \(files) files but no /boot.cfg"
    }
    let finding = Finding.error(
      "bankDestroyed",
      "partition \(partition.number) is shaped like a boot bank (\(signs.joined(separator: "; "))) but \(why): the loader skips it; the bank it held is destroyed",
      offset: offset, lba: partition.firstLBA, partition: partition.number)
    return BankShape(partition: partition.number, signs: signs, remains: remains, finding: finding)
  }
}
