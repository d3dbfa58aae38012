import DiskFormat
import FAT
import Foundation
import PartitionTable
import TestSupport
import Testing

@testable import BootBanks

/// A source whose bytes in `bad` read fine `goodReads` times, then fail: a sector that
/// weakens while it is read (a worn card does that), so discovery reads a file that the
/// verification then cannot.
final class WeakeningSource: ByteSource, @unchecked Sendable {
  let base: any ByteSource
  let bad: Range<Int64>
  var goodReads: Int
  let lock = NSLock()

  init(_ base: any ByteSource, bad: Range<Int64>, goodReads: Int) {
    self.base = base
    self.bad = bad
    self.goodReads = goodReads
  }

  var name: String { base.name }
  var byteCount: Int64 { base.byteCount }
  var sectorSize: Int { base.sectorSize }

  func withBytes<R>(in range: Range<Int64>, _ body: (Span<UInt8>) throws -> R) throws -> R {
    let fails: Bool = lock.withLock {
      guard range.overlaps(bad) else { return false }
      goodReads -= 1
      return goodReads < 0
    }
    if fails {
      throw ReadError(
        source: name, offset: max(range.lowerBound, bad.lowerBound), count: range.count, sectorSize: sectorSize,
        kind: .io(errno: 5, message: "Input/output error"))
    }
    return try base.withBytes(in: range, body)
  }
}

@Suite("verify: a file that fails to read")
struct VerifyReadFailureTests {
  /// Before: verify reset boot.cfg's finding count after reading it, so boot.cfg read ok
  /// whatever happened to its sectors.
  @Test(.enabled(if: TestPaths.fixture("esxi7.img") != nil, "needs images/ (make images)"))
  func bootConfigIsNotOkWhenItsSectorFails() throws {
    let source = try TestFileSource(path: TestPaths.images.appendingPathComponent("esxi7.img").path)
    let layout = try PartitionTable.read(from: source)
    let p5 = try #require(layout.partition(5))
    let start = Int64(p5.offsetBytes)
    let volume = try FATVolume(source: source.slice(start..<start + Int64(p5.sizeBytes)))
    let entry = try #require(try volume.lookup("/boot.cfg"))
    let sector = volume.absoluteOffset(ofCluster: entry.firstCluster) / 512 * 512
    // Discovery reads boot.cfg first: count its reads of the sector, and let only those succeed.
    let counting = WeakeningSource(source, bad: sector..<sector + 512, goodReads: Int.max)
    _ = try BankStatus.read(from: counting, layout: layout)
    let discoveryReads = Int.max - counting.goodReads
    #expect(discoveryReads >= 1)
    let weakening = WeakeningSource(source, bad: sector..<sector + 512, goodReads: discoveryReads)
    let result = try BankVerifier.verify(weakening, layout: layout)
    let bank = try #require(result.banks.first { $0.partition == 5 })
    let file = try #require(bank.files.first { $0.path.lowercased() == "/boot.cfg" })
    #expect(file.ok == false)
    #expect(bank.findings.contains { $0.kind == "unreadableSector" && $0.path?.lowercased() == "/boot.cfg" })
    #expect(bank.verdict != .ok)
  }
}
