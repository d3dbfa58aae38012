import DiskFormat
import PartitionTable
import TestSupport

/// Builds small MBR disks in memory: four primary records and, optionally, an EBR chain.
struct MBRImageBuilder {
  struct Record {
    var boot: UInt8 = 0
    var type: UInt8
    var start: UInt32
    var size: UInt32
  }
  var sectors = 256
  var diskSignature: UInt32 = 0x1234_ABCD
  var records: [Record] = []
  /// Logical partitions: (EBR LBA, start relative to its EBR, size, type). EBRs link in order.
  var logicals: [(ebr: UInt32, start: UInt32, size: UInt32, type: UInt8)] = []

  static func recordBytes(_ r: Record) -> [UInt8] {
    MBRPartitionEntry(bootIndicator: r.boot, osType: r.type, startingLBA: r.start, sizeInLBA: r.size).encoded()
  }

  func build() -> [UInt8] {
    var image = [UInt8].zeros(sectors * 512)
    image.storeLittleEndian(diskSignature, at: 0x1B8)
    for (slot, record) in records.enumerated() { image.put(Self.recordBytes(record), at: 0x1BE + 16 * slot) }
    image[510] = 0x55
    image[511] = 0xAA
    let extendedStart = records.first { [0x05, 0x0F, 0x85].contains($0.type) }?.start ?? 0
    for (i, logical) in logicals.enumerated() {
      let base = Int(logical.ebr) * 512
      image.put(
        Self.recordBytes(Record(type: logical.type, start: logical.start, size: logical.size)), at: base + 0x1BE)
      if i + 1 < logicals.count {
        let next = logicals[i + 1]
        image.put(
          Self.recordBytes(Record(type: 0x05, start: next.ebr - extendedStart, size: next.start + next.size)),
          at: base + 0x1CE)
      }
      image[base + 510] = 0x55
      image[base + 511] = 0xAA
    }
    return image
  }

  /// The ESXi 4.x-upgraded layout, scaled down: p4 boot (active), p1 extended holding
  /// logical p5-p8, each EBR 32 sectors before its partition, p2 and p3 after it.
  static var legacyESXi: MBRImageBuilder {
    var b = MBRImageBuilder(sectors: 2048)
    b.records = [
      Record(type: 0x05, start: 256, size: 1024),
      Record(type: 0x06, start: 1280, size: 256),
      Record(type: 0xFB, start: 1536, size: 512),
      Record(boot: 0x80, type: 0x04, start: 32, size: 224),
    ]
    b.logicals = [
      (ebr: 256, start: 32, size: 224, type: 0x06),
      (ebr: 512, start: 32, size: 224, type: 0x06),
      (ebr: 768, start: 32, size: 96, type: 0xFC),
      (ebr: 896, start: 32, size: 352, type: 0x06),
    ]
    return b
  }
}
