import Foundation
import TestSupport
import Testing

/// The package `make deb` builds: its files, its Depends, and that the binary it holds runs
/// with no Swift runtime on the host.
@Suite("Debian package")
struct DebianPackageTests {
  /// The newest `bootbank_<version>_amd64.deb` in the package root.
  static let package: URL? = {
    let root = TestPaths.packageRoot
    let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
    let debs = names.filter { $0.hasPrefix("bootbank_") && $0.hasSuffix("_amd64.deb") }.map {
      root.appendingPathComponent($0)
    }
    func modified(_ url: URL) -> Date {
      (try? FileManager.default.attributesOfItem(atPath: url.path)[.modificationDate] as? Date) ?? .distantPast
    }
    return debs.max { modified($0) < modified($1) }
  }()
  static let missing = "no bootbank_*_amd64.deb in the package root: `make deb` builds it (make test does)"

  @Test(.enabled(if: package != nil, Comment(rawValue: missing)))
  func itHoldsTheBinaryManPageCompletionsAndService() throws {
    let deb = try #require(Self.package)
    let listing = try run("dpkg-deb", ["-c", deb.path])
    #expect(listing.status == 0)
    for path in [
      "./usr/bin/bootbank", "./usr/share/man/man1/bootbank.1.gz",
      "./usr/share/bash-completion/completions/bootbank", "./usr/share/zsh/vendor-completions/_bootbank",
      "./usr/share/fish/vendor_completions.d/bootbank.fish", "./usr/lib/bootbank/bootbank-textfile",
      "./usr/lib/systemd/system/bootbank-textfile.service", "./usr/lib/systemd/system/bootbank-textfile.timer",
      "./usr/share/doc/bootbank/prometheus/bootbank-alerts.yml",
    ] {
      #expect(listing.text.contains(" \(path)\n"), "\(path) in the package")
    }
    #expect(!listing.text.contains("/usr/local"), "the package installs under /usr")
    let name = deb.lastPathComponent
    let version = try run("dpkg-deb", ["-f", deb.path, "Version"]).text.trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(name == "bootbank_\(version)_amd64.deb")
  }

  @Test(.enabled(if: package != nil, Comment(rawValue: missing)))
  func itDependsOnTheLibrariesTheBinaryLoadsAndNoSwiftRuntime() throws {
    let deb = try #require(Self.package)
    let depends = try run("dpkg-deb", ["-f", deb.path, "Depends"]).text
    for library in ["libblkid1", "libisal2", "zlib1g", "libzstd1", "libc6"] {
      #expect(depends.contains(library), "Depends names \(library): \(depends)")
    }
    let root = try TestPaths.scratchDirectory("deb")
    #expect(try run("dpkg-deb", ["-x", deb.path, root.path]).status == 0)
    let binary = root.appendingPathComponent("usr/bin/bootbank").path
    let ldd = try run("ldd", [binary])
    #expect(ldd.status == 0)
    #expect(!ldd.text.contains("libswift"), "no Swift runtime library: \(ldd.text)")
    #expect(!ldd.text.contains("libFoundation"), "Foundation linked in: \(ldd.text)")
    #expect(!ldd.text.contains("not found"))
    // Every library the binary loads belongs to a package Depends names.
    for line in ldd.text.split(separator: "\n") {
      guard let path = line.split(separator: " ").first(where: { $0.hasPrefix("/") }) else { continue }
      let owner = try run("dpkg", ["-S", String(path)])
      let package = owner.text.split(separator: ":").first.map(String.init) ?? ""
      guard owner.status == 0, !package.isEmpty else { continue }
      #expect(depends.contains(package), "\(path) comes from \(package), which Depends should name")
    }
  }

  @Test(
    .enabled(if: package != nil, Comment(rawValue: missing)),
    .enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)))
  func thePackagedBinaryRunsWithoutSwift() throws {
    let deb = try #require(Self.package)
    let root = try TestPaths.scratchDirectory("deb")
    #expect(try run("dpkg-deb", ["-x", deb.path, root.path]).status == 0)
    let binary = root.appendingPathComponent("usr/bin/bootbank").path
    // No Swift on PATH or in the library path, as on a rescue system.
    let environment = ["PATH": "/usr/bin:/bin", "LD_LIBRARY_PATH": ""]
    let version = try run(binary, ["--version"], environment: environment)
    #expect(version.status == 0)
    let control = try run("dpkg-deb", ["-f", deb.path, "Version"]).text.trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(version.text.contains(control))
    let info = try run(binary, ["info", Scenarios.path("esxi7.img")], environment: environment)
    #expect(info.status == 0, "\(info.stderr)")
    #expect(info.text.contains("BOOTBANK1"))
  }

  @Test(.enabled(if: package != nil, Comment(rawValue: missing)))
  func theManPageListsEveryCommandAndTheExitStatuses() throws {
    let deb = try #require(Self.package)
    let root = try TestPaths.scratchDirectory("deb")
    #expect(try run("dpkg-deb", ["-x", deb.path, root.path]).status == 0)
    let page = root.appendingPathComponent("usr/share/man/man1/bootbank.1.gz").path
    let text = try run("sh", ["-c", "zcat '\(page)'"]).text
    let help = try BootbankBinary.run(["--help"]).text
    // Every subcommand --help lists is in the page.
    let lines = help.split(separator: "\n", omittingEmptySubsequences: false)
    let commands = lines.drop { !$0.hasPrefix("SUBCOMMANDS:") }.dropFirst().prefix { !$0.isEmpty }.compactMap {
      line -> String? in
      guard line.hasPrefix("  "), let word = line.split(separator: " ").first else { return nil }
      return word.allSatisfy { $0.isLowercase || $0 == "-" } ? String(word) : nil
    }
    #expect(commands.count >= 10, "subcommands found in --help: \(commands)")
    for command in commands {
      #expect(text.contains(command), "man page mentions \(command)")
    }
    #expect(text.contains("Exit status"))
  }
}
