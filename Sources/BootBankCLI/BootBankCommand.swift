import ArgumentParser

/// The root `bootbank` command.
public struct BootBankCommand: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "bootbank",
    abstract: "Read, check and compare the boot banks of an ESXi boot device, from an image or a block device.",
    discussion: """
      bootbank reads the raw device (or an image of it) itself: no mount and no ESXi needed.
      Every command opens its target read-only, except mark, set-next, rollback, repair-gpt and undo, which write through one path: a plan (--dry-run shows it), a confirmation, an undo file, and a read-back from the medium.

      \(ExitStatus.helpText)

      \(WriteExitStatus.helpText)
      """,
    version: "0.1.0",
    subcommands: BootBankCommand.allSubcommands
  )

  public init() {}
}

extension BootBankCommand {
  /// Parses the process arguments, runs the command and exits with its status.
  public static func start() { main() }
}
