import ArgumentParser
import DiskFormat
import PartitionTable

/// `bootbank info`: the device, its table with a verdict per structure, and every partition.
struct Info: ReportingCommand {
  var mode: OutputMode { output.mode }

  static let configuration = CommandConfiguration(
    abstract: "Show a device's partition table, as ESXi's loader reads it, and what each partition holds.",
    usage: "bootbank info <target> [--cross-check] [options]",
    discussion: """
      Reads the MBR (with its EBR chain) or the GPT (primary and backup) and judges each \
      structure: protective MBR, primary header, primary entries, backup header, backup entries. \
      ESXi's loader reads only the primary GPT, so a bad primary with a good backup is reported as \
      readable on Linux but NOT bootable by ESXi. For each partition it shows the FAT type and \
      label from the boot sector and the "VMWARE FAT16" UUID from the second sector, when present.

      Examples:
        bootbank info /dev/sdb
        bootbank info disk.img --cross-check --json

      \(ExitStatus.help(ok: "the table and every partition read cleanly", findings: "findings: a damaged structure, an unreadable partition, libblkid", unreadable: "the target cannot be read, or holds no MBR or GPT"))
      """)

  @OptionGroup var target: TargetOptions
  @OptionGroup var output: OutputOptions

  @Flag(name: .long, help: "Also ask libblkid and list where it and bootbank's own parser disagree.")
  var crossCheck = false

  func run() throws {
    let device: OpenedDevice
    do { device = try OpenedDevice.open(target) } catch { throw failure(error, path: target.target) }
    var report = InfoReport.make(device)
    if crossCheck { report.crossCheck = CrossCheck.make(device) }
    if output.json {
      try printJSON(report)
    } else {
      emit(report.render())
    }
    if device.layout.type == .none && !device.layout.esxiBootable { throw CLIError.noTable(target.target) }
    throw ExitStatus.forFindings(report.findings).code
  }
}

extension InfoReport {
  func render() -> String {
    var lines: [String] = []
    let sizeNote =
      target.sectorSizeSource == "gptHeaderFoundOnlyAtOtherSize" ? "GPT found only at 4096" : target.sectorSizeSource
    lines.append(
      "Device: \(target.path) (\(target.kind == "file" ? "image file" : "block device"), \(humanSize(target.sizeBytes)), \(target.sectorSize)-byte sectors: \(sizeNote))"
    )
    switch table.type {
    case "none":
      lines.append(
        table.esxiBootable
          ? "Table:  none for Linux; ESXi's loader reads its MBR records (it checks neither 0x55AA nor BootIndicator)"
          : "Table:  none: no MBR or GPT")
    default:
      var text = "Table:  \(table.type.uppercased())"
      if table.linuxType != table.type { text += " (Linux reads \(table.linuxType.uppercased()))" }
      text +=
        table.esxiBootable ? "; ESXi's loader can read it" : "; NOT bootable by ESXi: its loader cannot read this table"
      lines.append(text)
    }
    for structure in table.structures {
      lines.append("  \(pad(structure.name, 21)) \(structure.ok ? "ok" : "BAD")")
      for finding in structure.findings { lines.append("    \(finding.severity.rawValue): \(finding.message)") }
    }
    for finding in table.findings { lines.append("  \(finding.severity.rawValue): \(finding.message)") }
    if !partitions.isEmpty {
      lines.append("")
      if partitionsSource == "linux" {
        lines.append("Partitions as Linux reads them (ESXi's loader sees none):")
      }
      var rows = [["#", "FIRST LBA", "LAST LBA", "SIZE", "TYPE", "NAME", "CONTENT"]]
      for p in partitions {
        var content: [String] = []
        if let fs = p.filesystem {
          content.append(fs.type + (fs.label.map { " \"\($0)\"" } ?? ""))
        }
        if let uuid = p.vmwareUUID { content.append("VMware FAT \(uuid)") }
        if let error = p.readError { content.append("unreadable: \(error)") }
        var type = p.typeName
        if let mbr = p.mbrType { type = "\(mbr) \(type)" }
        if !p.attributes.isEmpty { type += " [\(p.attributes.joined(separator: ","))]" }
        if p.bootable && p.mbrType != nil { type += " *" }
        rows.append([
          String(p.number), String(p.firstLBA), String(p.lastLBA), humanSize(Int64(clamping: p.sizeBytes)), type,
          p.name.isEmpty ? "-" : p.name, content.isEmpty ? "-" : content.joined(separator: "; "),
        ])
      }
      lines.append(renderTable(rows))
    }
    if let crossCheck {
      lines.append("")
      lines.append(crossCheck.render())
    }
    return lines.joined(separator: "\n")
  }
}
