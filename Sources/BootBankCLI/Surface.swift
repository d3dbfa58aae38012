import ArgumentParser
import BootBanks
import DiskFormat
import DiskIO
import Foundation
import PartitionTable

/// `bootbank surface`: read every sector and say what each unreadable one hurts.
struct Surface: ReportingCommand {
  var mode: OutputMode { output.mode }

  static let configuration = CommandConfiguration(
    abstract: "Read every sector of a device and map each unreadable one to the file or structure it hurts.",
    usage: "bootbank surface <target> [--mapfile <file>] [--banks-only] [options]",
    discussion: """
      Reads the whole device (or, with --banks-only, the partition tables and every FAT \
      partition) in large pieces; a piece that fails is resumed after the sector the error \
      names, and each bad sector is tried again --retries times. Every unreadable range is \
      mapped to what lies there: a table structure (MBR, GPT header or entries, EBR), the \
      partition, the FAT structure (boot sector, sector 1 with the bank UUID, a FAT copy, the \
      root directory) or the file whose clusters hold it, the bank's role, and whether the \
      bank the loader boots next needs it. Nothing is written to the device.

      --mapfile FILE writes GNU ddrescue's mapfile (ddrescue and ddrescuelog read it); when \
      FILE exists, only what it does not mark finished (+) is read again, so a later run \
      resumes.

      Examples:
        bootbank surface /dev/sdb --mapfile sdb.map
        bootbank surface /dev/sdb --banks-only --json

      \(ExitStatus.help(ok: "every sector read", findings: "unreadable sectors (each mapped to what it hurts)", unreadable: "the target or the mapfile cannot be read"))
      """)

  @OptionGroup var target: TargetOptions
  @OptionGroup var output: OutputOptions

  @Option(
    name: .long, help: ArgumentHelp("A ddrescue mapfile to write (and resume from).", valueName: "file"),
    completion: .file())
  var mapfile: String?

  @Flag(name: .long, help: "Read only the partition tables and the FAT partitions (the banks, the ESP).")
  var banksOnly = false

  @Option(name: .long, help: "How many more times an unreadable sector is tried (0...8).")
  var retries = 1

  func validate() throws {
    guard (0...8).contains(retries) else { throw ValidationError("--retries takes 0...8, not \(retries)") }
  }

  func run() throws {
    // The table may be what is unreadable: then every sector is read, and named by where a
    // GPT disk keeps its structures.
    let source: Target
    var layout: DiskLayout?
    do {
      let device = try OpenedDevice.open(target)
      source = device.target
      layout = device.layout
    } catch let error as ReadError {
      do { source = try target.open() } catch { throw failure(error, path: target.target) }
      layout = nil
      printError(
        "bootbank: warning: \(target.target): the partition table cannot be read (\(error)); reading every sector")
    } catch { throw failure(error, path: target.target) }
    let size = source.byteCount
    var map = RescueMap(size: size)
    if let mapfile, FileManager.default.fileExists(atPath: mapfile) {
      let text: String
      do { text = try String(contentsOfFile: mapfile, encoding: .utf8) } catch {
        throw failure(error, path: mapfile)
      }
      do { map = try RescueMap(parsing: text) } catch {
        throw CLIError(.undecodable, path: mapfile, "not a ddrescue mapfile: \(error)")
      }
      guard map.size == size || map.size == 0 else {
        throw CLIError(
          .undecodable, path: mapfile, "the mapfile covers \(map.size) bytes, the device has \(size): another device?")
      }
      if map.size == 0 { map = RescueMap(size: size) }
    }
    let scope: SurfaceScan.Scope = banksOnly && layout != nil ? .banks : .everything
    let ranges = SurfaceScan.ranges(scope, layout: layout, size: size)
    let meter = ProgressMeter(total: ranges.reduce(Int64(0)) { $0 + Int64($1.count) })
    var reported: Int64 = 0
    SurfaceScan.run(source, ranges: ranges, map: &map, retries: retries) { done, _ in
      meter.advance(done - reported)
      reported = done
    }
    meter.finish()
    if let mapfile {
      let text = map.encoded(commandLine: (["bootbank"] + CommandLine.arguments.dropFirst()).joined(separator: " "))
      do { try AtomicFile.write(Array(text.utf8), to: mapfile) } catch { throw failure(error, path: mapfile) }
    }
    let bad = map.ranges(.bad)
    let status = layout.flatMap { try? BankStatus.read(from: source, layout: $0) }
    let damage = SurfaceMap.describe(bad, source: source, layout: layout, status: status)
    let report = SurfaceReport(
      device: target.target, sizeBytes: size, sectorSize: layout?.sectorSize ?? source.sectorSize,
      scope: scope.rawValue,
      readBytes: map.bytes(.finished), unreadableBytes: map.bytes(.bad), notReadBytes: map.bytes(.nonTried),
      nextBootPartition: status?.choice.nextPartition, damage: damage, mapfile: mapfile)
    if output.json { try printJSON(report) } else { emit(report.render()) }
    throw (bad.isEmpty ? ExitStatus.ok : ExitStatus.findings).code
  }
}

/// `surface --json`: `{"device", "sizeBytes", "sectorSize", "scope", "readBytes",
/// "unreadableBytes", "notReadBytes", "nextBootPartition", "damage": [{"offset", "size",
/// "firstLBA", "lastLBA", "partition", "structure", "path", "role", "neededByNextBoot"}],
/// "mapfile"}`.
struct SurfaceReport: Encodable {
  var device: String
  var sizeBytes: Int64
  var sectorSize: Int
  var scope: String
  var readBytes: Int64
  var unreadableBytes: Int64
  var notReadBytes: Int64
  @Nullable var nextBootPartition: Int?
  var damage: [SurfaceDamage]
  @Nullable var mapfile: String?

  func render() -> String {
    var lines: [String] = []
    let scopeText = scope == "banks" ? "tables and FAT partitions" : "every sector"
    if damage.isEmpty {
      lines.append("\(device): \(scopeText) read, \(humanSize(readBytes)): no unreadable sector")
    } else {
      let needed = damage.filter(\.neededByNextBoot)
      lines.append(
        "\(device): \(humanSize(unreadableBytes)) unreadable in \(damage.count) range(s); \(needed.isEmpty ? "the next boot needs none of them" : "the NEXT BOOT NEEDS \(needed.count) of them")"
      )
      for item in damage {
        let lba = item.firstLBA == item.lastLBA ? "LBA \(item.firstLBA)" : "LBA \(item.firstLBA)-\(item.lastLBA)"
        var what = item.structure
        if let path = item.path { what += " \(path)" }
        if let partition = item.partition {
          what = "partition \(partition)\(item.role.map { " (\($0))" } ?? ""): " + what
        }
        lines.append("  \(lba): \(what)\(item.neededByNextBoot ? "  [needed by the next boot]" : "")")
      }
    }
    if notReadBytes > 0 { lines.append("not read: \(humanSize(notReadBytes)) (outside the scope)") }
    if let mapfile { lines.append("mapfile: \(mapfile)") }
    return lines.joined(separator: "\n")
  }
}
