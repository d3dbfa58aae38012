import Checksum
import DiskFormat
import Foundation
import PartitionTable
import TestSupport
import Testing

/// decode(encode(x)) == x for generated records, and encode(decode(bytes)) == bytes for every
/// record of the fixtures and the corpus.
@Suite("Partition table encoders")
struct PartitionTableEncoderTests {
  static func guid(_ rng: inout SplitMix64) -> GUID { GUID(onDisk: rng.bytes(16)) }

  @Test("a generated GPT header decodes to itself, with both CRCs computed", arguments: 0..<200)
  func header(seed: UInt64) throws {
    var rng = SplitMix64(state: seed)
    let tail = rng.next() % 3 == 0 ? rng.bytes(Int(rng.next() % 420)) : []
    var x = GPTHeader(
      revision: rng.value(), headerSize: UInt32(GPTHeader.minimumSize + tail.count), reserved: rng.value(),
      myLBA: rng.value(), alternateLBA: rng.value(), firstUsableLBA: rng.value(), lastUsableLBA: rng.value(),
      diskGUID: Self.guid(&rng), partitionEntryLBA: rng.value(), numberOfPartitionEntries: rng.value(),
      sizeOfPartitionEntry: rng.value(), trailingBytes: tail, base: 512)
    let array = rng.bytes(Int(rng.next() % 1024))
    let bytes = x.encoded(entryArray: array)
    #expect(bytes.count == Int(x.headerSize))
    let block = bytes + [UInt8](repeating: 0, count: 512 - bytes.count)
    let y = try GPTHeader(parsing: block.span, at: 512)
    #expect(y.headerCRC32 == y.computedHeaderCRC32)
    #expect(y.partitionEntryArrayCRC32 == CRC32.checksum(array))
    x.headerCRC32 = y.headerCRC32
    x.computedHeaderCRC32 = y.computedHeaderCRC32
    x.partitionEntryArrayCRC32 = y.partitionEntryArrayCRC32
    #expect(y == x)
  }

  @Test("the header CRC is computed over HeaderSize with the CRC field as zero")
  func headerCRC() {
    let x = GPTHeader(
      myLBA: 1, alternateLBA: 99, firstUsableLBA: 34, lastUsableLBA: 66, diskGUID: .zero, partitionEntryLBA: 2,
      numberOfPartitionEntries: 128, sizeOfPartitionEntry: 128)
    var bytes = x.encoded(entryArrayCRC32: 0x1234_5678)
    let stored: UInt32? = bytes.littleEndian(at: GPTHeader.Offset.headerCRC32)
    bytes.storeLittleEndian(UInt32(0), at: GPTHeader.Offset.headerCRC32)
    #expect(stored == CRC32.checksum(bytes))
    #expect(bytes.littleEndian(UInt32.self, at: GPTHeader.Offset.partitionEntryArrayCRC32) == 0x1234_5678)
  }

  @Test("a generated GPT partition entry decodes to itself", arguments: 0..<200)
  func entry(seed: UInt64) throws {
    var rng = SplitMix64(state: seed)
    var x = GPTPartitionEntry(
      partitionTypeGUID: Self.guid(&rng), uniquePartitionGUID: Self.guid(&rng), startingLBA: rng.value(),
      endingLBA: rng.value(), attributes: rng.value())
    x.nameBytes = rng.bytes(GPTPartitionEntry.nameSize)
    let bytes = x.encoded()
    #expect(bytes.count == GPTPartitionEntry.definedSize)
    let y = try GPTPartitionEntry(parsing: bytes.span)
    #expect(y == x)
  }

  @Test("a partition name is stored as UTF-16LE, cut at 36 code units, its raw bytes kept")
  func entryName() throws {
    let long = String(repeating: "é", count: 40)
    let x = GPTPartitionEntry(
      partitionTypeGUID: GUID(PartitionType.efiSystem)!, uniquePartitionGUID: .zero, startingLBA: 1, endingLBA: 2,
      name: long)
    #expect(x.name == String(repeating: "é", count: 36))
    #expect(x.nameBytes.prefix(2) == [0xE9, 0x00])
    var raw = x.encoded()
    raw[GPTPartitionEntry.Offset.partitionName + 2] = 0  // a NUL after one character, the rest kept
    let y = try GPTPartitionEntry(parsing: raw.span)
    #expect(y.name == "é")
    #expect(y.encoded() == raw)
  }

  @Test("a generated MBR or EBR decodes to itself", arguments: 0..<200)
  func mbr(seed: UInt64) throws {
    var rng = SplitMix64(state: seed)
    let entries = (0..<4).map { _ in
      MBRPartitionEntry(
        bootIndicator: rng.byte(), startingCHS: rng.bytes(3), osType: rng.byte(), endingCHS: rng.bytes(3),
        startingLBA: rng.value(), sizeInLBA: rng.value())
    }
    let x = MBR(
      bootCode: rng.bytes(MBR.Offset.diskSignature), diskSignature: rng.value(), reserved: rng.value(), entries: entries
    )
    let bytes = x.encoded()
    #expect(bytes.count == MBR.size)
    #expect(bytes[510] == 0x55 && bytes[511] == 0xAA)
    let y = try MBR(parsing: bytes.span, at: 0)
    #expect(y == x)
    for (slot, entry) in entries.enumerated() {
      let decoded = try MBRPartitionEntry(parsing: entry.encoded().span)
      #expect(decoded == entry)
      #expect(Array(bytes[MBR.entryOffset(slot)..<(MBR.entryOffset(slot) + 16)]) == entry.encoded())
    }
  }

  @Test("an MBR with fewer than four records stores empty ones")
  func mbrShort() throws {
    let only = MBRPartitionEntry(osType: 0xEE, startingLBA: 1, sizeInLBA: 99)
    let y = try MBR(parsing: MBR(entries: [only]).encoded().span, at: 0)
    #expect(y.entries[0] == only)
    #expect(y.entries.dropFirst().allSatisfy { $0.isEmpty && $0.osType == 0 })
    #expect(y.bootCode == [UInt8](repeating: 0, count: 440))
  }

  @Test(
    "every fixture's MBR, EBRs, GPT headers and entries re-encode byte for byte",
    .enabled(if: !RecordImages.fixtures.isEmpty, "no images/*.img: run `make images`"),
    arguments: RecordImages.fixtures)
  func fixture(_ path: String) throws {
    try RecordRoundTrip.check(path)
  }

  @Test(
    "every corpus image's MBR, EBRs, GPT headers and entries re-encode byte for byte",
    .enabled(if: Corpus.root != nil, "no ../shared/corpus/MANIFEST.json next to the package"),
    .timeLimit(.minutes(10)), arguments: RecordImages.corpus)
  func corpus(_ path: String) throws {
    try RecordRoundTrip.check(Corpus.decompressed(path).path)
  }
}

/// Reads an image's partition table and re-encodes each record it holds.
enum RecordRoundTrip {
  static func check(_ path: String) throws {
    let source = try TestFileSource(path: path)
    let layout = try PartitionTable.read(from: source)
    let ss = layout.sectorSize
    if let sector0 = try? source.read(at: 0, count: MBR.size), let mbr = try? MBR(parsing: sector0.span, at: 0) {
      #expect(mbr.encoded() == sector0, "\(path): MBR")
    }
    for partition in layout.partitions where partition.isLogical {
      let ebrAt = partition.entryOffset - Int64(MBR.Offset.partitionRecord)
      let sector = try source.read(at: ebrAt, count: MBR.size)
      let ebr = try MBR(parsing: sector.span, at: ebrAt, structure: "EBR")
      #expect(ebr.encoded() == sector, "\(path): EBR at byte \(ebrAt)")
    }
    for header in [layout.gpt?.primaryHeader, layout.gpt?.backupHeader].compactMap { $0 }
    where header.computedHeaderCRC32 == header.headerCRC32 {
      let block = try source.read(at: header.base, count: Int(header.headerSize))
      let arrayBytes = Int(header.entryArrayBytes ?? 0)
      let (start, overflow) = header.partitionEntryLBA.multipliedReportingOverflow(by: UInt64(ss))
      guard !overflow, arrayBytes <= 16 << 20, let at = Int64(exactly: start),
        at + Int64(arrayBytes) <= source.byteCount
      else {
        #expect(header.encoded(entryArrayCRC32: header.partitionEntryArrayCRC32) == block, "\(path): header")
        continue
      }
      let array = try source.read(at: at, count: arrayBytes)
      if CRC32.checksum(array) == header.partitionEntryArrayCRC32 {
        #expect(header.encoded(entryArray: array) == block, "\(path): header at byte \(header.base)")
      } else {
        #expect(header.encoded(entryArrayCRC32: header.partitionEntryArrayCRC32) == block, "\(path): header")
      }
      let size = Int(header.sizeOfPartitionEntry)
      guard size >= GPTPartitionEntry.definedSize else { continue }
      for index in 0..<(arrayBytes / size) {
        let raw = Array(array[(index * size)..<(index * size + GPTPartitionEntry.definedSize)])
        let entry = try GPTPartitionEntry(parsing: raw.span)
        #expect(entry.encoded() == raw, "\(path): entry \(index + 1)")
      }
    }
  }
}
