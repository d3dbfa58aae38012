import Archive
import ArgumentParser
import Checksum
import DiskIO
import Foundation
import TestSupport
import Testing

@testable import BootBankCLI

/// What a new admin meets through the built binary: statuses, one voice for errors, help.
enum NewUser {
  static let binary = BootbankBinary.url?.path ?? "bootbank"

  /// Runs `bootbank ARGS > /dev/full` through a shell.
  static func toFullDisk(_ arguments: [String]) throws -> ProcessResult {
    let quoted = arguments.map { "'\($0)'" }.joined(separator: " ")
    return try run("sh", ["-c", "'\(binary)' \(quoted) > /dev/full"])
  }

  /// Every error line has the house form and no Foundation or Swift error text.
  static func expectOneVoice(_ result: ProcessResult, path: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let lines = result.stderr.split(separator: "\n")
    #expect(lines.count == 1, "\(result.stderr)", sourceLocation: sourceLocation)
    #expect(
      result.stderr.hasPrefix("bootbank: error: \(path): "), "\(result.stderr)", sourceLocation: sourceLocation)
    for raw in ["NSCocoaErrorDomain", "Code=", "DecodingError", "UserInfo", "could not be completed"] {
      #expect(!result.stderr.contains(raw), "\(result.stderr)", sourceLocation: sourceLocation)
    }
  }
}

@Suite("bootbank diff: statuses and names")
struct DiffStatusTests {
  /// Before: "has 2 bootable banks and … has 1" and the usage text, status 64.
  @Test(
    .enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)),
    arguments: ["esxi7-missing-magic.img", "esxi7-three-banks.img"])
  func devicesWithADifferentNumberOfBanksDiffer(other: String) throws {
    let (status, json) = try BootbankBinary.json(["diff", Scenarios.path("esxi7.img"), Scenarios.path(other)])
    #expect(status == 1)
    #expect(json["equal"] as? Bool == false)
    let differences = json["differences"] as? [[String: Any]] ?? []
    #expect(differences.contains { ($0["detail"] as? String)?.contains("has no counterpart") == true })
    let text = try BootbankBinary.run(["diff", Scenarios.path("esxi7.img"), Scenarios.path(other)])
    #expect(text.status == 1)
    #expect(!text.text.contains("USAGE") && !text.stderr.contains("USAGE"))
    #expect(text.text.contains("no counterpart"))
  }

  /// Before: the error named the first file.
  @Test(.enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)))
  func anEmptySecondFileIsNamed() throws {
    let dir = try ScratchDirectory("diff-empty")
    let empty = dir.path("empty.img")
    FileManager.default.createFile(atPath: empty, contents: Data())
    let result = try BootbankBinary.run(["diff", Scenarios.path("esxi7.img"), empty])
    #expect(result.status == 2)
    NewUser.expectOneVoice(result, path: empty)
  }

  /// A file of random bytes holds no table: not a boot device, status 2, named.
  @Test(.enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)))
  func randomBytesAreNoBootDevice() throws {
    let dir = try ScratchDirectory("diff-random")
    let noise = dir.path("noise.img")
    var generator = SplitMix64(state: 7)
    FileManager.default.createFile(atPath: noise, contents: Data((0..<(1 << 20)).map { _ in generator.byte() }))
    let result = try BootbankBinary.run(["diff", Scenarios.path("esxi7.img"), noise])
    #expect(result.status == 2)
    NewUser.expectOneVoice(result, path: noise)
  }

  /// Usage errors come before any I/O: a bad sector size with a missing file is 64, not 2.
  @Test func aBadSectorSizeIsAUsageErrorBeforeAnyRead() throws {
    let result = try BootbankBinary.run(["diff", "/nonexistent/a.img", "/nonexistent/b.img", "--sector-size", "1000"])
    #expect(result.status == 64)
    #expect(result.stderr.contains("--sector-size must be 512 or 4096"))
  }
}

@Suite("bootbank: failed writes to standard output")
struct StandardOutputTests {
  /// Before: status 0 and nothing written.
  @Test(
    .enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)),
    arguments: [
      ["verify", "images/esxi7.img", "--json"], ["info", "images/esxi7.img"], ["status", "images/esxi7.img"],
      ["checksum", "images/esxi7.img", "--partition", "5"],
      ["cat", "images/esxi7.img", "--partition", "5", "/boot.cfg"],
    ])
  func aFullDiskIsStatusTwo(arguments: [String]) throws {
    let absolute = arguments.map { $0.hasPrefix("images/") ? Scenarios.path(String($0.dropFirst(7))) : $0 }
    let result = try NewUser.toFullDisk(absolute)
    #expect(result.status == 2, "\(arguments): \(result.stderr)")
    NewUser.expectOneVoice(result, path: "standard output")
    #expect(result.stderr.contains("No space left on device"))
  }
}

@Suite("bootbank: one voice for errors")
struct ErrorVoiceTests {
  /// Before: NSCocoaErrorDomain Code=4 with its UserInfo.
  @Test(.enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)))
  func aManifestInAMissingFolder() throws {
    let result = try BootbankBinary.run([
      "checksum", Scenarios.path("esxi7.img"), "--partition", "5", "--manifest", "/nonexistent-dir/m.json",
    ])
    #expect(result.status == 2)
    NewUser.expectOneVoice(result, path: "/nonexistent-dir/m.json")
  }

  /// Before: Code=516.
  @Test(.enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)))
  func extractingIntoARegularFile() throws {
    let dir = try ScratchDirectory("extract-file")
    let file = dir.path("afile")
    FileManager.default.createFile(atPath: file, contents: Data("x".utf8))
    let result = try BootbankBinary.run(["extract", Scenarios.path("esxi7.img"), "--partition", "5", "-o", file])
    #expect(result.status == 2)
    NewUser.expectOneVoice(result, path: file)
  }

  /// Before: DecodingError.dataCorrupted … and "The operation could not be completed.".
  @Test(.enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)))
  func badAndMissingManifests() throws {
    let dir = try ScratchDirectory("check-text")
    let text = dir.path("notes.txt")
    try "hello\n".write(toFile: text, atomically: true, encoding: .utf8)
    let garbage = try BootbankBinary.run(["checksum", Scenarios.path("esxi7.img"), "--check", text])
    #expect(garbage.status == 2)
    NewUser.expectOneVoice(garbage, path: text)
    #expect(garbage.stderr.contains("not a bootbank checksum manifest"))
    let missing = dir.path("missing.json")
    let gone = try BootbankBinary.run(["checksum", Scenarios.path("esxi7.img"), "--check", missing])
    #expect(gone.status == 2)
    NewUser.expectOneVoice(gone, path: missing)
    #expect(gone.stderr.contains("No such file or directory"))
  }

  /// Before: "Signature_word at byte 0xa4001fe is 0x0, expected 0xaa55".
  @Test(.enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)))
  func aPartitionWithoutFAT() throws {
    let image = Scenarios.path("esxi7.img")
    let result = try BootbankBinary.run(["ls", image, "--partition", "7"])
    #expect(result.status == 2)
    NewUser.expectOneVoice(result, path: image)
    #expect(result.stderr.contains("partition 7 holds no FAT file system: its type is VMFS-L"))
  }

  /// Before: "Missing value for '--partition'", and two wordings for a missing partition.
  @Test(.enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)))
  func partitionNumbers() throws {
    let image = Scenarios.path("esxi7.img")
    let negative = try BootbankBinary.run(["ls", image, "--partition", "-1"])
    #expect(negative.status == 64)
    #expect(negative.stderr.contains("--partition must be 1 or more, not -1"))
    let after = try BootbankBinary.run(["status", image, "--after", "-1"])
    #expect(after.status == 64)
    #expect(after.stderr.contains("--after takes 1...64, not -1"))
    let size = try BootbankBinary.run(["info", image, "--sector-size", "-512"])
    #expect(size.status == 64)
    #expect(size.stderr.contains("--sector-size must be 512 or 4096, not -512"))
    let ls = try BootbankBinary.run(["ls", image, "--partition", "99"])
    let checksum = try BootbankBinary.run(["checksum", image, "--partition", "99"])
    for result in [ls, checksum] {
      #expect(result.status == 2)
      NewUser.expectOneVoice(result, path: image)
      #expect(result.stderr.contains("no partition 99 (partitions: 1, 5, 6, 7)"), "\(result.stderr)")
    }
  }

  /// Before: nothing on standard output, so a script parsing it read nothing.
  @Test func anErrorIsAlsoJSONWithJSON() throws {
    let result = try BootbankBinary.run(["info", "/nonexistent/x.img", "--json"])
    #expect(result.status == 2)
    let object = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
    let error = try #require(object["error"] as? [String: Any])
    #expect(error["kind"] as? String == "cannotOpen")
    #expect(error["path"] as? String == "/nonexistent/x.img")
    #expect((error["message"] as? String)?.contains("No such file or directory") == true)
    NewUser.expectOneVoice(result, path: "/nonexistent/x.img")
  }

  /// Before: status 2 with the report and no error line; an exit-2 error always has one.
  @Test func aFileWithNoTableSaysSoOnStandardError() throws {
    let dir = try ScratchDirectory("no-table")
    let blank = try dir.sparseFile("blank.img", size: 8 << 20)
    for command in ["info", "status", "verify"] {
      let result = try BootbankBinary.run([command, blank])
      #expect(result.status == 2)
      #expect(result.stderr == "bootbank: error: \(blank): no MBR or GPT: not a boot device\n", "\(command)")
      let json = try BootbankBinary.run([command, blank, "--json"])
      #expect((try? JSONSerialization.jsonObject(with: json.stdout)) != nil, "\(command): one JSON document")
    }
  }

  /// Before: "not a FAT volume (FAT boot sector: BS_jmpBoot …)" for a whole disk.
  @Test(.enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)))
  func aWholeDiskNamesItsPartitions() throws {
    let image = Scenarios.path("esxi7.img")
    let result = try BootbankBinary.run(["fsck", image])
    #expect(result.status == 2)
    NewUser.expectOneVoice(result, path: image)
    #expect(result.stderr.contains("a whole disk (GPT), not a FAT volume"))
    #expect(result.stderr.contains("--partition N (partitions: 1, 5, 6, 7)"))
  }

  /// Before: "record(s) 2 (0xee)"; the record that describes a partition is 1, type 0xef.
  @Test(.enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)))
  func theHybridMBRRecordIsNamedRight() throws {
    let result = try BootbankBinary.run(["info", Scenarios.path("esxi7-hybrid-mbr.img")])
    #expect(result.text.contains("record(s) 1 (0xef) describe partitions"), "\(result.text)")
  }
}

@Suite("bootbank scan: one rule, every key, identity")
struct ScanRuleTests {
  static let keys = [
    "path", "kind", "transport", "model", "serial", "sizeBytes", "sectorSize", "tableType", "partitionCount", "banks",
    "esxiBootDevice", "blkid", "error",
  ]

  /// Before: `scan missing.img` was 2 while a bare scan with an unopenable device was 0.
  @Test func aDeviceThatCannotBeOpenedIsAFinding() throws {
    let result = try BootbankBinary.run(["scan", "/nonexistent/x.img", "--json"])
    #expect(result.status == 1)
    let object = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
    let row = try #require((object["devices"] as? [[String: Any]])?.first)
    for key in ScanRuleTests.keys { #expect(row.keys.contains(key), "missing \(key)") }
    #expect(row["kind"] is NSNull)
    #expect((row["error"] as? String)?.contains("No such file or directory") == true)
  }

  /// Transport, model and serial as lsblk reads them from sysfs, for every disk of this machine.
  @Test(.enabled(if: hasTool("lsblk"), "needs lsblk"))
  func identityMatchesLsblk() throws {
    let (_, json) = try BootbankBinary.json(["scan"])
    let rows = json["devices"] as? [[String: Any]] ?? []
    for row in rows {
      for key in ScanRuleTests.keys { #expect(row.keys.contains(key), "missing \(key)") }
      guard let path = row["path"] as? String, row["error"] is NSNull else { continue }
      let lsblk = try run("lsblk", ["-dnb", "-o", "SIZE,TRAN,MODEL,SERIAL", "--json", path])
      guard lsblk.status == 0,
        let object = try JSONSerialization.jsonObject(with: lsblk.stdout) as? [String: Any],
        let device = (object["blockdevices"] as? [[String: Any]])?.first
      else { continue }
      #expect((device["size"] as? Int).map(Int64.init) == (row["sizeBytes"] as? Int).map(Int64.init), "\(path)")
      let model = (device["model"] as? String)?.trimmingCharacters(in: .whitespaces)
      #expect(model == (row["model"] as? String), "\(path) model")
      let serial = (device["serial"] as? String)?.trimmingCharacters(in: .whitespaces)
      #expect(serial == (row["serial"] as? String), "\(path) serial")
      // Older lsblk leaves TRAN empty for virtio disks; where it names one, it is ours.
      if let transport = device["tran"] as? String { #expect(transport == row["transport"] as? String, "\(path)") }
    }
  }
}

@Suite("bootbank extract: damaged chains")
struct ExtractDamageTests {
  /// Before: status 0 and a corrupt k.b00 without a word.
  @Test(.enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)))
  func aCrossLinkedFileIsExtractedWithAWarning() throws {
    let dir = try ScratchDirectory("extract-crosslink")
    let image = Scenarios.path("esxi7-fat-crosslink.img")
    let result = try BootbankBinary.run(["extract", image, "--partition", "6", "-o", dir.path("out")])
    #expect(result.status == 1)
    let warnings = result.stderr.split(separator: "\n")
    #expect(!warnings.isEmpty)
    #expect(Set(warnings.map { $0.split(separator: ":")[2] }).count == warnings.count, "one warning per file")
    #expect(warnings.allSatisfy { $0.hasPrefix("bootbank: warning: /") && $0.contains("cluster chain") })
    let fsck = try BootbankBinary.json(["fsck", image, "--partition", "6"])
    let damaged = Set(
      (fsck.object["findings"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String }.map { $0.lowercased() })
    #expect(!damaged.isEmpty)
    for path in damaged {
      #expect(result.stderr.lowercased().contains(path), "no warning for \(path)")
      #expect(FileManager.default.fileExists(atPath: dir.path("out") + path), "\(path) not extracted")
    }
    let json = try BootbankBinary.json(["extract", image, "--partition", "6", "-o", dir.path("again")])
    #expect(json.status == 1)
    #expect((json.object["files"] as? [String])?.contains("/boot.cfg") == true)
    #expect((json.object["findings"] as? [[String: Any]])?.isEmpty == false)
  }
}

extension ExtractDamageTests {
  /// cat of the same file: its bytes as far as they read, a warning, status 1.
  @Test(.enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)))
  func catOfACrossLinkedFileWarns() throws {
    let image = Scenarios.path("esxi7-fat-crosslink.img")
    let result = try BootbankBinary.run(["cat", image, "--partition", "6", "/sb.v00"])
    #expect(result.status == 1)
    #expect(!result.stdout.isEmpty)
    #expect(result.stderr.hasPrefix("bootbank: warning: /sb.v00: damaged cluster chain"))
    #expect(result.stderr.contains("shares cluster"))
    #expect(result.stderr.split(separator: "\n").count == 1)
    let clean = try BootbankBinary.run(["cat", image, "--partition", "6", "/boot.cfg"])
    #expect(clean.status == 0 && clean.stderr.isEmpty)
  }

  /// Before: "cannot write" with no reason for a manifest path that is a folder.
  @Test(.enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)))
  func aFolderIsNoManifest() throws {
    let dir = try ScratchDirectory("manifest-folder")
    for arguments in [
      ["checksum", Scenarios.path("esxi7.img"), "--partition", "5", "--manifest", dir.url.path],
      ["verify", Scenarios.path("esxi7.img"), "--manifest", dir.url.path],
    ] {
      let result = try BootbankBinary.run(arguments)
      #expect(result.status == 2)
      NewUser.expectOneVoice(result, path: dir.url.path)
      #expect(result.stderr.contains("Is a directory"), "\(result.stderr)")
    }
  }
}

@Suite("bootbank status answers first")
struct StatusAnswerTests {
  /// Before: `Next boot:` came last, after a 115-column table with the ESP in it.
  @Test(.enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)))
  func theAnswerComesFirstAndFits80Columns() throws {
    let result = try BootbankBinary.run(["status", Scenarios.path("esxi7.img")])
    #expect(result.status == 0)
    let lines = result.text.split(separator: "\n", omittingEmptySubsequences: false)
    let first = String(lines.first ?? "")
    #expect(first.hasPrefix("Next boot: partition 6, build 7.0.3-"), "\(first)")
    #expect(first.hasSuffix(" — fallback partition 5: ok"), "\(first)")
    for line in lines { #expect(line.count <= 80, "\(line.count) columns: \(line)") }
    #expect(!result.text.contains("AFTER SCAN"))
    #expect(result.text.contains("UPDATED: boot.cfg's updated="))
    #expect(!lines.contains { $0.hasPrefix("1 ") }, "the ESP is listed without --verbose")
    let verbose = try BootbankBinary.run(["status", Scenarios.path("esxi7.img"), "--verbose"])
    #expect(verbose.text.split(separator: "\n").contains { $0.hasPrefix("1 ") })
    #expect(verbose.text.contains("partition 1: not a bank"))
  }

  /// Every scenario: 80 columns, and every table row whole (a partition number, then columns
  /// two spaces apart), never broken across lines.
  @Test(.enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)), arguments: Scenarios.names)
  func everyScenarioFits80ColumnsWithWholeRows(image: String) throws {
    let result = try BootbankBinary.run(["status", Scenarios.path(image), "--verbose"])
    let lines = result.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    for line in lines { #expect(line.count <= 80, "\(image): \(line)") }
    guard let header = lines.firstIndex(where: { $0.hasPrefix("PART  ROLE  BUILD") }) else { return }
    for row in lines[(header + 1)...].prefix(while: { !$0.hasPrefix("  ROLE:") }) {
      #expect(
        row.range(of: #"^\d+ +\S+ +\S+ +\S+ +\S+ +\S+ +(yes|no)$"#, options: .regularExpression) != nil,
        "\(image): \(row)")
    }
  }

  /// Before: a tie booted the older build without a word.
  @Test(.enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)))
  func aTieIsExplained() throws {
    let result = try BootbankBinary.run(["status", Scenarios.path("esxi7-tie.img")])
    #expect(result.text.contains("Tie on updated="))
    #expect(result.text.contains("the lower partition wins (the loader's rule)"))
  }

  /// Before: a table header with no rows.
  @Test func noTableNoHeader() throws {
    let dir = try ScratchDirectory("status-blank")
    let blank = try dir.sparseFile("blank.img", size: 8 << 20)
    let result = try BootbankBinary.run(["status", blank])
    #expect(!result.text.contains("PART "))
    #expect(result.text.contains("Next boot: none"))
  }

  /// Before: "12 files: 9 … 2 …" left one file unexplained.
  @Test(.enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)))
  func verifyCountsEveryFile() throws {
    let result = try BootbankBinary.run(["verify", Scenarios.path("esxi7.img")])
    for line in result.text.split(separator: "\n") where line.contains(" files: ") {
      let numbers = line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
      #expect(numbers.count >= 3)
      #expect(numbers.dropFirst().reduce(0, +) == numbers.first, "\(line)")
    }
  }
}

@Suite("bootbank --quiet, help and version")
struct HelpAndQuietTests {
  /// Every subcommand the root command lists, the writing ones too.
  static let commands = BootBankCommand.allSubcommands.map { $0._commandName }

  /// Before: no --quiet.
  @Test(.enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)))
  func quietPrintsNothingButKeepsTheStatus() throws {
    let image = Scenarios.path("esxi7.img")
    for arguments in [
      ["info", image], ["status", image], ["verify", image], ["diff", image], ["ls", image, "--partition", "5"],
      ["cat", image, "--partition", "5", "/boot.cfg"], ["fsck", image, "--partition", "5"],
      ["checksum", image, "--partition", "5"], ["scan", image],
      ["mark", image, "--bank", "5", "--state", "invalid", "--dry-run"],
      ["set-next", image, "--bank", "5", "--dry-run"], ["rollback", image, "--dry-run"],
    ] {
      let loud = try BootbankBinary.run(arguments)
      let quiet = try BootbankBinary.run(arguments + ["--quiet"])
      #expect(quiet.status == loud.status, "\(arguments)")
      #expect(quiet.stdout.isEmpty, "\(arguments)")
      #expect(quiet.stderr.isEmpty, "\(arguments): \(quiet.stderr)")
    }
    let failing = try BootbankBinary.run(["info", "/nonexistent/x.img", "-q"])
    #expect(failing.status == 2)
    #expect(failing.stderr.hasPrefix("bootbank: error: /nonexistent/x.img"))
  }

  @Test func versionAsSgdiskPrintsIt() throws {
    let result = try BootbankBinary.run(["--version"])
    #expect(result.status == 0)
    #expect(result.text == "bootbank version \(BootBankCommand.version)\n")
  }

  /// Before: status 0.
  @Test func anUnknownHelpTopicIsAUsageError() throws {
    let result = try BootbankBinary.run(["help", "nosuch"])
    #expect(result.status == 64)
    #expect(result.stderr.contains("no command \"nosuch\""))
    #expect(try BootbankBinary.run(["help", "status"]).status == 0)
  }

  /// Before: examples in four commands, the whole exit table everywhere, hand-wrapped at 92.
  @Test func everySubcommandHasExamplesItsStatusesAndWrapsAt80() throws {
    for command in HelpAndQuietTests.commands {
      let result = try run(NewUser.binary, [command, "--help"], environment: ["COLUMNS": "80"])
      #expect(result.status == 0)
      #expect(result.text.contains("Example"), "\(command) has no example")
      #expect(result.text.components(separatedBy: "Exit status:").count == 2, "\(command)")
      let tail = result.text.components(separatedBy: "Exit status:").last ?? ""
      let block = tail.components(separatedBy: "64  usage error").first ?? ""
      #expect(tail.contains("64  usage error"))
      if command != "diff" { #expect(!block.contains("for diff"), "\(command) mentions diff") }
      for line in result.text.split(separator: "\n") {
        #expect(line.count <= 80, "\(command): \(line.count) columns: \(line)")
      }
    }
    let scan = try BootbankBinary.run(["scan", "--help"]).text.components(separatedBy: "Exit status:").last ?? ""
    #expect(!scan.contains("  2 "), "scan reports an unopenable device as a finding, never 2")
  }

  @Test func completionOffersFilesForTheTarget() throws {
    let bash = try BootbankBinary.run(["--generate-completion-script", "bash"])
    #expect(bash.status == 0)
    // argument-parser's bash script completes `.file()` arguments with `compgen -f`.
    let status = bash.text.components(separatedBy: "_bootbank_status() {").last ?? ""
    let body = status.components(separatedBy: "\n}\n").first ?? ""
    #expect(body.contains("__bootbank_add_completions -f"), "\(body)")
  }

  /// Before: the first tick read "0.0% 10.7 MiB/s ETA 573s".
  @Test func progressShowsNoRateBeforeThereIsOne() {
    let first = ProgressMeter.line(done: 4 << 20, total: 8 << 30, elapsed: 0.05)
    #expect(!first.contains("ETA") && !first.contains("/s"))
    let later = ProgressMeter.line(done: 1 << 30, total: 8 << 30, elapsed: 2)
    #expect(later.contains("512.0 MiB/s") && later.contains("ETA 14s"))
  }

  @Test func theEnvironmentIsReadOnceIntoSettings() {
    #expect(Settings(environment: [:]) == Settings())
    let set = Settings(environment: ["BOOTBANK_CRC32": "zlib", "BOOTBANK_INFLATE": "zlib", "BOOTBANK_READ": "mmap"])
    #expect(set.crc32 == .zlib && set.inflate == .zlib && set.fileReads == .mmap)
  }
}
