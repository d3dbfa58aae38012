import ArgumentParser
import BootBanks
import DiskFormat
import DiskIO
import FAT
import Foundation
import PartitionTable

/// The target and partition of the commands that look inside a FAT volume.
struct FATVolumeOptions: ParsableArguments {
  @OptionGroup var target: TargetOptions

  @Option(
    name: .long,
    help:
      "The partition that holds the FAT volume (Linux/ESXi numbering). Without it the target itself is read as a FAT volume."
  )
  var partition: Int?

  @Option(
    name: .long,
    help: "Choose the partition by the role ESXi's loader gives it: bootbank (boots next) or altbootbank.")
  var bank: BankRoleName?

  enum BankRoleName: String, ExpressibleByArgument, CaseIterable {
    case bootbank, altbootbank
  }

  func validate() throws {
    if let partition, partition < 1 {
      throw ValidationError("--partition must be 1 or more, not \(partition)")
    }
    if partition != nil && bank != nil { throw ValidationError("give --partition or --bank, not both") }
  }

  /// Opens the FAT volume: the whole target, or partition `--partition` of its table.
  ///
  /// - Throws: `DiskIOError`, `ReadError`, `FormatError`, or a `FATVolumeOptions.Failure`
  ///   when the partition does not exist or no volume is found.
  func open() throws -> FATVolume {
    let volume = try openVolume()
    if let refusal = LoaderFAT.refusal(of: volume.source) {
      FileHandle.standardError.write(
        Data(
          "bootbank: note: ESXi's loader cannot open this FAT volume (libfat_open: \(refusal)); it is read here as Linux reads it\n"
            .utf8))
    }
    return volume
  }

  func openVolume() throws -> FATVolume {
    if let bank {
      let device = try OpenedDevice.open(target)
      let status = try BankStatus.read(from: device.target, layout: device.layout)
      let role: BankRole = bank == .bootbank ? .bootbank : .altbootbank
      guard let verdict = status.choice.banks.first(where: { $0.role == role }),
        let entry = device.layout.loaderVolume(verdict.partition)
      else { throw Failure.noBank(target: target.target, role: role.rawValue) }
      return try FATVolume(source: try device.source(of: entry))
    }
    guard let number = partition else {
      let target = try target.open()
      do {
        return try FATVolume(source: target)
      } catch let error as FormatError {
        throw Failure.notFAT(target: target.path, detail: error.description)
      }
    }
    let device = try OpenedDevice.open(target)
    guard let entry = device.layout.partition(number) else {
      let numbers = device.layout.partitions.map { String($0.number) }.joined(separator: ", ")
      throw Failure.noSuchPartition(
        target: target.target, number: number, available: numbers.isEmpty ? "none" : numbers)
    }
    return try FATVolume(source: try device.source(of: entry))
  }

  /// Why a volume could not be chosen.
  enum Failure: Error, CustomStringConvertible {
    case noSuchPartition(target: String, number: Int, available: String)
    case notFAT(target: String, detail: String)
    case noBank(target: String, role: String)

    var description: String {
      switch self {
      case .noSuchPartition(let target, let number, let available):
        "\(target): no partition \(number) (partitions: \(available))"
      case .noBank(let target, let role):
        "\(target): no bank gets the role \(role) (see bootbank status)"
      case .notFAT(let target, let detail):
        "\(target): not a FAT volume (\(detail)); if it is a whole disk, choose a partition with --partition N"
      }
    }
  }
}

/// One entry of `ls --json`: the shape issue 3 documents. Absent values are `null`, never
/// missing keys.
struct FATEntryView: Encodable {
  var path: String
  var shortName: String
  var longName: String?
  var size: UInt32
  var isDirectory: Bool
  /// `YYYY-MM-DDTHH:MM:SS`, local time of the volume (FAT has no zone).
  var modified: String?
  /// `RHSVDA` letters, `-` where unset.
  var attributes: String
  var firstCluster: UInt32

  init(_ entry: FATEntry) {
    path = entry.path
    shortName = entry.shortName
    longName = entry.longName
    size = entry.size
    isDirectory = entry.isDirectory
    modified = entry.modified.map { $0.description.replacingOccurrences(of: " ", with: "T") }
    attributes = entry.attributes.letters
    firstCluster = entry.firstCluster
  }

  enum CodingKeys: String, CodingKey {
    case path, shortName, longName, size, isDirectory, modified, attributes, firstCluster
  }

  func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(path, forKey: .path)
    try c.encode(shortName, forKey: .shortName)
    try c.encode(longName, forKey: .longName)
    try c.encode(size, forKey: .size)
    try c.encode(isDirectory, forKey: .isDirectory)
    try c.encode(modified, forKey: .modified)
    try c.encode(attributes, forKey: .attributes)
    try c.encode(firstCluster, forKey: .firstCluster)
  }
}
