import DiskFormat
import Foundation
import PartitionTable
import TestSupport
import Testing

@Suite("sector size")
struct SectorSizeTests {
  @Test("a GPT made for 512-byte sectors is read with 512")
  func at512() throws {
    let detection = try PartitionTable.detectSectorSize(of: MemoryImage(GPTImageBuilder().build()))
    #expect(detection == SectorSizeDetection(sectorSize: 512, reason: .gptHeaderAtLBA1))
  }

  @Test("a GPT made for 4096-byte sectors, in a file read at 512, is found at 4096 and read whole")
  func at4096() throws {
    var b = GPTImageBuilder()
    b.sectorSize = 4096
    b.sectors = 64
    b.entries = [
      .init(
        type: PartitionType.efiSystem, unique: "AAAAAAAA-0000-0000-0000-000000000001", first: 8, last: 15, name: "BOOT"),
      .init(
        type: PartitionType.vmfsL, unique: "AAAAAAAA-0000-0000-0000-000000000007", first: 16, last: 27, name: "OSDATA"),
    ]
    let image = MemoryImage(b.build(), sectorSize: 512)
    let detection = try PartitionTable.detectSectorSize(of: image)
    #expect(detection == SectorSizeDetection(sectorSize: 4096, reason: .gptHeaderFoundOnlyAtOtherSize))
    let layout = try PartitionTable.read(from: image)
    #expect(layout.sectorSize == 4096 && layout.sectorCount == 64)
    #expect(layout.type == .gpt && layout.esxiBootable && !layout.hasErrors, "\(layout.allFindings.map(\.message))")
    #expect(layout.partition(2)?.typeName == "VMFS-L (ESX-OSData)")
    #expect(layout.partition(2)?.offsetBytes == 16 * 4096)
    #expect(layout.partition(2)?.sizeBytes == 12 * 4096)
    // A 4Kn block device says 4096 itself.
    let device = MemoryImage(b.build(), sectorSize: 4096)
    #expect(try PartitionTable.detectSectorSize(of: device).reason == .gptHeaderAtLBA1)
    // Forced to 512: a protective MBR and nothing behind it, with a hint.
    let forced = try PartitionTable.read(from: image, sectorSize: 512)
    #expect(forced.type == .gpt && !forced.esxiBootable)
    #expect(forced.findings.contains { $0.kind == "noUsableGPT" })
    #expect(forced.findings.contains { $0.kind == "gptAtOtherSectorSize" && $0.offset == 4096 })
  }

  @Test("no GPT anywhere: the source's own size")
  func noGPT() throws {
    let detection = try PartitionTable.detectSectorSize(of: MemoryImage(MBRImageBuilder.legacyESXi.build()))
    #expect(detection == SectorSizeDetection(sectorSize: 512, reason: .sourceDefault))
  }

  @Test("a sector size that is not a power of two is refused", arguments: [0, 100, 513, 1 << 20])
  func badSize(size: Int) {
    #expect(throws: FormatError.self) {
      try PartitionTable.read(from: MemoryImage(GPTImageBuilder().build()), sectorSize: size)
    }
  }

  @Test("a layout round-trips through JSON")
  func codable() throws {
    let layout = try PartitionTable.read(from: MemoryImage(GPTImageBuilder().build()))
    let data = try JSONEncoder().encode(layout)
    #expect(try JSONDecoder().decode(DiskLayout.self, from: data) == layout)
  }
}
