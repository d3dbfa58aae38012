import BootConfig
import DiskFormat
import Foundation
import PartitionTable
import TestSupport
import Testing

@testable import BootBanks

/// Shift+R: esx-boot `safeboot/safeboot.c` `main()` loops after mboot returns, so
/// `get_boot_bank()` (`safeboot/bootbank.c`) scans a second time, writing again, before
/// `bank_kill()` invalidates the default bank.
@Suite("loader rule: Shift+R scans twice")
struct ShiftRTests {
  struct Case: Sendable, CustomTestStringConvertible {
    var name: String
    var banks: [BankCandidate]
    var next: Int?
    var rollback: Bool
    var messages: [String]
    /// Partition → bootstate on disk after the boot (read back through the loader's reader).
    var onDisk: [Int: Int32]
    var testDescription: String { name }
  }

  static let cases: [Case] = [
    Case(
      name: "an upgraded bank on trial goes 1→2→3; the old bank is then the only valid one",
      banks: [Fixture.bank(5, "1", updated: "3"), Fixture.bank(6, updated: "2")], next: 6, rollback: false,
      messages: [BankChoice.noAlternate], onDisk: [5: 3, 6: 0]),
    Case(
      name: "two valid banks: the default is killed",
      banks: [Fixture.bank(5, updated: "3"), Fixture.bank(6, updated: "2")], next: 6, rollback: true, messages: [],
      onDisk: [5: 3, 6: 0]),
    Case(
      name: "the alternate bank on its trial is burnt by the second scan: nothing to roll back to",
      banks: [Fixture.bank(5, updated: "3"), Fixture.bank(6, "1", updated: "2")], next: 5, rollback: false,
      messages: [BankChoice.noAlternate], onDisk: [5: 0, 6: 3]),
    Case(
      name: "a third bank on trial is burnt, the two valid ones still roll back",
      banks: [Fixture.bank(5, updated: "3"), Fixture.bank(6, updated: "2"), Fixture.bank(7, "1", updated: "1")],
      next: 6, rollback: true, messages: [], onDisk: [5: 3, 6: 0, 7: 3]),
    Case(
      name: "a write the medium refuses: the second scan reads the old state again",
      banks: [Fixture.bank(5, "1", updated: "3", writesFail: true), Fixture.bank(6, updated: "2")], next: 6,
      rollback: true, messages: [], onDisk: [5: 1, 6: 0]),
  ]

  @Test("status --rollback replays both scans of get_boot_bank, then bank_kill", arguments: cases)
  func shiftR(_ c: Case) {
    let choice = LoaderReplay.run(c.banks, rollbackRequested: true)
    #expect(choice.nextPartition == c.next)
    #expect(choice.rollback == c.rollback)
    #expect(choice.messages == c.messages)
    for bank in c.banks {
      let bytes = choice.writtenBootConfigs[bank.partition] ?? bank.bootConfig ?? []
      #expect(BootConfig(bytes: bytes).bankOptions?.bootstate == c.onDisk[bank.partition], "p\(bank.partition)")
    }
  }

  @Test("the verdict tells both scans and keeps the state from before the boot")
  func reasonTellsBothScans() throws {
    let choice = LoaderReplay.run(
      [Fixture.bank(5, "1", updated: "3"), Fixture.bank(6, updated: "2")], rollbackRequested: true)
    let five = try #require(choice.verdict(for: 5))
    #expect(five.bootstateBefore == 1)
    #expect(five.bootstateAfter == 3)
    #expect(five.reason.contains("first scan: UPGRADING → DIRTY"))
    #expect(five.reason.contains("second scan: DIRTY → INVALID"))
    // Without Shift+R the same device boots its trial.
    #expect(LoaderReplay.run([Fixture.bank(5, "1", updated: "3"), Fixture.bank(6, updated: "2")]).nextPartition == 5)
  }
}

/// 4Kn: esx-boot `safeboot/vmfat.c` `vmfat_get_uuid()` reads the magic at byte offset = bytes
/// per sector only.
@Suite("loader rule: the magic is at the sector size")
struct MagicOffsetTests {
  @Test(
    "vmfat_get_uuid",
    arguments: [
      (sectorSize: 4096, offsets: [4096], isBank: true, warning: false),
      (sectorSize: 4096, offsets: [512], isBank: false, warning: true),
      (sectorSize: 4096, offsets: [512, 4096], isBank: true, warning: false),
      (sectorSize: 512, offsets: [512], isBank: true, warning: false),
    ])
  func magicOffset(sectorSize: Int, offsets: [Int], isBank: Bool, warning: Bool) {
    var bytes = [UInt8](repeating: 0, count: sectorSize * 64 * 2)
    let base = sectorSize * 64
    for offset in offsets {
      bytes.replaceSubrange(
        (base + offset)..<(base + offset + 32), with: BankUUID.magic + [UInt8](repeating: 7, count: 16))
    }
    let slot = BankSlot(
      partition: 5, type: .gpt(BankSlot.basicData), byteRange: Int64(base)..<Int64(base + sectorSize * 64))
    let results = BankDiscovery.scan(MemoryImage(bytes, sectorSize: sectorSize), slots: [slot]) { _ in
      Array(Fixture.bootCfg().utf8)
    }
    #expect((results.first?.candidate.uuid != nil) == isBank)
    #expect(results.first?.findings.contains { $0.kind == "bankUUIDAt512" } == warning)
    let choice = LoaderReplay.run(results.map(\.candidate))
    #expect((choice.nextPartition == 5) == isBank)
  }
}

/// `--after`: tag-boot-bank writes 0 through the loader's writer (`bank_set_bootstate()` in
/// `safeboot/config.c`); the next boot reads through the reader (`bootlib/parse.c`).
@Suite("loader rule: what tag-boot-bank leaves for the reader")
struct TagBootBankTests {
  @Test(
    "after a successful trial the reader decides",
    arguments: [
      (
        name: "plain bootstate=1", text: Fixture.bootCfg(bootstate: "1", updated: "3"), after: Int32(0),
        trials: [true, false]
      ),
      (
        name: "bootstate=01: the writer's digit is the 0, the reader reads 1",
        text: Fixture.bootCfg(bootstate: "01", updated: "3"), after: Int32(1), trials: [true, true]
      ),
      (
        name: "a blank before = on an earlier line takes the writes",
        text: "bootstate =0\n" + Fixture.bootCfg(bootstate: "1", updated: "3"), after: Int32(1), trials: [true, true]
      ),
    ])
  func afterATrial(name: String, text: String, after: Int32, trials: [Bool]) {
    let banks = [BankCandidate(partition: 5, uuid: Fixture.uuid(5), bootConfig: text), Fixture.bank(6, updated: "2")]
    let steps = BootSimulation.run(banks, boots: 2, outcome: .succeeds)
    #expect(steps.map(\.choice.nextPartition) == [5, 5], "\(name)")
    #expect(steps.map(\.trial) == trials, "\(name)")
    #expect(steps[0].bootstatesAfter[5] == .some(after), "\(name)")
    #expect(steps[0].outcome.contains("sets it to VALID") == (after == 0), "\(name): \(steps[0].outcome)")
  }
}

/// The loader's view of a truncated image: the primary GPT is whole, so the loader reads the
/// table and boots the partition it can read; status, verify and info say the same.
@Suite("loader rule: one truth on a truncated image")
struct TruncatedImageTests {
  static let image = TestPaths.fixture("esxi7.img")

  @Test(.enabled(if: image != nil, "images/esxi7.img: run images/make-images.sh"))
  func first50MiB() throws {
    let url = try #require(Self.image)
    let handle = try FileHandle(forReadingFrom: url)
    defer { try? handle.close() }
    let bytes = [UInt8](try handle.read(upToCount: 50 << 20) ?? Data())
    let source = MemoryImage(bytes, name: "esxi7-50MiB.img")
    let layout = try PartitionTable.read(from: source)
    #expect(layout.esxiBootable)
    #expect(layout.loader.scheme == .gpt)
    let status = try BankStatus.read(from: source, layout: layout)
    #expect(status.choice.nextPartition == 5)
    #expect(!status.choice.messages.contains { $0.contains("cannot read") })
    #expect(!status.findings.contains { $0.kind == "partitionTableUnreadableByLoader" })
    let verification = try BankVerifier.verify(source, layout: layout)
    #expect(verification.next?.partition == 5)
    let five = try #require(verification.banks.first { $0.partition == 5 })
    // The partition runs past the end of the image: the bank the loader picks is cut off.
    #expect(five.verdict == .broken)
    #expect(five.findings.contains { $0.kind == "partitionPastEnd" })
    #expect(verification.verdict == .broken)
  }
}

/// esx-boot `bootlib/gpt.c` `gpt_get_part_info()`: when the entry array fails its CRC the loader
/// answers "not found" and `get_volume_info()` (`bootlib/volume.c`) reads MBR record N instead,
/// so a hybrid MBR record can expose a bank.
@Suite("loader rule: an entry array failing its CRC falls back to the MBR records")
struct EntryArrayFallbackTests {
  static let image = TestPaths.fixture("esxi7.img")

  @Test(
    .enabled(if: image != nil, "images/esxi7.img: run images/make-images.sh"),
    arguments: [(hybrid: true, next: Optional(2)), (hybrid: false, next: nil)])
  func fallback(hybrid: Bool, next: Int?) throws {
    let url = try #require(Self.image)
    let handle = try FileHandle(forReadingFrom: url)
    defer { try? handle.close() }
    // Up to the end of partition 5 (LBA 200703).
    var bytes = [UInt8](try handle.read(upToCount: 200_704 * 512) ?? Data())
    bytes[2 * 512 + 100 * 128 + 0x38] ^= 0x01  // a byte of an unused entry: the array CRC fails
    if hybrid {
      // MBR record 2: FAT32 LBA over partition 5 (LBA 69632, 131072 sectors).
      var record = [UInt8](repeating: 0, count: 16)
      record[4] = 0x0C
      record.storeLittleEndian(UInt32(69_632), at: 8)
      record.storeLittleEndian(UInt32(131_072), at: 12)
      bytes.replaceSubrange(0x1CE..<0x1DE, with: record)
    }
    let source = MemoryImage(bytes, name: "esxi7-entries-crc.img")
    let layout = try PartitionTable.read(from: source)
    #expect(layout.loader.scheme == .mbrInsteadOfGPT)
    #expect(layout.esxiBootable == hybrid)
    let status = try BankStatus.read(from: source, layout: layout)
    #expect(status.choice.nextPartition == next)
    #expect(status.choice.messages.first?.contains("the loader reads the MBR's records") == true)
    let verification = try BankVerifier.verify(source, layout: layout)
    #expect(verification.next?.partition == next)
  }
}

/// One truth: on every fixture image, the table verdict info prints (`esxiBootable`), the
/// status replay and verify's next boot agree.
@Suite("loader rule: status, verify and info agree on every fixture")
struct OneTruthTests {
  static let images: [String] =
    ((try? FileManager.default.contentsOfDirectory(atPath: TestPaths.images.path)) ?? [])
    .filter { $0.hasSuffix(".img") }.sorted()

  @Test(.enabled(if: !images.isEmpty, "images/: run images/make-images.sh"), arguments: images)
  func agree(_ name: String) throws {
    let source = try TestFileSource(path: TestPaths.images.appendingPathComponent(name).path)
    let layout = try PartitionTable.read(from: source)
    let status = try BankStatus.read(from: source, layout: layout)
    let saysUnreadable = status.choice.messages.contains { $0.contains("cannot read") }
    if let next = status.choice.nextPartition {
      #expect(
        layout.esxiBootable, "\(name): boots partition \(next) but the table verdict says the loader cannot read it")
      #expect(!saysUnreadable, "\(name): \(status.choice.messages)")
      #expect(!status.findings.contains { $0.kind == "partitionTableUnreadableByLoader" })
    }
    if saysUnreadable { #expect(!layout.esxiBootable, "\(name)") }
  }
}

/// esx-boot `bootlib/mbr.c` on a real-shaped MBR device (images/esxi-mbr.img): where Linux's
/// walk and the loader's differ, the loader's decides the banks, and status answers as it would
/// on the intact device.
@Suite("loader rule: the loader's MBR walk decides the banks")
struct MBRWalkTests {
  static let image = TestPaths.fixture("esxi-mbr.img")

  /// The image with some bytes changed, read through.
  final class Patched: ByteSource, @unchecked Sendable {
    let base: any ByteSource
    let patches: [Int64: UInt8]
    init(_ base: any ByteSource, _ patches: [Int64: UInt8]) {
      self.base = base
      self.patches = patches
    }
    var name: String { base.name }
    var byteCount: Int64 { base.byteCount }
    var sectorSize: Int { base.sectorSize }
    func withBytes<R>(in range: Range<Int64>, _ body: (Span<UInt8>) throws -> R) throws -> R {
      var bytes = try base.read(range)
      for (offset, value) in patches where range.contains(offset) { bytes[Int(offset - range.lowerBound)] = value }
      return try body(bytes.span)
    }
  }

  @Test(
    .enabled(if: image != nil, "images/esxi-mbr.img: run images/make-images.sh"),
    arguments: [
      // The first EBR (LBA 8192) links on with a 0x83 record: Linux stops after partition 5.
      (name: "link record of type 0x83", patches: [Int64(8192 * 512 + 0x1CE + 4): UInt8(0x83)], linuxSees6: false),
      // No 0x55AA on sector 0: Linux sees no table at all.
      (name: "no 0x55AA on sector 0", patches: [Int64(510): UInt8(0), Int64(511): UInt8(0)], linuxSees6: false),
      // A BootIndicator of 0x12 on record 4: Linux rejects the table.
      (name: "BootIndicator 0x12", patches: [Int64(0x1BE + 3 * 16): UInt8(0x12)], linuxSees6: false),
    ])
  func loaderWalkDecides(name: String, patches: [Int64: UInt8], linuxSees6: Bool) throws {
    let url = try #require(Self.image)
    let intact = try TestFileSource(path: url.path)
    let expected = try BankStatus.read(from: intact)
    try #require(expected.choice.countedBanks.map(\.partition).contains(6))
    let source = Patched(intact, patches)
    let layout = try PartitionTable.read(from: source)
    #expect((layout.partition(6) != nil) == linuxSees6, "\(name)")
    #expect(layout.loaderVolume(6) != nil, "\(name)")
    #expect(layout.esxiBootable, "\(name)")
    let status = try BankStatus.read(from: source, layout: layout)
    #expect(status.choice.nextPartition == expected.choice.nextPartition, "\(name)")
    #expect(status.choice.countedBanks.map(\.partition) == expected.choice.countedBanks.map(\.partition), "\(name)")
  }
}
