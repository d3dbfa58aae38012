import Checksum
import DiskFormat
import PartitionTable
import TestSupport
import Testing

/// The table as ESXi's loader walks it (`LoaderTable`), one case per rule, each built from bytes:
/// esx-boot `bootlib/gpt.c` (`gpt_read_header`, `gpt_get_part_info`), `bootlib/mbr.c`
/// (`mbr_get_max_part`, `mbr_get_logical_info`, `mbr_to_partinfo`) and `bootlib/volume.c`
/// (`get_max_volume`, `get_volume_info`).
@Suite("the loader's walk of the partition table")
struct LoaderTableTests {
  struct Case: Sendable, CustomTestStringConvertible {
    var name: String
    var edit: @Sendable ([UInt8]) -> [UInt8]
    var scheme: LoaderTable.Scheme
    /// Volume number → MBR type, or 0 for a GPT entry.
    var volumes: [Int: UInt8]
    var esxiBootable: Bool
    var finding: String? = nil
    var testDescription: String { name }
  }

  // MARK: GPT (bootlib/gpt.c)

  static let gpt = GPTImageBuilder().build()

  /// Sets the primary header's HeaderSize and recomputes its CRC over that many bytes (the
  /// CRC field read as zero), as `gpt_read_header()` computes it.
  static func headerSize(_ size: UInt32, _ bytes: [UInt8]) -> [UInt8] {
    var b = bytes
    b.storeLittleEndian(size, at: 512 + 0x0C)
    b.storeLittleEndian(UInt32(0), at: 512 + 0x10)
    var crc = CRC32()
    crc.update(Array(b[512..<(512 + Int(min(size, 512)))]))
    b.storeLittleEndian(crc.finalize(), at: 512 + 0x10)
    return b
  }

  static func fixHeader(_ bytes: [UInt8]) -> [UInt8] {
    var b = bytes
    GPTFixup.refreshHeaderCRC(&b, headerOffset: 512)
    return b
  }

  static let gptCases: [Case] = [
    Case(name: "gpt_read_header: intact", edit: { $0 }, scheme: .gpt, volumes: [1: 0, 2: 0], esxiBootable: true),
    Case(
      name: "gpt_read_header: Signature",
      edit: {
        var b = $0
        b[512] ^= 0xFF
        return b
      }, scheme: .none, volumes: [:],
      esxiBootable: false, finding: "loaderRejectsPrimaryGPT"),
    Case(
      name: "gpt_read_header: MyLBA = 2 (CRC fixed)",
      edit: {
        var b = $0
        b[512 + 0x18] = 2
        return fixHeader(b)
      }, scheme: .none, volumes: [:], esxiBootable: false,
      finding: "loaderRejectsPrimaryGPT"),
    Case(
      name: "gpt_read_header: header CRC",
      edit: {
        var b = $0
        b[512 + 0x10] ^= 1
        return b
      }, scheme: .none,
      volumes: [:], esxiBootable: false, finding: "loaderRejectsPrimaryGPT"),
    Case(
      name: "gpt_read_header: HeaderSize 80 with a CRC over 80 bytes (no range check)", edit: { headerSize(80, $0) },
      scheme: .gpt, volumes: [1: 0, 2: 0], esxiBootable: true),
    Case(
      name: "gpt_read_header: HeaderSize 600, past its one-sector buffer", edit: { headerSize(600, $0) },
      scheme: .none, volumes: [:], esxiBootable: false, finding: "loaderRejectsPrimaryGPT"),
    Case(
      name: "not checked: AlternateLBA, FirstUsableLBA, LastUsableLBA (CRC fixed)",
      edit: {
        var b = $0
        b[512 + 0x27] ^= 0xFF
        b[512 + 0x28] = 200
        b[512 + 0x30] = 3
        return fixHeader(b)
      }, scheme: .gpt, volumes: [1: 0, 2: 0], esxiBootable: true),
    Case(
      name: "not checked: the backup GPT destroyed",
      edit: {
        var b = $0
        b.put([UInt8].zeros(512), at: 255 * 512)
        return b
      }, scheme: .gpt, volumes: [1: 0, 2: 0],
      esxiBootable: true),
    Case(
      name: "gpt_get_part_info: entry-array CRC fails, MBR records read instead (no FAT record: no volume)",
      edit: {
        var b = $0
        b[1024 + 0x38] ^= 0xFF
        return b
      }, scheme: .mbrInsteadOfGPT, volumes: [1: 0xEE],
      esxiBootable: false, finding: "loaderReadsMBRInsteadOfGPT"),
    Case(
      name: "gpt_get_part_info: entry-array CRC fails on a hybrid MBR: its FAT record becomes volume 2",
      edit: {
        var b = $0
        b[1024 + 0x38] ^= 0xFF
        b.put(MBRImageBuilder.recordBytes(.init(type: 0x06, start: 128, size: 64)), at: 0x1CE)
        return b
      }, scheme: .mbrInsteadOfGPT, volumes: [1: 0xEE, 2: 0x06], esxiBootable: true,
      finding: "loaderReadsMBRInsteadOfGPT"),
    Case(
      name: "volume.c: protective record with BootIndicator 0x80 is MBR (no FAT record)",
      edit: {
        var b = $0
        b[0x1BE] = 0x80
        return b
      }, scheme: .mbr, volumes: [1: 0xEE], esxiBootable: false),
    Case(
      name: "a truncated image: the primary is whole, partition 2 is cut", edit: { Array($0[0..<(160 * 512)]) },
      scheme: .gpt, volumes: [1: 0, 2: 0], esxiBootable: true),
    Case(
      name: "a truncated image: the entry array is cut", edit: { Array($0[0..<(20 * 512)]) }, scheme: .none,
      volumes: [:], esxiBootable: false, finding: "loaderCannotReadEntries"),
  ]

  @Test("GPT: only Signature, MyLBA, the header CRC over HeaderSize and the entry-array CRC count", arguments: gptCases)
  func gptRules(_ c: Case) throws {
    try check(c, c.edit(Self.gpt))
  }

  // MARK: MBR (bootlib/mbr.c)

  /// legacyESXi: extended p1 at 256-1279; EBRs at 256, 512, 768, 896; logicals 32 sectors after.
  static let mbr = MBRImageBuilder.legacyESXi.build()
  static let legacyVolumes: [Int: UInt8] = [1: 0x05, 2: 0x06, 3: 0xFB, 4: 0x04, 5: 0x06, 6: 0x06, 7: 0xFC, 8: 0x06]

  static func with(_ changes: [Int: UInt8]) -> @Sendable ([UInt8]) -> [UInt8] {
    { bytes in
      var b = bytes
      for (offset, value) in changes { b[offset] = value }
      return b
    }
  }

  static let mbrCases: [Case] = [
    Case(name: "mbr_get_max_part: intact", edit: { $0 }, scheme: .mbr, volumes: legacyVolumes, esxiBootable: true),
    Case(
      name: "no 0x55AA check on sector 0", edit: with([510: 0, 511: 0]), scheme: .mbr, volumes: legacyVolumes,
      esxiBootable: true),
    Case(
      name: "no BootIndicator check", edit: with([0x1CE: 0x12]), scheme: .mbr, volumes: legacyVolumes,
      esxiBootable: true),
    Case(
      name: "mbr_get_logical_info: an EBR without 0x55AA stops the walk", edit: with([512 * 512 + 510: 0]),
      scheme: .mbr, volumes: [1: 0x05, 2: 0x06, 3: 0xFB, 4: 0x04, 5: 0x06], esxiBootable: true,
      finding: "loaderEBRNoSignature"),
    Case(
      name: "an empty first record still counts a number",
      edit: {
        var b = $0
        b.put([UInt8].zeros(16), at: 512 * 512 + 0x1BE)
        return b
      }, scheme: .mbr,
      volumes: [1: 0x05, 2: 0x06, 3: 0xFB, 4: 0x04, 5: 0x06, 7: 0xFC, 8: 0x06], esxiBootable: true),
    Case(
      name: "the link is the second record's start whatever its type", edit: with([256 * 512 + 0x1CE + 4: 0x83]),
      scheme: .mbr, volumes: legacyVolumes, esxiBootable: true),
    Case(
      name: "mbr_to_partinfo: a logical partition ending outside its container is rejected",
      edit: {
        var b = $0
        b.storeLittleEndian(UInt32(400), at: 896 * 512 + 0x1BE + 12)
        return b
      }, scheme: .mbr,
      volumes: [1: 0x05, 2: 0x06, 3: 0xFB, 4: 0x04, 5: 0x06, 6: 0x06, 7: 0xFC], esxiBootable: true,
      finding: "loaderLogicalOutside"),
    Case(
      name: "the link is followed outside the container; the partition there is rejected",
      edit: {
        var b = $0
        b.storeLittleEndian(UInt32(640), at: 0x1BE + 12)
        return b
      }, scheme: .mbr,
      volumes: [1: 0x05, 2: 0x06, 3: 0xFB, 4: 0x04, 5: 0x06, 6: 0x06, 7: 0xFC], esxiBootable: true,
      finding: "loaderLogicalOutside"),
    Case(
      name: "an extended first record stops the walk",
      edit: with([768 * 512 + 0x1BE + 4: 0x05]), scheme: .mbr,
      volumes: [1: 0x05, 2: 0x06, 3: 0xFB, 4: 0x04, 5: 0x06, 6: 0x06], esxiBootable: true,
      finding: "loaderEBRNested"),
    Case(
      name: "a chain that loops hangs the loader",
      edit: {
        var b = $0
        b.storeLittleEndian(UInt32(256), at: 896 * 512 + 0x1CE + 8)
        b[896 * 512 + 0x1CE + 4] = 5
        return b
      },
      scheme: .mbr, volumes: legacyVolumes, esxiBootable: true, finding: "loaderEBRLoop"),
  ]

  @Test("MBR: the loader's EBR walk", arguments: mbrCases)
  func mbrRules(_ c: Case) throws {
    try check(c, c.edit(Self.mbr))
  }

  @Test("a chain longer than any the loader meets is walked once, to a bound", .timeLimit(.minutes(1)))
  func longChain() throws {
    var b = MBRImageBuilder(sectors: 4096)
    b.records = [.init(type: 0x05, start: 64, size: 4000)]
    b.logicals = (0..<300).map { (ebr: UInt32(64 + 8 * $0), start: 1, size: 4, type: 0x06) }
    let table = try LoaderTable.read(from: MemoryImage(b.build()), sectorSize: 512)
    #expect(table.maxVolume == 4 + LoaderTable.maximumEBRs)
    #expect(table.volumes.count == 1 + LoaderTable.maximumEBRs)
    #expect(table.findings.map(\.kind) == ["loaderEBRLoop"])
  }

  func check(_ c: Case, _ bytes: [UInt8]) throws {
    let table = try LoaderTable.read(from: MemoryImage(bytes), sectorSize: 512)
    #expect(table.scheme == c.scheme)
    let got = Dictionary(uniqueKeysWithValues: table.volumes.map { ($0.number, $0.mbrType ?? 0) })
    #expect(got == c.volumes)
    if let kind = c.finding {
      #expect(table.findings.contains { $0.kind == kind }, "\(table.findings.map(\.message))")
    } else {
      #expect(table.findings.isEmpty, "\(table.findings.map(\.message))")
    }
    let layout = try PartitionTable.read(from: MemoryImage(bytes), sectorSize: 512)
    #expect(layout.loader == table)
    #expect(layout.esxiBootable == c.esxiBootable, "\(layout.allFindings.map(\.message))")
  }
}
