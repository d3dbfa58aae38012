import DiskFormat
import PartitionTable
import TestSupport
import Testing

/// Input built to hurt: each gives findings or a FormatError, quickly, and never a trap or a read
/// past the end.
@Suite("hostile input", .timeLimit(.minutes(1)))
struct HostileInputTests {
  @Test("zero-length and sub-sector sources throw a FormatError naming the MBR", arguments: [0, 1, 16, 128, 511])
  func tooShort(size: Int) {
    let error = #expect(throws: FormatError.self) { try PartitionTable.read(from: MemoryImage(.zeros(size))) }
    #expect(error?.structure == "MBR")
    #expect(error?.offset == 0)
    #expect(error?.kind == .truncated(needed: 512, available: size))
  }

  @Test("exactly one sector: an MBR whose records run past the disk")
  func oneSector() throws {
    var bytes = MBRImageBuilder.legacyESXi.build()
    bytes = Array(bytes[0..<512])
    let layout = try PartitionTable.read(from: MemoryImage(bytes))
    #expect(layout.type == .mbr)
    // The loader reads the four records (esxiBootable says nothing of what they hold); each
    // lies past the disk, so it finds no volume it can read and no bank.
    #expect(layout.esxiBootable)
    #expect(layout.loader.volumes.map(\.number) == [1, 2, 3, 4])
    #expect(!layout.loader.hasFATVolume(within: layout.sectorCount))
    #expect(layout.structure("MBR")?.findings.filter { $0.kind == "partitionPastEnd" }.count == 4)
    #expect(layout.structure("EBR chain")?.findings.contains { $0.kind == "ebrPastEnd" } == true)
  }

  @Test("a GPT truncated at every sector boundary reads without trapping")
  func truncatedEverywhere() throws {
    let full = GPTImageBuilder().build()
    for sectors in stride(from: 1, through: 256, by: 1) {
      let layout = try PartitionTable.read(from: MemoryImage(Array(full[0..<(sectors * 512)])))
      #expect(layout.type == .gpt)
      // The loader needs only LBA 1 and the entry array (LBA 2-33) to pass its checks.
      if sectors < 256 { #expect(layout.esxiBootable == (sectors >= 34), "\(sectors) sectors") }
    }
  }

  @Test(
    "absurd NumberOfPartitionEntries and SizeOfPartitionEntry allocate nothing",
    arguments: [
      (UInt32.max, UInt32(128)), (UInt32(1 << 20), UInt32(128)), (UInt32(128), UInt32.max),
      (UInt32(128), UInt32(1 << 31)), (UInt32.max, UInt32.max), (UInt32(0), UInt32(0)),
    ])
  func absurdArray(count: UInt32, size: UInt32) throws {
    var bytes = GPTImageBuilder().build()
    for header in [512, 255 * 512] {
      bytes.storeLittleEndian(count, at: header + 0x50)
      bytes.storeLittleEndian(size, at: header + 0x54)
      GPTFixup.refreshHeaderCRC(&bytes, headerOffset: header)
    }
    let layout = try PartitionTable.read(from: MemoryImage(bytes))
    #expect(!layout.esxiBootable)
    #expect(layout.structure(StructureVerdict.primaryHeader)?.ok == false)
    #expect(layout.structure(StructureVerdict.primaryEntries)?.findings.first?.kind == "entriesNotRead")
  }

  @Test("GPT entries that point past the end of the image")
  func entriesPastEnd() throws {
    var b = GPTImageBuilder()
    b.entries[1].last = 1 << 40
    let layout = try PartitionTable.read(from: MemoryImage(b.build()))
    let finding = layout.structure(StructureVerdict.primaryEntries)?.findings.first { $0.kind == "partitionPastEnd" }
    #expect(finding?.partition == 2)
    #expect(finding?.offset == Int64(1024 + 128 + 0x28))
    let expectedSize: UInt64 = ((1 << 40) - 128 + 1) * 512
    #expect(layout.partition(2)?.sizeBytes == expectedSize)
  }

  @Test("a header whose PartitionEntryLBA points past the end")
  func arrayPastEnd() throws {
    var bytes = GPTImageBuilder().build()
    bytes.storeLittleEndian(UInt64.max - 3, at: 512 + 0x48)
    GPTFixup.refreshHeaderCRC(&bytes, headerOffset: 512)
    let layout = try PartitionTable.read(from: MemoryImage(bytes))
    #expect(layout.structure(StructureVerdict.primaryEntries)?.ok == false)
    #expect(layout.linuxPartitions?.count == 2)  // the backup still serves Linux
  }

  @Test("HeaderSize larger than the sector and LBAs at UInt64.max")
  func extremeHeaderValues() throws {
    var bytes = GPTImageBuilder().build()
    for field in [0x18, 0x20, 0x28, 0x30] { bytes.storeLittleEndian(UInt64.max, at: 512 + field) }
    bytes.storeLittleEndian(UInt32.max, at: 512 + 0x0C)
    let layout = try PartitionTable.read(from: MemoryImage(bytes))
    let kinds = Set(layout.structure(StructureVerdict.primaryHeader)?.findings.map(\.kind) ?? [])
    #expect(kinds.isSuperset(of: ["badHeaderSize", "badMyLBA", "badAlternateLBA", "badLastUsableLBA"]))
  }

  @Test("an EBR chain of two EBRs that point at each other")
  func twoEBRLoop() throws {
    var b = MBRImageBuilder(sectors: 64)
    b.records = [MBRImageBuilder.Record(type: 0x05, start: 10, size: 40)]
    b.logicals = [(10, 1, 2, 0x83), (20, 1, 2, 0x83)]
    var bytes = b.build()
    bytes.put(MBRImageBuilder.recordBytes(.init(type: 0x05, start: 0, size: 4)), at: 20 * 512 + 0x1CE)
    let layout = try PartitionTable.read(from: MemoryImage(bytes))
    #expect(layout.partitions.map(\.number) == [1, 5, 6])
    let loop = layout.structure("EBR chain")?.findings.first { $0.kind == "ebrLoop" }
    #expect(loop?.offset == Int64(20 * 512 + 0x1CE + 8))
    #expect(loop?.lba == 10)
  }

  @Test("random sector 0 and LBA 1 never trap", arguments: 0..<64)
  func randomBytes(seed: Int) throws {
    var generator = SplitMix64(state: UInt64(seed) &+ 0x9E37_79B9_7F4A_7C15)
    var bytes = GPTImageBuilder().build()
    // Keep the signatures so the parser goes deep, randomise everything else in MBR and headers.
    for i in 0..<510 where !(0x1BE..<0x1CE).contains(i) || seed % 2 == 0 { bytes[i] = generator.byte() }
    for i in 520..<604 { bytes[i] = generator.byte() }
    for i in 1024..<(1024 + 256) { bytes[i] = generator.byte() }
    GPTFixup.refreshHeaderCRC(&bytes, headerOffset: 512)
    _ = try PartitionTable.read(from: MemoryImage(bytes))
    _ = try PartitionTable.read(from: MemoryImage(bytes, sectorSize: 4096))
  }
}

@Suite("hostile input: mutation", .timeLimit(.minutes(2)))
struct MutationTests {
  /// Flips a few random bytes anywhere in the table sectors of a GPT disk and of a legacy MBR
  /// disk, with and without fixing the CRCs, a few hundred times: every run must return.
  @Test("random mutations of table sectors never trap", arguments: 0..<8)
  func mutations(batch: Int) throws {
    var generator = SplitMix64(state: UInt64(1000 + batch) &+ 0x9E37_79B9_7F4A_7C15)
    let gpt = GPTImageBuilder().build()
    let mbr = MBRImageBuilder.legacyESXi.build()
    let gptTableBytes = Array(0..<(34 * 512)) + Array((222 * 512)..<(256 * 512))
    let mbrTableBytes = [0, 256, 512, 768, 896].flatMap { Array(($0 * 512)..<($0 * 512 + 512)) }
    for round in 0..<50 {
      var bytes = round % 2 == 0 ? gpt : mbr
      let places = round % 2 == 0 ? gptTableBytes : mbrTableBytes
      for _ in 0..<(1 + Int(generator.byte() % 8)) {
        let pick = (Int(generator.byte()) << 8 | Int(generator.byte())) % places.count
        bytes[places[pick]] ^= generator.byte() | 1
      }
      if round % 4 == 0 {
        GPTFixup.refreshEntriesCRC(&bytes, headerOffset: 512)
      }
      let layout = try PartitionTable.read(from: MemoryImage(bytes))
      _ = layout.allFindings
    }
  }
}
