import BootConfig
import DiskFormat
import FAT
import PartitionTable

/// Builds the plans of the writing commands from the device's bytes. Pure: reads only.
public enum WritePlanner {
  /// A bank named on the command line.
  public enum BankSelector: Hashable, Sendable, CustomStringConvertible {
    case partition(Int)
    /// The bank the loader boots next.
    case bootbank
    /// The other bank (the fallback).
    case altbootbank

    public init?(_ text: String) {
      switch text.lowercased() {
      case "bootbank": self = .bootbank
      case "altbootbank": self = .altbootbank
      default:
        guard let n = Int(text), n > 0 else { return nil }
        self = .partition(n)
      }
    }

    public var description: String {
      switch self {
      case .partition(let n): "partition \(n)"
      case .bootbank: "bootbank"
      case .altbootbank: "altbootbank"
      }
    }
  }

  /// Why a plan cannot even be made (the device is not readable as a boot device, say).
  public struct PlanError: Error, Hashable, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
  }

  /// The device as a plan starts from it.
  struct Device {
    var source: any ByteSource
    var layout: DiskLayout
    var status: BankStatus

    init(_ source: any ByteSource, layout: DiskLayout) throws {
      guard layout.sectorSize == source.sectorSize else {
        throw PlanError(
          "the partition table is in \(layout.sectorSize)-byte sectors but the target is opened with \(source.sectorSize)-byte sectors; give --sector-size \(layout.sectorSize)"
        )
      }
      self.source = source
      self.layout = layout
      status = try BankStatus.read(from: source, layout: layout)
    }

    var identity: WritePlan.TargetIdentity {
      WritePlan.TargetIdentity(
        path: source.name, sizeBytes: source.byteCount, sectorSize: source.sectorSize,
        diskGUID: layout.diskGUID?.description)
    }

    func resolve(_ bank: BankSelector) throws -> BankVerdict {
      let verdict: BankVerdict?
      switch bank {
      case .partition(let n): verdict = status.choice.verdict(for: n)
      case .bootbank: verdict = status.choice.banks.first { $0.role == .bootbank }
      case .altbootbank: verdict = status.choice.banks.first { $0.role == .altbootbank }
      }
      guard let verdict, verdict.uuid != nil, verdict.config != nil else {
        let banks = status.choice.banks.filter { $0.uuid != nil }.map { String($0.partition) }
        throw PlanError(
          "\(bank) is not a bank on this device (banks: \(banks.isEmpty ? "none" : banks.joined(separator: ", ")))")
      }
      return verdict
    }
  }

  /// The loader's choice on `source` (read with `layout`'s sector size).
  public static func choice(of source: any ByteSource, sectorSize: Int) throws -> WritePlan.Choice {
    let layout = try PartitionTable.read(from: source, sectorSize: sectorSize)
    return WritePlan.Choice(try BankStatus.read(from: source, layout: layout).choice)
  }

  // MARK: boot.cfg bytes to device sectors

  /// The steps that turn partition `partition`'s boot.cfg from `old` into `new` (same length),
  /// in place: every changed sector, in device order, each with its current bytes.
  static func inPlaceWrites(
    _ source: any ByteSource, layout: DiskLayout, partition: Int, old: [UInt8], new: [UInt8], reason: String
  ) throws -> [WritePlan.Step] {
    guard old.count == new.count else {
      throw PlanError(
        "boot.cfg of partition \(partition) would change size (\(old.count) → \(new.count) bytes): it cannot be written in place"
      )
    }
    guard let part = layout.partition(partition) else { throw PlanError("partition \(partition) is not in the table") }
    let start = Int64(clamping: part.offsetBytes)
    let volume = try FATVolume(source: source.slice(start..<(start &+ Int64(clamping: part.sizeBytes))))
    guard let entry = try volume.lookup("/boot.cfg"), !entry.isDirectory, Int(entry.size) == old.count else {
      throw PlanError("partition \(partition): /boot.cfg is not the file that was read")
    }
    let chain = volume.clusterChain(of: entry).clusters
    let clusterSize = Int64(volume.bootSector.bytesPerCluster)
    let sectorSize = Int64(source.sectorSize)
    var changes: [Int64: [(Int, UInt8)]] = [:]
    for i in old.indices where old[i] != new[i] {
      let index = Int(Int64(i) / clusterSize)
      guard index < chain.count else {
        throw PlanError("partition \(partition): the cluster chain of /boot.cfg ends before byte \(i)")
      }
      let device = volume.absoluteOffset(ofCluster: chain[index]) + Int64(i) % clusterSize
      guard device >= start, device < start + Int64(clamping: part.sizeBytes) else {
        throw PlanError("partition \(partition): byte \(i) of /boot.cfg maps outside the partition")
      }
      let sector = device - device % sectorSize
      changes[sector, default: []].append((Int(device - sector), new[i]))
    }
    var steps: [WritePlan.Step] = []
    for sector in changes.keys.sorted() {
      let current = try source.read(at: sector, count: Int(sectorSize))
      var bytes = current
      for (at, value) in changes[sector] ?? [] { bytes[at] = value }
      steps.append(.write(offset: sector, old: current, new: bytes, sectorSize: Int(sectorSize), reason: reason))
    }
    return steps
  }

  /// A plan from stages of boot.cfg edits, each a set of in-place writes followed by a barrier,
  /// with the loader's choice after computed on the planned bytes.
  static func plan(
    command: String, device: Device, stages: [(partition: Int, old: [UInt8], new: [UInt8], reason: String)],
    force: Bool, notes: [String] = []
  ) throws -> WritePlan {
    var steps: [WritePlan.Step] = []
    // Each stage starts from the bytes the stages before it leave (two edits may share a sector).
    let planned = OverlayDisk(base: device.source)
    for stage in stages where stage.old != stage.new {
      // One sector changes: written in place (a sector is atomic). Otherwise the file is
      // rewritten through its FAT, so that a power cut leaves the old file or the new one.
      if try fitsOneSector(
        planned, layout: device.layout, partition: stage.partition, old: stage.old, new: stage.new)
      {
        let writes = try inPlaceWrites(
          planned, layout: device.layout, partition: stage.partition, old: stage.old, new: stage.new,
          reason: stage.reason)
        for write in writes { planned.apply(write.bytes, at: write.offset ?? 0) }
        steps += writes
        steps.append(.barrier("\(stage.reason): on the medium before the next step"))
      } else {
        let rewrite = try rewriteSteps(
          planned, layout: device.layout, partition: stage.partition, old: stage.old, new: stage.new,
          reason: stage.reason)
        for write in rewrite where write.kind == .write { planned.apply(write.bytes, at: write.offset ?? 0) }
        steps += rewrite
      }
    }
    return try finish(command: command, device: device, steps: steps, force: force, notes: notes)
  }

  /// Replays the loader on the planned bytes and applies the rule every plan shares: one after
  /// which no bank boots is refused unless forced.
  static func finish(
    command: String, device: Device, steps: [WritePlan.Step], force: Bool, notes: [String], refusal: String? = nil
  ) throws -> WritePlan {
    let overlay = OverlayDisk(base: device.source)
    for step in steps { overlay.apply(step) }
    let after = try choice(of: overlay, sectorSize: device.layout.sectorSize)
    var plan = WritePlan(
      command: command, target: device.identity, steps: steps, before: WritePlan.Choice(device.status.choice),
      after: after, refusal: refusal, notes: notes)
    if plan.refusal == nil, after.next == nil, !steps.isEmpty, !force {
      plan.refusal =
        "after this plan no bank would boot: the loader would stop with \"\(BankChoice.noHypervisor)\" (--force writes it anyway)"
    }
    return plan
  }

  /// A plan that does nothing and says why.
  static func refused(command: String, device: Device, _ reason: String, notes: [String] = []) throws -> WritePlan {
    try finish(command: command, device: device, steps: [], force: true, notes: notes, refusal: reason)
  }
}
