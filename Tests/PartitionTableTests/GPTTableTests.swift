import DiskFormat
import PartitionTable
import TestSupport
import Testing

@Suite("GPT primary and backup")
struct GPTTableTests {
  @Test("an image dd'd onto a larger device: backup not at the last LBA is a warning, ESXi boots")
  func imageOnLargerDevice() throws {
    let image = GPTImageBuilder().build() + [UInt8].zeros(768 * 512)
    let layout = try PartitionTable.read(from: MemoryImage(image))
    #expect(layout.type == .gpt && layout.esxiBootable && !layout.hasErrors, "\(layout.allFindings.map(\.message))")
    let alternate = layout.structure(StructureVerdict.primaryHeader)?.findings.first { $0.kind == "badAlternateLBA" }
    #expect(alternate?.severity == .warning)
    #expect(alternate?.offset == Int64(512 + 0x20))
    #expect(layout.structure(StructureVerdict.backupHeader)?.ok == true)
    #expect(layout.structure(StructureVerdict.protectiveMBR)?.findings.first?.kind == "badSizeInLBA")
  }

  @Test("6.7's placeholder backup (no backup header at all) is a warning only")
  func placeholderBackup() throws {
    var image = GPTImageBuilder().build()
    image.put([UInt8].zeros(512), at: 255 * 512)
    let layout = try PartitionTable.read(from: MemoryImage(image))
    #expect(layout.esxiBootable)
    #expect(!layout.hasErrors)
    let backup = try #require(layout.structure(StructureVerdict.backupHeader))
    #expect(!backup.ok)
    #expect(backup.findings.allSatisfy { $0.severity == .warning })
    #expect(backup.findings.first?.kind == "badSignature")
    #expect(backup.findings.first?.offset == Int64(255 * 512))
  }

  @Test("both copies destroyed: no table for anyone")
  func bothGone() throws {
    var image = GPTImageBuilder().build()
    image.put([UInt8].zeros(512), at: 512)
    image.put([UInt8].zeros(512), at: 255 * 512)
    let layout = try PartitionTable.read(from: MemoryImage(image))
    #expect(layout.type == .gpt && layout.linuxType == .none && !layout.esxiBootable)
    #expect(layout.partitions.isEmpty && layout.linuxPartitions == nil)
    #expect(layout.findings.map(\.kind) == ["noSoundGPT", "noUsableGPT"])
  }

  @Test("entry size 256 and a 92-byte-plus HeaderSize are accepted")
  func largerEntries() throws {
    var b = GPTImageBuilder()
    b.entrySize = 256
    b.entryCount = 64
    let layout = try PartitionTable.read(from: MemoryImage(b.build()))
    #expect(layout.esxiBootable && !layout.hasErrors, "\(layout.allFindings.map(\.message))")
    #expect(layout.partition(2)?.entryOffset == Int64(1024 + 256))
  }

  @Test("the GPTHeader decoder alone: signature and truncation throw, everything else is left to judge")
  func headerDecoder() throws {
    let image = GPTImageBuilder().build()
    let header = try GPTHeader(parsing: Array(image[512..<1024]).span, at: 512)
    #expect(header.myLBA == 1 && header.alternateLBA == 255 && header.computedHeaderCRC32 == header.headerCRC32)
    #expect(header.diskGUID.description == "11111111-2222-3333-4444-555555555555")
    let short = #expect(throws: FormatError.self) { try GPTHeader(parsing: Array(image[512..<560]).span, at: 512) }
    #expect(short?.field == "HeaderSize")
    let none = #expect(throws: FormatError.self) { try GPTHeader(parsing: [UInt8].zeros(512).span, at: 4096) }
    #expect(none?.field == "Signature" && none?.offset == 4096)
  }
}
