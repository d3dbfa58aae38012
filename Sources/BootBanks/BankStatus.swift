import BootConfig
import DiskFormat
import PartitionTable

/// Which bank the loader boots next on a device, and why: the partition table as the
/// loader reads it, the candidate banks, and the loader's replayed choice.
public struct BankStatus: Sendable {
  /// The partition table (ESXi's reading: protective-MBR rule, primary GPT only).
  public var layout: DiskLayout
  /// Every partition of a FAT type, with its magic and boot.cfg.
  public var discovered: [BankDiscovery.Result]
  /// The loader's choice at the next boot.
  public var choice: BankChoice
  /// Problems: discovery (unreadable sectors, magic at 512 on 4Kn) and each bank's
  /// boot.cfg lint, attributed to partitions. The table's own findings are in `layout`.
  public var findings: [Finding]

  /// Reads the device and replays the loader.
  ///
  /// - Parameter rollbackRequested: Replay Shift+R at the boot prompt.
  /// - Throws: `ReadError`/`FormatError` when the partition table cannot be read at all.
  public static func read(from source: any ByteSource, rollbackRequested: Bool = false) throws -> BankStatus {
    try read(from: source, layout: PartitionTable.read(from: source), rollbackRequested: rollbackRequested)
  }

  /// Replays the loader on a device whose table is already read (with the device's sector size).
  public static func read(from source: any ByteSource, layout: DiskLayout, rollbackRequested: Bool = false) throws
    -> BankStatus
  {
    // Partitions and the sector-1 magic are in the table's logical sectors.
    let sized: any ByteSource =
      layout.sectorSize == source.sectorSize ? source : SectorSizedSource(source, sectorSize: layout.sectorSize)
    let discovered = BankDiscovery.scan(sized, layout: layout)
    var choice = LoaderReplay.run(discovered.map(\.candidate), rollbackRequested: rollbackRequested)
    // What the loader makes of the table comes from its own walk (`layout.loader`) alone, the
    // same walk the scan above used: no message here can contradict the choice.
    switch layout.loader.scheme {
    case .none:
      choice.messages.insert(
        layout.type == .gpt ? "the loader cannot read the primary GPT" : "the loader cannot read the partition table",
        at: 0)
    case .mbrInsteadOfGPT:
      choice.messages.insert("the loader reads the MBR's records: the primary GPT's entry array fails its CRC", at: 0)
    case .gpt, .mbr:
      break
    }
    var findings = discovered.flatMap(\.findings)
    for verdict in choice.banks {
      guard let config = verdict.config, verdict.status != .notScanned else { continue }
      findings += config.findings(partition: verdict.partition)
    }
    if layout.loader.scheme == .none {
      findings.append(
        .error("partitionTableUnreadableByLoader", "the loader cannot read this partition table, so it finds no bank"))
    }
    return BankStatus(layout: layout, discovered: discovered, choice: choice, findings: findings)
  }

  /// The candidates as the replay takes them.
  public var candidates: [BankCandidate] { discovered.map(\.candidate) }

  /// The next `boots` boots under `outcome` (see `BootSimulation`).
  public func after(boots: Int, outcome: BootSimulation.TrialOutcome) -> [BootSimulation.Step] {
    BootSimulation.run(candidates, boots: boots, outcome: outcome)
  }
}
