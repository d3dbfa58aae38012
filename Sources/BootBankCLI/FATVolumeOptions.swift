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
    name: .long, parsing: .unconditional,
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
  /// - Throws: `DiskIOError`, `ReadError`, or a `CLIError` when the partition or bank does not
  ///   exist or holds no FAT volume.
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
      else {
        throw CLIError(.notFound, path: target.target, "no bank gets the role \(role.rawValue) (see bootbank status)")
      }
      return try volume(in: entry, of: device)
    }
    guard let number = partition else {
      let opened = try target.open()
      do {
        return try FATVolume(source: opened)
      } catch let error as FormatError {
        if let device = try? OpenedDevice.open(target), device.layout.type != .none {
          let numbers = device.layout.partitions.map { String($0.number) }.joined(separator: ", ")
          throw CLIError(
            .notFAT, path: target.target,
            "a whole disk (\(device.layout.type.rawValue.uppercased())), not a FAT volume: choose one of its partitions with --partition N (partitions: \(numbers))"
          )
        }
        throw CLIError(.notFAT, path: target.target, "not a FAT volume: \(error.description)")
      }
    }
    let device = try OpenedDevice.open(target)
    guard let entry = device.layout.partition(number) else {
      throw CLIError.noSuchPartition(number, in: device.layout, path: target.target)
    }
    return try volume(in: entry, of: device)
  }

  /// The FAT volume of a partition, or a `CLIError` naming the partition and its type.
  private func volume(in entry: Partition, of device: OpenedDevice) throws -> FATVolume {
    do {
      return try FATVolume(source: try device.source(of: entry))
    } catch is FormatError {
      throw CLIError(
        .notFAT, path: target.target,
        "partition \(entry.number) holds no FAT file system: its type is \(entry.typeName)")
    }
  }
}

extension CLIError {
  /// The one wording for a partition number the table does not have.
  static func noSuchPartition(_ number: Int, in layout: DiskLayout, path: String) -> CLIError {
    let numbers = layout.partitions.map { String($0.number) }.joined(separator: ", ")
    return CLIError(.notFound, path: path, "no partition \(number) (partitions: \(numbers.isEmpty ? "none" : numbers))")
  }
}

/// One entry of `ls --json`: the shape `schemas/ls.schema.json` documents. Absent values are `null`, never
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
