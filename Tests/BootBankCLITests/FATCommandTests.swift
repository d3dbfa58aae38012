import Foundation
import TestSupport
import Testing

/// `bootbank ls`, `cat`, `extract` and `fsck` on volumes made here by mkfs.fat and mtools,
/// checked against mtools itself, and on damaged corpus volumes.
@Suite("bootbank ls, cat, extract, fsck", .serialized)
struct FATCommandTests {
  static let toolsPresent = hasTool("mkfs.fat") && hasTool("mcopy") && hasTool("sgdisk")

  /// A GPT disk whose partition 1 (at 1 MiB) holds a FAT16 volume with a small tree written
  /// by `mcopy -s -m`; returns the disk and the mtools image spec of the volume.
  static func makeDisk(_ dir: URL) throws -> (disk: String, spec: String, tree: URL) {
    let disk = dir.appendingPathComponent("disk.img").path
    try run("truncate", ["-s", "40M", disk])
    try #require(try run("sgdisk", ["-n", "1:2048:67583", "-t", "1:0700", disk]).status == 0)
    // 65536 sectors of 512 bytes = 32 MiB at offset 2048.
    let mkfs = try run(
      "mkfs.fat", ["-F", "16", "--offset", "2048", "-n", "BANKA", "-i", "1234ABCD", disk, "32768"])
    try #require(mkfs.status == 0, "\(mkfs.stderr)")
    let tree = dir.appendingPathComponent("tree")
    let fm = FileManager.default
    try fm.createDirectory(at: tree.appendingPathComponent("Sub Dir/deeper"), withIntermediateDirectories: true)
    try Data("kernelopt=runweasel\n".utf8).write(to: tree.appendingPathComponent("boot.cfg"))
    try Data((0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }).write(
      to: tree.appendingPathComponent("Sub Dir/Big File.bin"))
    try Data("ünïcödé\n".utf8).write(to: tree.appendingPathComponent("Sub Dir/deeper/Ärger.txt"))
    try Data().write(to: tree.appendingPathComponent("EMPTY.TXT"))
    // Fixed times, so extracted mtimes can be compared.
    for path in [
      "boot.cfg", "Sub Dir/Big File.bin", "Sub Dir/deeper/Ärger.txt", "EMPTY.TXT", "Sub Dir/deeper", "Sub Dir",
    ] {
      try run("touch", ["-d", "2024-03-05 06:07:08", tree.appendingPathComponent(path).path])
    }
    let spec = disk + "@@1M"
    let items = try fm.contentsOfDirectory(atPath: tree.path).sorted().map { tree.appendingPathComponent($0).path }
    let copy = try run("mcopy", ["-i", spec, "-s", "-m"] + items + ["::/"])
    try #require(copy.status == 0, "\(copy.stderr)")
    return (disk, spec, tree)
  }

  @Test("ls -R --json lists the tree mtools wrote, with paths from the root", .enabled(if: toolsPresent))
  func listRecursive() throws {
    let dir = try TestPaths.scratchDirectory("fat-ls")
    let (disk, _, _) = try Self.makeDisk(dir)
    let (status, object) = try BootbankBinary.json(["ls", disk, "--partition", "1", "/", "-R"])
    #expect(status == 0)
    let entries = object["entries"] as? [[String: Any]] ?? []
    let paths = entries.compactMap { $0["path"] as? String }
    #expect(
      Set(paths) == [
        "/boot.cfg", "/EMPTY.TXT", "/Sub Dir", "/Sub Dir/Big File.bin", "/Sub Dir/deeper", "/Sub Dir/deeper/Ärger.txt",
      ])
    let big = try #require(entries.first { $0["path"] as? String == "/Sub Dir/Big File.bin" })
    #expect(big["size"] as? Int == 70_000)
    #expect(big["isDirectory"] as? Bool == false)
    #expect(big["shortName"] as? String == "BIGFIL~1.BIN")
    #expect(big["modified"] as? String == "2024-03-05T06:07:08")
    #expect(big["attributes"] as? String == "-----A")
    #expect((big["firstCluster"] as? Int ?? 0) >= 2)
    let sub = try #require(entries.first { $0["path"] as? String == "/Sub Dir" })
    #expect(sub["isDirectory"] as? Bool == true)
    #expect(sub.keys.contains("longName"))
  }

  @Test("ls of one directory, case-insensitive, and of a missing path", .enabled(if: toolsPresent))
  func listOne() throws {
    let dir = try TestPaths.scratchDirectory("fat-ls1")
    let (disk, _, _) = try Self.makeDisk(dir)
    let result = try BootbankBinary.run(["ls", disk, "--partition", "1", "/sub dir"])
    #expect(result.status == 0)
    #expect(result.text.split(separator: "\n").sorted() == ["Big File.bin", "deeper/"])
    let missing = try BootbankBinary.run(["ls", disk, "--partition", "1", "/nothing"])
    #expect(missing.status == 2)
    #expect(missing.stderr.contains("/nothing"))
    let noPartition = try BootbankBinary.run(["ls", disk, "--partition", "7"])
    #expect(noPartition.status == 2)
    #expect(noPartition.stderr.contains("no partition 7"))
    #expect(try BootbankBinary.run(["ls", disk, "--partition", "0"]).status == 64)
  }

  @Test("cat writes the bytes mtype writes", .enabled(if: toolsPresent && hasTool("mtype")))
  func cat() throws {
    let dir = try TestPaths.scratchDirectory("fat-cat")
    let (disk, spec, _) = try Self.makeDisk(dir)
    for path in ["/boot.cfg", "/Sub Dir/Big File.bin", "/Sub Dir/deeper/Ärger.txt", "/EMPTY.TXT"] {
      let ours = try BootbankBinary.run(["cat", disk, "--partition", "1", path])
      #expect(ours.status == 0, "\(ours.stderr)")
      let theirs = try run("mtype", ["-i", spec, "::" + path])
      #expect(ours.stdout == theirs.stdout, "\(path)")
    }
  }

  @Test("extract gives what mcopy -s -m gives, byte for byte and time for time", .enabled(if: toolsPresent))
  func extract() throws {
    let dir = try TestPaths.scratchDirectory("fat-extract")
    let (disk, spec, _) = try Self.makeDisk(dir)
    let ours = dir.appendingPathComponent("ours")
    let theirs = dir.appendingPathComponent("theirs")
    let result = try BootbankBinary.run(["extract", disk, "--partition", "1", "-o", ours.path])
    #expect(result.status == 0, "\(result.stderr)")
    try FileManager.default.createDirectory(at: theirs, withIntermediateDirectories: true)
    try #require(try run("mcopy", ["-i", spec, "-s", "-m", "-n", "::/*", theirs.path]).status == 0)
    let diff = try run("diff", ["-r", ours.path, theirs.path])
    #expect(diff.status == 0, "\(diff.text)")
    // Same modification times (mtools and we both read FAT times as UTC here).
    let list = { (root: URL) throws -> String in
      try run(
        "sh", ["-c", "cd \"$1\" && find . -type f -printf '%p %TY-%Tm-%Td %TH:%TM:%.2TS\\n' | sort", "sh", root.path]
      ).text
    }
    #expect(try list(ours) == list(theirs))
    // One file into a new directory.
    let one = dir.appendingPathComponent("one")
    #expect(
      try BootbankBinary.run(["extract", disk, "--partition", "1", "/sub dir/deeper", "-o", one.path]).status == 0)
    #expect(FileManager.default.fileExists(atPath: one.appendingPathComponent("deeper/Ärger.txt").path))
  }

  @Test("fsck: clean is 0; --json has the summary and no findings", .enabled(if: toolsPresent))
  func fsckClean() throws {
    let dir = try TestPaths.scratchDirectory("fat-fsck")
    let (disk, _, _) = try Self.makeDisk(dir)
    let (status, object) = try BootbankBinary.json(["fsck", disk, "--partition", "1"])
    #expect(status == 0)
    #expect(object["fatType"] as? String == "FAT16")
    #expect(object["label"] as? String == "BANKA")
    #expect(object["serial"] as? String == "1234-ABCD")
    #expect((object["clusterCount"] as? Int ?? 0) > 0)
    #expect((object["freeClusters"] as? Int ?? 0) > 0)
    #expect((object["findings"] as? [Any])?.isEmpty == true)
    // A target that is not a FAT volume: status 2.
    let notFAT = try BootbankBinary.run(["fsck", disk])
    #expect(notFAT.status == 2)
    #expect(notFAT.stderr.contains("--partition"))
  }

  @Test("fsck: a damaged corpus volume is status 1 with its findings", .enabled(if: Corpus.root != nil))
  func fsckDamaged() throws {
    let image = try Corpus.decompressed("dosfstools/images/check-circular_chain.damaged.img.xz")
    let (status, object) = try BootbankBinary.json(["fsck", image.path])
    #expect(status == 1)
    let findings = object["findings"] as? [[String: Any]] ?? []
    #expect(findings.contains { $0["kind"] as? String == "circularChain" && $0["path"] as? String == "/TEST4CLS.TXT" })
    // cat refuses the file whose chain loops, and writes nothing.
    let cat = try BootbankBinary.run(["cat", image.path, "/TEST4CLS.TXT"])
    #expect(cat.status == 2)
    #expect(cat.stdout.isEmpty)
    #expect(cat.stderr.contains("loops"))
  }

  @Test(
    "ls reads a volume the loader cannot open as Linux does, and says the loader cannot (libfat_open)",
    .enabled(if: hasTool("mkfs.fat") && hasTool("mcopy")))
  func loaderCannotOpen() throws {
    let dir = try TestPaths.scratchDirectory("fat-loader-refuses")
    let image = dir.appendingPathComponent("fat4096.img").path
    // 4096-byte FAT sectors on an image read with 512-byte sectors: esx-boot's libfat_open
    // refuses a BPB_BytsPerSec that differs from the device's.
    let mkfs = try run("mkfs.fat", ["-C", "-F", "16", "-S", "4096", "-i", "1234ABCD", image, "65536"])
    try #require(mkfs.status == 0, "\(mkfs.stderr)")
    let file = dir.appendingPathComponent("BOOT.CFG")
    try Data("bootstate=0\n".utf8).write(to: file)
    try #require(try run("mcopy", ["-i", image, file.path, "::/"]).status == 0)
    let refused = try BootbankBinary.run(["ls", image, "/"])
    #expect(refused.status == 0, "\(refused.stderr)")
    #expect(String(decoding: refused.stdout, as: UTF8.self).contains("BOOT.CFG"))
    #expect(refused.stderr.contains("ESXi's loader cannot open this FAT volume"), "\(refused.stderr)")
    #expect(refused.stderr.contains("BPB_BytsPerSec is 4096"), "\(refused.stderr)")
    // The same tree at 512-byte sectors: no note.
    let plain = dir.appendingPathComponent("fat512.img").path
    try #require(try run("mkfs.fat", ["-C", "-F", "16", "-i", "1234ABCD", plain, "65536"]).status == 0)
    let accepted = try BootbankBinary.run(["ls", plain, "/"])
    #expect(accepted.status == 0)
    #expect(!accepted.stderr.contains("ESXi's loader"), "\(accepted.stderr)")
  }
}
