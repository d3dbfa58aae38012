import DiskFormat
import PartitionTable
import Testing

/// Every field of both GPT headers and of an entry, corrupted one byte at a time. Where a field
/// is covered by a CRC, the CRC is recomputed afterwards so the field's own check is what fires.
@Suite("GPT corruption table")
struct GPTCorruptionTests {
  enum Fix: Sendable { case none, header, entries }

  struct Case: Sendable, CustomTestStringConvertible {
    var field: String
    /// Byte to flip, relative to the header (or to entry 1 when `inEntry`).
    var byte: Int
    var mask: UInt8 = 0xFF
    var fix: Fix
    /// Where the finding is expected: the verdict, its kind, the field's offset relative to the
    /// header (or entry 1).
    var verdict: String
    var kind: String
    var fieldOffset: Int
    var inEntry = false
    var severity: Finding.Severity = .error
    var testDescription: String { "\(field) byte \(byte) ^ \(mask)" }
  }

  static let image = GPTImageBuilder().build()
  static let builder = GPTImageBuilder()
  static let primaryHeader = StructureVerdict.primaryHeader
  static let primaryEntries = StructureVerdict.primaryEntries

  static let primaryCases: [Case] = [
    Case(field: "Signature", byte: 0x00, fix: .none, verdict: primaryHeader, kind: "badSignature", fieldOffset: 0x00),
    Case(
      field: "Revision", byte: 0x0A, fix: .header, verdict: primaryHeader, kind: "badRevision", fieldOffset: 0x08,
      severity: .warning),
    Case(field: "HeaderSize", byte: 0x0D, fix: .none, verdict: primaryHeader, kind: "badHeaderSize", fieldOffset: 0x0C),
    Case(
      field: "HeaderSize below 92", byte: 0x0C, mask: 0x5C ^ 0x50, fix: .none, verdict: primaryHeader,
      kind: "badHeaderSize", fieldOffset: 0x0C),
    Case(
      field: "HeaderCRC32", byte: 0x10, fix: .none, verdict: primaryHeader, kind: "badHeaderCRC32", fieldOffset: 0x10),
    Case(
      field: "HeaderCRC32 (AlternateLBA is only covered by the CRC)", byte: 0x20, mask: 0x01, fix: .none,
      verdict: primaryHeader, kind: "badHeaderCRC32", fieldOffset: 0x10),
    Case(
      field: "Reserved", byte: 0x14, fix: .header, verdict: primaryHeader, kind: "badReserved", fieldOffset: 0x14,
      severity: .warning),
    Case(field: "MyLBA", byte: 0x18, fix: .header, verdict: primaryHeader, kind: "badMyLBA", fieldOffset: 0x18),
    Case(
      field: "AlternateLBA past the end", byte: 0x27, fix: .header, verdict: primaryHeader, kind: "badAlternateLBA",
      fieldOffset: 0x20),
    Case(
      field: "AlternateLBA short of the end", byte: 0x20, mask: 0x01, fix: .header, verdict: primaryHeader,
      kind: "badAlternateLBA", fieldOffset: 0x20, severity: .warning),
    Case(
      field: "FirstUsableLBA", byte: 0x2F, fix: .header, verdict: primaryHeader, kind: "badFirstUsableLBA",
      fieldOffset: 0x28),
    Case(
      field: "LastUsableLBA", byte: 0x31, fix: .header, verdict: primaryHeader, kind: "badLastUsableLBA",
      fieldOffset: 0x30),
    Case(
      field: "PartitionEntryLBA", byte: 0x48, fix: .header, verdict: primaryHeader, kind: "badPartitionEntryLBA",
      fieldOffset: 0x48),
    Case(
      field: "NumberOfPartitionEntries", byte: 0x53, fix: .header, verdict: primaryHeader,
      kind: "badNumberOfPartitionEntries", fieldOffset: 0x50),
    Case(
      field: "NumberOfPartitionEntries zero", byte: 0x50, mask: 0x80, fix: .header, verdict: primaryHeader,
      kind: "badNumberOfPartitionEntries", fieldOffset: 0x50),
    Case(
      field: "SizeOfPartitionEntry", byte: 0x54, fix: .header, verdict: primaryHeader, kind: "badSizeOfPartitionEntry",
      fieldOffset: 0x54),
    Case(
      field: "SizeOfPartitionEntry 384", byte: 0x55, mask: 0x01, fix: .header, verdict: primaryHeader,
      kind: "badSizeOfPartitionEntry", fieldOffset: 0x54),
    Case(
      field: "PartitionEntryArrayCRC32", byte: 0x58, fix: .header, verdict: primaryEntries,
      kind: "badPartitionEntryArrayCRC32", fieldOffset: 0x58),
  ]

  /// Entry 1 (BOOT, LBA 64-127) fields, with the entry-array CRC recomputed.
  static let entryCases: [Case] = [
    Case(
      field: "StartingLBA below FirstUsableLBA", byte: 0x20, mask: 0x40, fix: .entries, verdict: primaryEntries,
      kind: "badStartingLBA", fieldOffset: 0x20, inEntry: true),
    Case(
      field: "EndingLBA before StartingLBA", byte: 0x28, mask: 0x40, fix: .entries, verdict: primaryEntries,
      kind: "badEndingLBA", fieldOffset: 0x28, inEntry: true),
    Case(
      field: "EndingLBA after LastUsableLBA", byte: 0x28, mask: 0x80, fix: .entries, verdict: primaryEntries,
      kind: "badEndingLBA", fieldOffset: 0x28, inEntry: true),
    Case(
      field: "EndingLBA past the image", byte: 0x2B, fix: .entries, verdict: primaryEntries, kind: "partitionPastEnd",
      fieldOffset: 0x28, inEntry: true),
    Case(
      field: "EndingLBA into partition 2", byte: 0x28, mask: 0xFF, fix: .entries, verdict: primaryEntries,
      kind: "partitionsOverlap", fieldOffset: 0x80, inEntry: true),
    Case(
      field: "Attributes reserved bit", byte: 0x31, mask: 0x04, fix: .entries, verdict: primaryEntries,
      kind: "badAttributes", fieldOffset: 0x30, inEntry: true, severity: .warning),
    Case(
      field: "UniquePartitionGUID duplicate", byte: 0x10 + 15, mask: 0x01 ^ 0x05, fix: .entries,
      verdict: primaryEntries, kind: "badUniquePartitionGUID", fieldOffset: 0x90, inEntry: true, severity: .warning),
    Case(
      field: "entry bytes without CRC fix", byte: 0x38, fix: .none, verdict: primaryEntries,
      kind: "badPartitionEntryArrayCRC32", fieldOffset: -1, inEntry: true),
  ]

  /// Errors in fields esx-boot's `gpt_read_header()` and `gpt_get_part_info()` never look at.
  static let notCheckedByTheLoader: Set<String> = [
    "AlternateLBA past the end", "FirstUsableLBA", "LastUsableLBA", "StartingLBA below FirstUsableLBA",
    "EndingLBA before StartingLBA", "EndingLBA after LastUsableLBA", "EndingLBA past the image",
    "EndingLBA into partition 2",
  ]

  func run(_ c: Case, headerLBA: UInt64, entriesLBA: UInt64) throws -> (DiskLayout, Int) {
    var bytes = Self.image
    let header = Int(headerLBA) * 512
    let entries = Int(entriesLBA) * 512
    let target = (c.inEntry ? entries : header) + c.byte
    bytes[target] ^= c.mask
    switch c.fix {
    case .none: break
    case .header: GPTFixup.refreshHeaderCRC(&bytes, headerOffset: header)
    case .entries: GPTFixup.refreshEntriesCRC(&bytes, headerOffset: header)
    }
    let layout = try PartitionTable.read(from: MemoryImage(bytes, name: "gpt.img"))
    let expected =
      c.fieldOffset < 0 ? header + 0x58 : (c.inEntry ? entries : header) + c.fieldOffset
    return (layout, expected)
  }

  func check(_ c: Case, verdictName: String, layout: DiskLayout, offset: Int, severity: Finding.Severity) {
    let verdict = layout.structure(verdictName)
    let finding = verdict?.findings.first { $0.kind == c.kind }
    #expect(finding != nil, "no \(c.kind) in \(verdictName): \(layout.allFindings.map(\.message))")
    #expect(finding?.offset == Int64(offset))
    #expect(finding?.severity == severity)
    #expect(finding?.message.contains(verdictName) == true)
    if c.kind.hasPrefix("bad"), c.kind != "badSignature" {
      let field = String(c.kind.dropFirst(3))
      #expect(finding?.message.contains(field) == true, "\(finding?.message ?? "")")
    }
  }

  @Test("a corrupted primary header field is named, with its absolute offset", arguments: primaryCases + entryCases)
  func primary(_ c: Case) throws {
    let (layout, offset) = try run(c, headerLBA: 1, entriesLBA: 2)
    check(c, verdictName: c.verdict, layout: layout, offset: offset, severity: c.severity)
    if c.severity == .error, Self.notCheckedByTheLoader.contains(c.field) {
      // gpt_read_header() and gpt_get_part_info() (esx-boot bootlib/gpt.c) check only the
      // Signature, MyLBA, the header CRC and the entry-array CRC: the loader reads this primary,
      // UEFI firmware and Linux take the backup.
      #expect(layout.esxiBootable)
      #expect(layout.loader.scheme == .gpt)
      #expect(layout.loader.volumes.map(\.number) == [1, 2])
      #expect(layout.findings.contains { $0.kind == "primaryGPTBadForUEFI" && $0.severity == .warning })
    } else if c.severity == .error {
      #expect(!layout.esxiBootable)
      #expect(layout.loader.scheme != .gpt)
      // The backup is intact: Linux can read the disk, ESXi cannot.
      #expect(layout.findings.contains { $0.kind == "primaryGPTBadBackupGood" })
      #expect((layout.linuxPartitions ?? layout.partitions).map(\.number) == [1, 2])
    } else {
      #expect(layout.esxiBootable)
    }
  }

  @Test("a corrupted backup header field is a warning and ESXi still boots", arguments: primaryCases + entryCases)
  func backup(_ c: Case) throws {
    let b = Self.builder
    let (layout, offset) = try run(c, headerLBA: b.lastLBA, entriesLBA: b.backupEntriesLBA)
    let name = c.verdict == Self.primaryHeader ? StructureVerdict.backupHeader : StructureVerdict.backupEntries
    var c = c
    // The backup's MyLBA is the last LBA and its AlternateLBA is 1: other flips, other findings.
    if c.field == "AlternateLBA short of the end" || c.field == "AlternateLBA past the end" {
      c.kind = "badAlternateLBA"
    }
    check(c, verdictName: name, layout: layout, offset: offset, severity: .warning)
    #expect(layout.esxiBootable)
    #expect(layout.type == .gpt)
    #expect(layout.partitions.map(\.number) == [1, 2])
    #expect(layout.structure(StructureVerdict.primaryHeader)?.ok == true)
  }

  @Test("the backup's DiskGUID disagreeing with the primary's is named against the backup")
  func diskGUIDDisagreement() throws {
    var bytes = Self.image
    let backup = Int(Self.builder.lastLBA) * 512
    bytes[backup + 0x38] ^= 0x01
    GPTFixup.refreshHeaderCRC(&bytes, headerOffset: backup)
    let layout = try PartitionTable.read(from: MemoryImage(bytes))
    let finding = layout.structure(StructureVerdict.backupHeader)?.findings.first { $0.kind == "badDiskGUID" }
    #expect(finding?.offset == Int64(backup + 0x38))
    #expect(finding?.severity == .warning)
    #expect(finding?.message.contains("0x238") == true)
    #expect(layout.esxiBootable)
  }
}
