import ArgumentParser
import DiskFormat
import FAT

/// `bootbank fsck`: a read-only check of a FAT volume to the depth of `fsck.fat -n`.
struct CheckFAT: ReportingCommand {
  var mode: OutputMode { output.mode }

  static let configuration = CommandConfiguration(
    commandName: "fsck",
    abstract: "Check a FAT volume read-only, to the depth of fsck.fat -n.",
    usage: "bootbank fsck <target> [--partition <n>] [options]",
    discussion: """
      Checks the boot sector, the FAT copies, every cluster chain (loops, shared clusters, free \
      or bad clusters, lengths against sizes), every directory entry (names, long-name slots, \
      '.' and '..', duplicates), lost clusters, the FAT32 FSInfo hints and backup boot sector, \
      the dirty bits and the volume labels. Nothing is written. Unlike fsck.fat, the exit status \
      is 1 whenever anything is found.

      Examples:
        bootbank fsck disk.img --partition 5
        bootbank fsck disk.img --bank altbootbank --json

      \(ExitStatus.help(ok: "clean", findings: "findings", unreadable: "the target cannot be read, or holds no FAT volume there"))
      """)

  @OptionGroup var volume: FATVolumeOptions
  @OptionGroup var output: OutputOptions

  func run() throws {
    var report: FATCheckReport
    do {
      report = try volume.open().check()
    } catch { throw failure(error, path: volume.target.target) }
    if let number = volume.partition { report.findings = report.findings.map { $0.inPartition(number) } }
    if output.json {
      try printJSON(FSCKReport(report))
    } else {
      let label = report.label.map { "\"\($0)\"" } ?? "no label"
      emit(
        "\(volume.target.target)\(volume.partition.map { " partition \($0)" } ?? ""): \(report.fatType), \(label), serial \(report.serial), \(report.clusterCount) clusters, \(report.freeClusters) free"
      )
      for finding in report.findings {
        let place = finding.offset.map { " (byte \($0))" } ?? ""
        emit("  \(finding.severity.rawValue): \(finding.message)\(place)")
      }
      emit(report.findings.isEmpty ? "clean" : "\(report.findings.count) finding(s)")
    }
    throw ExitStatus.forFindings(report.findings).code
  }
}

/// `fsck --json`: `{"fatType", "label", "serial", "clusterCount", "freeClusters", "findings"}`;
/// `label` is `null` when the volume has none.
struct FSCKReport: Encodable {
  var report: FATCheckReport
  init(_ report: FATCheckReport) { self.report = report }

  enum CodingKeys: String, CodingKey {
    case fatType, label, serial, clusterCount, freeClusters, findings
  }

  func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(report.fatType.rawValue, forKey: .fatType)
    try c.encode(report.label, forKey: .label)
    try c.encode(report.serial, forKey: .serial)
    try c.encode(report.clusterCount, forKey: .clusterCount)
    try c.encode(report.freeClusters, forKey: .freeClusters)
    try c.encode(report.findings, forKey: .findings)
  }
}
