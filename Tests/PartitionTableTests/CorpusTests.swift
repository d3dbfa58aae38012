import DiskFormat
import Foundation
import PartitionTable
import TestSupport
import Testing

/// Every image of the shared corpus (../shared/corpus/MANIFEST.json) against what sfdisk and
/// sgdisk reported for it there.
///
/// Where the tools disagree (corpus README, "Where the tools disagree"):
/// - `ambiguous-mbr-vs-fat` (`util-linux/images-fs/fat.img`, `dosfstools/images/referenceFAT32mbr`):
///   sector 0 is both a FAT boot sector and an MBR whose record 1 starts at LBA 0 and covers the
///   disk. blkid reports only a whole-disk vfat, sfdisk only the DOS table. ESXi's loader, which
///   falls back to MBR whenever record 1 is not protective, would read the table, so we report
///   `.mbr` with sfdisk's partitions (the manifest's `partition_table`) plus an
///   `ambiguousMBRvsFAT` warning that says the table's partition 1 is the whole-disk FAT.
/// - Bare FAT volumes whose boot code sfdisk reads as records (OEM `MSDOS5.0`) and the exFAT
///   image: a BootIndicator other than 0x00/0x80 makes Linux (and us) reject the table, as
///   libblkid does; no `partition_table` in the manifest, `.none` here.
/// - Bare FAT volumes where sfdisk reports an empty `dos` label: a plausible BPB and no records is a
///   whole-disk file system, `.none`, as blkid says.
/// - Sun, SGI, BSD, Atari and DASD labels: no 0x55AA in sector 0, `.none` (sfdisk's `bsd`/`sgi`/
///   `sun` lists are other label types, not MBR or GPT).
/// - `dos+bsd`: libblkid also lists the BSD slices nested inside the 0xA5 partition; like sfdisk
///   (and ESXi's loader, which knows no BSD labels) we list only the two MBR partitions.
/// - `gpt-4k-sector` images (`gptman/disk2`, `disk4`): "EFI PART" only at byte 4096, so the
///   detected sector size is 4096; read with 512-byte sectors they show only a protective MBR.
@Suite("corpus", .serialized)
struct CorpusTests {
  nonisolated(unsafe) static let manifest: [String: [String: Any]] = {
    let images = (try? Corpus.manifestImages()) ?? []
    var byPath = [String: [String: Any]]()
    for image in images { if let path = image["path"] as? String { byPath[path] = image } }
    return byPath
  }()
  static let paths: [String] = manifest.keys.sorted()

  @Test(
    "the corpus has all its images",
    .enabled(if: Corpus.root != nil, "no ../shared/corpus/MANIFEST.json next to the package (a fresh clone has none)"))
  func presence() {
    #expect(Self.paths.count >= 100)
  }

  @Test("each corpus image reads as the manifest says", .timeLimit(.minutes(10)), arguments: paths)
  func image(_ path: String) throws {
    let entry = try #require(Self.manifest[path])
    let kinds = entry["kind"] as? [String] ?? []
    let expected = entry["expected"] as? [String: Any] ?? [:]
    if kinds.contains("fragment") {
      try fragment(path, expected)
      return
    }
    let file = try Corpus.decompressed(path)
    let source = try TestFileSource(path: file.path)
    let layout = try PartitionTable.read(from: source)
    let table = expected["partition_table"] as? [String: Any]
    let label = table?["label"] as? String
    switch label {
    case "gpt":
      try checkGPT(layout, table ?? [:], fourK: kinds.contains("gpt-4k-sector"))
      if kinds.contains("gpt-4k-sector") {
        // With 512-byte sectors only the protective MBR is there; we say where the header is.
        let at512 = try PartitionTable.read(from: source, sectorSize: 512)
        #expect(at512.type == .gpt && !at512.esxiBootable && at512.partitions.isEmpty)
        #expect(at512.findings.contains { $0.kind == "gptAtOtherSectorSize" })
      }
    case "dos":
      try checkMBR(layout, table ?? [:], ambiguous: kinds.contains("ambiguous-mbr-vs-fat"))
    default:
      // FAT-only, exFAT and other label types: no MBR or GPT, and no crash.
      #expect(layout.type == .none, "\(path): \(layout.allFindings.map(\.message))")
      #expect(layout.linuxType == .none)
      #expect(layout.partitions.isEmpty)
      #expect(!layout.esxiBootable)
    }
  }

  func checkGPT(_ layout: DiskLayout, _ table: [String: Any], fourK: Bool) throws {
    #expect(layout.type == .gpt && layout.linuxType == .gpt)
    #expect(layout.sectorSize == (fourK ? 4096 : 512))
    #expect(layout.sectorSizeReason == (fourK ? .gptHeaderFoundOnlyAtOtherSize : .gptHeaderAtLBA1))
    #expect(layout.esxiBootable)
    #expect(!layout.hasErrors, "\(layout.allFindings.map(\.message))")
    #expect(layout.diskGUID?.description == table["id"] as? String)
    let expected = table["partitions"] as? [[String: Any]] ?? []
    try #require(layout.partitions.count == expected.count)
    for (ours, theirs) in zip(layout.partitions, expected) {
      #expect(ours.number == theirs["number"] as? Int)
      #expect(ours.firstLBA == (theirs["start"] as? NSNumber)?.uint64Value)
      #expect(ours.lastLBA == (theirs["end"] as? NSNumber)?.uint64Value)
      #expect(ours.sectorCount == (theirs["size"] as? NSNumber)?.uint64Value)
      #expect(ours.typeGUID?.description == theirs["type_guid"] as? String)
      #expect(ours.uniqueGUID?.description == theirs["uuid"] as? String)
      #expect(ours.name == theirs["name"] as? String)
      #expect(ours.typeName == theirs["sgdisk_type_name"] as? String)
      let flags = UInt64(theirs["sgdisk_attribute_flags"] as? String ?? "", radix: 16)
      #expect(ours.attributes == flags)
      #expect(ours.sfdiskAttributes == (theirs["attrs"] as? String ?? ""))
    }
  }

  func checkMBR(_ layout: DiskLayout, _ table: [String: Any], ambiguous: Bool) throws {
    #expect(layout.type == .mbr && layout.linuxType == .mbr)
    #expect(layout.sectorSize == 512)
    #expect(!layout.hasErrors, "\(layout.allFindings.map(\.message))")
    #expect(layout.esxiBootable)
    let id = (table["id"] as? String).flatMap { UInt32($0.dropFirst(2), radix: 16) }
    #expect(layout.mbrDiskSignature == id)
    #expect(
      layout.structure("MBR")?.findings.contains { $0.kind == "ambiguousMBRvsFAT" } == ambiguous,
      "\(layout.allFindings.map(\.message))")
    let expected = table["partitions"] as? [[String: Any]] ?? []
    try #require(layout.partitions.count == expected.count)
    for (ours, theirs) in zip(layout.partitions, expected) {
      #expect(ours.number == theirs["number"] as? Int)
      #expect(ours.firstLBA == (theirs["start"] as? NSNumber)?.uint64Value)
      #expect(ours.lastLBA == (theirs["end"] as? NSNumber)?.uint64Value)
      #expect(ours.sectorCount == (theirs["size"] as? NSNumber)?.uint64Value)
      #expect(ours.mbrType.map { "0x" + hexByte($0) } == theirs["type"] as? String)
      #expect(ours.bootable == theirs["bootable"] as? Bool)
      #expect(ours.isLogical == theirs["logical"] as? Bool)
      #expect(ours.isExtendedContainer == theirs["extended_container"] as? Bool)
    }
  }

  /// The two fragments are single records, not images: reading them as a disk is a FormatError;
  /// decoding them as a record gives the fields the manifest lists.
  func fragment(_ path: String, _ expected: [String: Any]) throws {
    let url = try #require(Corpus.root?.appendingPathComponent(path))
    let bytes = [UInt8](try Data(contentsOf: url))
    let error = #expect(throws: FormatError.self) { try PartitionTable.read(from: MemoryImage(bytes)) }
    #expect(error?.structure == "MBR")
    if let gpt = expected["gpt_entry"] as? [String: Any] {
      let entry = try GPTPartitionEntry(parsing: bytes.span)
      #expect(entry.partitionTypeGUID.description == gpt["type_guid"] as? String)
      #expect(entry.uniquePartitionGUID.description == gpt["unique_guid"] as? String)
      #expect(entry.startingLBA == (gpt["first_lba"] as? NSNumber)?.uint64Value)
      #expect(entry.endingLBA == (gpt["last_lba"] as? NSNumber)?.uint64Value)
      #expect(entry.name == gpt["name"] as? String)
      #expect(PartitionType.name(forGUID: entry.partitionTypeGUID.description) == "EFI system partition")
    }
    if let mbr = expected["mbr_entry"] as? [String: Any] {
      let entry = try MBRPartitionEntry(parsing: bytes.span)
      #expect("0x" + hexByte(entry.osType) == mbr["type"] as? String)
      #expect("0x" + hexByte(entry.bootIndicator) == mbr["status"] as? String)
      #expect(UInt64(entry.startingLBA) == (mbr["lba_first"] as? NSNumber)?.uint64Value)
      #expect(UInt64(entry.sizeInLBA) == (mbr["sectors"] as? NSNumber)?.uint64Value)
      #expect(hexString(entry.startingCHS) == mbr["chs_first_raw"] as? String)
      #expect(hexString(entry.endingCHS) == mbr["chs_last_raw"] as? String)
    }
  }
}
