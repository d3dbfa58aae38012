import ArgumentParser
import Foundation

/// The root `bootbank` command.
public struct BootBankCommand: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "bootbank",
    abstract: "Read, check and compare the boot banks of an ESXi boot device, from an image or a block device.",
    discussion: """
      bootbank reads the raw device (or an image of it) itself: no mount and no ESXi needed. \
      Every command opens its target read-only, except mark, set-next, rollback, repair-gpt and undo, \
      which write through one path: a plan (--dry-run shows it), a confirmation, an undo file, and a \
      read-back from the medium. Undo files go to /var/lib/bootbank/undo/ as root, else to \
      $XDG_STATE_HOME/bootbank/undo/ (~/.local/state/bootbank/undo/); --undo FILE names one, and \
      `bootbank undo FILE TARGET` puts the old bytes back. image reads the target and writes \
      only its OUT file and the bmap beside it.

      \(ExitStatus.helpText)

      \(WriteExitStatus.rootHelpText)
      """,
    version: "bootbank version \(BootBankCommand.version)",
    subcommands: BootBankCommand.allSubcommands
  )

  static let version = "0.1.0"

  public init() {}
}

extension BootBankCommand {
  /// Parses the process arguments, runs the command and exits with its status.
  ///
  /// Every error that reaches the user goes through `CLIError`: one line on standard error,
  /// and with `--json` an `{"error": …}` object on standard output. A write to standard output
  /// that fails is status 2 whatever the command found.
  public static func start() {
    Settings(environment: ProcessInfo.processInfo.environment).apply()
    let arguments = Array(CommandLine.arguments.dropFirst())
    if let topic = unknownHelpTopic(arguments) {
      printError("bootbank: error: no command \"\(topic)\" (commands: \(commandNames.joined(separator: ", ")))")
      printError("See 'bootbank --help'.")
      Foundation.exit(ExitStatus.usage.rawValue)
    }
    var command: any ParsableCommand
    do { command = try parseAsRoot(arguments) } catch { exit(withError: error) }
    let mode = (command as? any ReportingCommand)?.mode ?? OutputMode()
    OutputMode.current = mode
    if mode.quiet { StandardOutput.silence() }
    var status: Int32
    do {
      try command.run()
      status = ExitStatus.ok.rawValue
    } catch let code as ExitCode {
      status = code.rawValue
    } catch let error as ValidationError {
      exit(withError: error)
    } catch let error as CleanExit {
      exit(withError: error)
    } catch let error where String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") {
      // Help, version and usage errors that argument-parser raises while running (`help X`).
      exit(withError: error)
    } catch {
      let error = failure(error)
      printError(error.description)
      if error.kind == .cannotWrite && error.path == StandardOutput.name { StandardOutput.failure = nil }
      if mode.json && !mode.quiet && !error.reportPrinted { try? printJSON(ErrorReport(error: error)) }
      status = ExitStatus.unreadable.rawValue
    }
    if let error = StandardOutput.finish() {
      printError(error.description)
      status = ExitStatus.unreadable.rawValue
    }
    Foundation.exit(status)
  }

  /// `{"error": {"kind", "message", "path"}}`.
  struct ErrorReport: Encodable { var error: CLIError }

  static var commandNames: [String] {
    allSubcommands.map { $0._commandName }
  }

  /// For `bootbank help NAME…`: the first name that is no command, if any.
  static func unknownHelpTopic(_ arguments: [String]) -> String? {
    guard arguments.first == "help", arguments.count > 1 else { return nil }
    let topic = arguments[1]
    guard !topic.hasPrefix("-") else { return nil }
    return commandNames.contains(topic) || topic == "help" ? nil : topic
  }
}
