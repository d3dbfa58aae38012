import ArgumentParser
import BootBanks

/// `bootbank sync`: the other bank made a verified file-level copy of a good one.
struct Sync: ReportingCommand {
  var mode: OutputMode { write.mode }

  static let configuration = CommandConfiguration(
    commandName: "sync",
    abstract: "Make a bank a file-by-file copy of a good bank, safe against a power cut at any instant.",
    usage: "bootbank sync <target> [--from <bank>] [--to <bank>] [options]",
    discussion: """
      By default copies the bank that boots next to the other bank of the same device. File by file, never a raw partition copy: the target keeps its boot sector (serial, label, geometry), its VMware UUID and its volume label; its FATs, directories and files are written anew, files contiguous in the source's order, with their names, attributes and timestamps. boot.cfg is written as ESXi writes it (bootstate= first), with updated/bootstate chosen so that the source stays the bank that boots next and the target becomes its valid fallback (when the source has updated=1 and the target is scanned first, the source's updated is raised by a one-digit in-place write, and the plan says so). --make-next makes the target boot next; --trial makes it boot next once (bootstate 1), the current bank staying the fallback.

      Order of the writes: the target is hidden from the loader first (its "VMWARE FAT16" signature cleared, one sector), then data, then FATs and directories, then the signature is written back with the same UUID (the commit, one sector); a barrier between each. A power cut at any point leaves the loader booting a bank that verifies.

      Refused unless --force: the source does not verify; the target is the bank that boots next. Always refused: source and target are the same partition; the files do not fit the target (both sizes are printed).

      Examples:
        bootbank sync /dev/sdb --dry-run
        bootbank sync disk.img --from 5 --to 6 --yes
        bootbank sync /dev/sdb --source saved.img --from bootbank --to 6 --yes

      \(WriteExitStatus.helpText)
      """)

  @OptionGroup var target: TargetOptions
  @Option(
    name: .long,
    help: "The source bank: a partition number, bootbank or altbootbank (default: the bank that boots next).")
  var from: String?
  @Option(name: .long, help: "The target bank: a partition number, bootbank or altbootbank (default: the other bank).")
  var to: String?
  @Option(
    name: .long, help: "Read the source bank from this device or image instead of the target.", completion: .file())
  var source: String?
  @Flag(name: .long, help: "The target boots next after the sync.")
  var makeNext = false
  @Flag(name: .long, help: "The target boots next once (bootstate 1); the current bank stays the fallback.")
  var trial = false
  @OptionGroup var write: WriteOptions

  func validate() throws {
    for (name, value) in [("--from", from), ("--to", to)] {
      if let value, WritePlanner.BankSelector(value) == nil {
        throw ValidationError("\(name) takes a partition number, bootbank or altbootbank, not '\(value)'")
      }
    }
    if makeNext && trial { throw ValidationError("--make-next and --trial exclude each other") }
  }

  func run() throws {
    let request = WritePlanner.SyncRequest(
      from: from.flatMap(WritePlanner.BankSelector.init), to: to.flatMap(WritePlanner.BankSelector.init),
      makeNext: makeNext, trial: trial, force: write.force)
    var other: OpenedDevice?
    if let source {
      do { other = try OpenedDevice.open(path: source, sectorSize: nil) } catch {
        throw WriteSession.refuse(error, path: source)
      }
    }
    try WriteSession.run(target, write) { device, layout in
      try WritePlanner.sync(device, layout: layout, from: other.map { ($0.target, $0.layout) }, request)
    }
  }
}
