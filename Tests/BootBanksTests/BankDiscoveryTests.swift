import DiskFormat
import Testing

@testable import BootBanks

@Suite("bank discovery over a ByteSource")
struct BankDiscoveryTests {
  /// An image with partitions of 64 sectors each at LBA 64·n, the magic in sector 1 of
  /// the ones listed in `magic` (at `magicOffset`, default the sector size).
  static func image(sectorSize: Int, magic: [Int: Int], partitions: Int) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: sectorSize * 64 * (partitions + 1))
    for (partition, offset) in magic {
      let base = sectorSize * 64 * partition + offset
      let stamp = BankUUID.magic + (0..<16).map { UInt8(partition) << 4 | UInt8($0) }
      bytes.replaceSubrange(base..<(base + 32), with: stamp)
    }
    return bytes
  }

  static func slot(_ n: Int, _ type: BankSlot.TableType, sectorSize: Int) -> BankSlot {
    let start = Int64(sectorSize * 64 * n)
    return BankSlot(partition: n, type: type, byteRange: start..<(start + Int64(sectorSize * 64)))
  }

  @Test func findsBanksByTypeMagicAndBootCfg() throws {
    let source = MemoryImage(Self.image(sectorSize: 512, magic: [1: 512, 5: 512, 6: 512, 7: 512], partitions: 7))
    let slots = [
      Self.slot(1, .gpt(BankSlot.efiSystem), sectorSize: 512),
      Self.slot(5, .gpt(BankSlot.basicData), sectorSize: 512),
      Self.slot(6, .gpt(BankSlot.basicData), sectorSize: 512),
      // vmkDiagnostic: the loader never looks, even with the magic.
      Self.slot(7, .gpt(GUID("9D275380-40AD-11DB-BF97-000C2911D1B8") ?? .zero), sectorSize: 512),
    ]
    let results = BankDiscovery.scan(source, slots: slots) { slice in
      slice.baseOffset == 512 * 64
        ? nil : Array(Fixture.bootCfg(updated: slice.baseOffset == 512 * 64 * 5 ? "2" : "1").utf8)
    }
    #expect(results.map(\.candidate.partition) == [1, 5, 6])
    #expect(results[0].candidate.bootConfig == nil)
    #expect(results[1].candidate.uuid?.kernelForm == "505152535455565758595a5b5c5d5e5f")
    let choice = LoaderReplay.run(results.map(\.candidate))
    #expect(choice.nextPartition == 5)
    #expect(choice.verdict(for: 1)?.status == .notABank(.noBootConfig))
  }

  @Test func mbrTypes() {
    #expect(BankSlot(partition: 5, type: .mbr(0x06), byteRange: 0..<1).mayBeBank)
    #expect(BankSlot(partition: 4, type: .mbr(0xEF), byteRange: 0..<1).mayBeBank)
    #expect(!BankSlot(partition: 7, type: .mbr(0xFC), byteRange: 0..<1).mayBeBank)
    #expect(!BankSlot(partition: 1, type: .mbr(0x05), byteRange: 0..<1).mayBeBank)
  }

  @Test func fourKnReadsBothOffsets() {
    let source = MemoryImage(Self.image(sectorSize: 4096, magic: [5: 4096, 6: 512], partitions: 6), sectorSize: 4096)
    let slots = [5, 6].map { Self.slot($0, .gpt(BankSlot.basicData), sectorSize: 4096) }
    let results = BankDiscovery.scan(source, slots: slots) { _ in Array(Fixture.bootCfg().utf8) }
    #expect(results.map(\.uuidOffset) == [4096, 512])
    #expect(results[0].findings.isEmpty)
    #expect(results[1].findings.map(\.kind) == ["bankUUIDAt512"])
  }

  @Test func unreadableBootCfgIsAFinding() {
    struct Broken: Error {}
    let source = MemoryImage(Self.image(sectorSize: 512, magic: [5: 512], partitions: 5))
    let results = BankDiscovery.scan(source, slots: [Self.slot(5, .mbr(0x06), sectorSize: 512)]) { _ in throw Broken() }
    #expect(results.first?.candidate.bootConfig == nil)
    #expect(results.first?.findings.map(\.kind) == ["bootConfigUnreadable"])
  }
}
