import ArgumentParser
import BootBanks
import DiskFormat
import Foundation
import PartitionTable

/// `bootbank verify`: one verdict for the device and one per bank.
struct Verify: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Check a boot device the way ESXi's loader reads it: table, banks, boot.cfg, payloads.",
    discussion: """
      Checks the partition table (the loader reads only the primary GPT), replays the bank
      choice, and for each bank: the FAT volume to fsck.fat depth, boot.cfg, every kernel= and
      modules= file, each payload against the bank's own manifest (imgdb.tgz: SHA-256 of the
      decompressed payload, with ESXi's own per-host exceptions; SHA-1 only where a payload
      has no SHA-256, or with --all-digests), the files no manifest covers by gzip and tar
      integrity, and, with --manifest, every region and file against digests saved earlier by
      `bootbank checksum --manifest` (banks or not). An unreadable sector is reported by LBA
      with the file it hurts. A partition shaped like a bank whose volume is destroyed is named.

      The verdict is ok, degraded (the next boot works but something is wrong, e.g. no sound
      fallback) or broken (the next boot fails or boots a damaged bank).

      \(ExitStatus.helpText)
      """)

  @OptionGroup var target: TargetOptions
  @OptionGroup var output: OutputOptions

  @Option(name: .long, help: "A manifest saved by `bootbank checksum --manifest`: report every file changed since.")
  var manifest: String?

  @Flag(
    name: .long,
    help: "Also check each payload's SHA-1 where imgdb.tgz gives a SHA-256 too (ESXi 6.7's own check; slower).")
  var allDigests = false

  func run() throws {
    let result: Verification
    do {
      let device = try OpenedDevice.open(target)
      let saved = try manifest.map { try ChecksumManifestFile.load($0) }
      result = try BankVerifier.verify(device.target, layout: device.layout, saved: saved, allDigests: allDigests)
      if device.layout.type == .none {
        if output.json { try printJSON(result) } else { print(render(result)) }
        throw ExitStatus.unreadable.code
      }
    } catch let code as ExitCode {
      throw code
    } catch { throw failure(error, path: target.target) }
    if output.json { try printJSON(result) } else { print(render(result)) }
    throw (result.verdict == .ok && result.allFindings.isEmpty ? ExitStatus.ok : ExitStatus.findings).code
  }

  func render(_ result: Verification) -> String {
    var lines = ["Device: \(result.verdict.rawValue.uppercased()): \(result.summary)"]
    for finding in result.findings { lines.append("  \(finding.severity.rawValue): \(finding.message)") }
    for bank in result.banks {
      lines.append("")
      let role = bank.role.map { " (\($0))" } ?? ""
      lines.append(
        "Bank partition \(bank.partition)\(role), build \(bank.build ?? "?"): \(bank.verdict.rawValue.uppercased())")
      let checked = bank.files.filter { $0.check == "manifest" }.count
      let integrity = bank.files.filter { $0.check == "integrity" }.count
      lines.append(
        "  \(bank.files.count) files: \(checked) checked against imgdb.tgz, \(integrity) by gzip/tar integrity")
      for finding in bank.findings {
        lines.append("  \(finding.severity.rawValue): \(finding.message)")
      }
    }
    return lines.joined(separator: "\n")
  }
}

/// Reading a saved checksum manifest.
enum ChecksumManifestFile {
  static func load(_ path: String) throws -> ChecksumManifest {
    let data: Data
    do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
      throw ManifestError(path: path, why: "cannot be read: \(error.localizedDescription)")
    }
    do { return try ChecksumManifest(saved: data) } catch {
      throw ManifestError(path: path, why: "\(error)")
    }
  }

  struct ManifestError: Error, CustomStringConvertible {
    var path: String
    var why: String
    var description: String { "\(path) \(why)" }
  }
}
