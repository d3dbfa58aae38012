import ArgumentParser

extension BootBankCommand {
  /// Every subcommand, in the order `--help` lists them. One line per command file.
  static let allSubcommands: [any ParsableCommand.Type] = [
    Info.self,
    Scan.self,
    Status.self,
    Verify.self,
    Diff.self,
    ListFiles.self,
    CatFile.self,
    Extract.self,
    CheckFAT.self,
    Surface.self,
    Image.self,
    ChecksumCommand.self,
    Mark.self,
    SetNext.self,
    Rollback.self,
    Sync.self,
    Undo.self,
    Restore.self,
    RepairGPT.self,
  ]
}
