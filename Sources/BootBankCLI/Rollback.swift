import ArgumentParser
import BootBanks

/// `bootbank rollback`: the offline Shift+R.
struct Rollback: ReportingCommand {
  var mode: OutputMode { write.mode }

  static let configuration = CommandConfiguration(
    abstract: "Roll back to the other bank, as Shift+R at the boot prompt does, without booting.",
    usage: "bootbank rollback <target> [options]",
    discussion: """
      Makes every write the loader makes at a boot where Shift+R is pressed, as bootbank's replay of the loader makes them: the scan's bootstate changes, then the default bank written as INVALID. Refused with the loader's message when there is no alternate bank to roll back to.

      Examples:
        bootbank rollback /dev/sdb --dry-run
        bootbank rollback disk.img --yes --undo before-rollback.undo

      \(WriteExitStatus.helpText)
      """)

  @OptionGroup var target: TargetOptions
  @OptionGroup var write: WriteOptions

  func run() throws {
    try WriteSession.run(target, write) { source, layout in
      try WritePlanner.rollback(source, layout: layout, force: write.force)
    }
  }
}
