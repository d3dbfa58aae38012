import ArgumentParser
import BootBanks

/// `bootbank mark`: a bank's bootstate, written in place.
struct Mark: ReportingCommand {
  var mode: OutputMode { write.mode }

  static let configuration = CommandConfiguration(
    abstract: "Set a bank's bootstate (valid, upgrading or invalid) in place, as the loader writes it.",
    usage: "bootbank mark <target> --bank <bank> --state <state> [options]",
    discussion: """
      Writes the one bootstate digit of the bank's boot.cfg where the loader's own writer finds it ('bootstate' at the start of a line, '=', a digit 0-3, within the first 512 bytes). A bank whose boot.cfg has no such place is refused (the loader would drop it), unless --rewrite: boot.cfg is then rewritten with 'bootstate=' as its first line and every other line byte for byte, through the FAT so that a power cut leaves the old file or the new one (the new contents into free clusters, the new chain in every FAT copy, the directory entry as the one-sector commit, then the old clusters freed; it needs room for both copies at once). The plan, the loader's choice before and after, and the undo file are printed; after the write every sector is read back from the medium, and the status is shown.

      Examples:
        bootbank mark /dev/sdb --bank altbootbank --state invalid --dry-run
        bootbank mark disk.img --bank 6 --state valid --yes
        bootbank mark disk.img --bank 5 --state valid --rewrite --yes

      \(WriteExitStatus.helpText)
      """)

  @OptionGroup var target: TargetOptions
  @Option(name: .long, help: "The bank: a partition number, bootbank or altbootbank.")
  var bank: String
  @Option(name: .long, help: "The new state: valid (0), upgrading (1) or invalid (3).")
  var state: String
  @Flag(
    name: .long,
    help: "Where the loader's writer finds no bootstate digit, rewrite boot.cfg with 'bootstate=' as its first line.")
  var rewrite = false
  @OptionGroup var write: WriteOptions

  static let states: [String: Int32] = ["valid": 0, "upgrading": 1, "invalid": 3]

  func validate() throws {
    guard WritePlanner.BankSelector(bank) != nil else {
      throw ValidationError("--bank takes a partition number, bootbank or altbootbank, not '\(bank)'")
    }
    guard Self.states[state.lowercased()] != nil else {
      throw ValidationError("--state takes valid, upgrading or invalid, not '\(state)'")
    }
  }

  func run() throws {
    let selector = WritePlanner.BankSelector(bank)!
    let value = Self.states[state.lowercased()]!
    try WriteSession.run(target, write) { source, layout in
      try WritePlanner.mark(source, layout: layout, bank: selector, state: value, rewrite: rewrite, force: write.force)
    }
  }
}
