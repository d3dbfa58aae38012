import ArgumentParser
import BootBanks

/// `bootbank set-next`: the bank the loader boots next.
struct SetNext: ReportingCommand {
  var mode: OutputMode { write.mode }

  static let configuration = CommandConfiguration(
    commandName: "set-next",
    abstract: "Make a bank the one the loader boots next (optionally as a one-shot trial).",
    usage: "bootbank set-next <target> --bank <bank> [--trial] [options]",
    discussion: """
      Raises the bank's 'updated' above every other bootable bank's and sets its bootstate to 0 (valid), or with --trial to 1 (upgrading): it boots once as a trial, and when that boot does not commit the current bank boots again. Written in place where one sector changes; when 'updated' gains a digit (9 to 10), the edits span sectors, or the loader's writer cannot find the bootstate digit, boot.cfg is rewritten with 'bootstate=' as its first line and every other line byte for byte, through the FAT so that a power cut leaves the old file or the new one (its size may change: the directory entry and cluster chain follow).

      Examples:
        bootbank set-next /dev/sdb --bank altbootbank --dry-run
        bootbank set-next disk.img --bank 5 --trial --yes

      \(WriteExitStatus.helpText)
      """)

  @OptionGroup var target: TargetOptions
  @Option(name: .long, help: "The bank: a partition number, bootbank or altbootbank.")
  var bank: String
  @Flag(name: .long, help: "Boot it once as a trial (bootstate 1), falling back when the boot does not commit.")
  var trial = false
  @OptionGroup var write: WriteOptions

  func validate() throws {
    guard WritePlanner.BankSelector(bank) != nil else {
      throw ValidationError("--bank takes a partition number, bootbank or altbootbank, not '\(bank)'")
    }
  }

  func run() throws {
    let selector = WritePlanner.BankSelector(bank)!
    try WriteSession.run(target, write) { source, layout in
      try WritePlanner.setNext(source, layout: layout, bank: selector, trial: trial, force: write.force)
    }
  }
}
