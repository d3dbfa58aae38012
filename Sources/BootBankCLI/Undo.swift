import ArgumentParser
import BootBanks
import DiskFormat
import DiskIO

/// `bootbank undo`: the old bytes of an undo file put back.
struct Undo: ReportingCommand {
  var mode: OutputMode { write.mode }

  static let configuration = CommandConfiguration(
    abstract: "Put back the bytes a writing command replaced, from its undo file.",
    usage: "bootbank undo <undo-file> <target> [options]",
    discussion: """
      Reads an undo file written by mark, set-next, rollback, repair-gpt or undo, and writes its old sectors back through the same write path (plan, confirmation, undo file, read-back), last write first. Refused when the target's identity (path, size, sector size, disk GUID) differs from the file's, or when a sector holds neither the written bytes nor the old ones.

      Examples:
        bootbank undo /var/lib/bootbank/undo/mark-sdb-20261206T030000Z.undo /dev/sdb --dry-run

      \(WriteExitStatus.helpText)
      """)

  @Argument(help: "The undo file.")
  var undoFile: String
  @OptionGroup var target: TargetOptions
  @OptionGroup var write: WriteOptions

  func run() throws {
    let record: UndoRecord
    let data: SourceSlice
    do {
      (record, data) = try UndoRecord.read(from: try Target(path: undoFile), path: undoFile)
    } catch { throw WriteSession.refuse(error, path: undoFile) }
    try WriteSession.run(target, write) { source, layout in
      try WritePlanner.undo(record, data: data, source: source, layout: layout, force: write.force)
    }
  }
}
