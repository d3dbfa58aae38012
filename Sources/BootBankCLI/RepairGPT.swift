import ArgumentParser
import BootBanks

/// `bootbank repair-gpt`: the damaged GPT copy rewritten from the good one.
struct RepairGPT: ReportingCommand {
  var mode: OutputMode { write.mode }

  static let configuration = CommandConfiguration(
    commandName: "repair-gpt",
    abstract:
      "Rewrite the damaged GPT copy (primary or backup) from the good one, and with --fix-pmbr the protective MBR.",
    usage: "bootbank repair-gpt <target> [--from primary|backup] [options]",
    discussion: """
      The entry array is copied sector for sector, then the header is written with its own MyLBA, AlternateLBA and PartitionEntryLBA and both CRCs; the good copy is only read. Refused when neither copy is valid, or when both are valid but differ. The loader reads only the primary GPT: a device whose primary is damaged boots no bank until it is repaired. With --fix-pmbr, a damaged protective MBR (the loader takes a disk for GPT only when MBR record 1 is type 0xEE at LBA 1 with boot flag 0) is rewritten last, in one sector: record 1 protective over the whole disk, the other records empty (a hybrid MBR's records are dropped, and named), the boot code and disk signature kept. Sector 0 holding MBR records and no 0xEE record is refused: it may be the disk's real table.

      Examples:
        bootbank repair-gpt /dev/sdb --dry-run
        bootbank repair-gpt disk.img --from backup --yes
        bootbank repair-gpt /dev/sdb --fix-pmbr --yes

      \(WriteExitStatus.helpText)
      """)

  @OptionGroup var target: TargetOptions
  @Option(name: .long, help: "The copy to repair from: primary or backup (default: the valid one).")
  var from: String?
  @Flag(name: .customLong("fix-pmbr"), help: "Also rewrite a damaged protective MBR as the one the loader accepts.")
  var fixPMBR = false
  @OptionGroup var write: WriteOptions

  func validate() throws {
    if let from, WritePlanner.GPTCopy(rawValue: from) == nil {
      throw ValidationError("--from takes primary or backup, not '\(from)'")
    }
  }

  func run() throws {
    let copy = from.flatMap(WritePlanner.GPTCopy.init(rawValue:))
    try WriteSession.run(target, write) { source, layout in
      try WritePlanner.repairGPT(source, layout: layout, from: copy, fixPMBR: fixPMBR, force: write.force)
    }
  }
}
