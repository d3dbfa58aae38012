import ArgumentParser
import DiskIO
import Foundation
import PartitionTable
import TestSupport
import Testing

@testable import BootBankCLI

/// Our partition lists against libblkid's, on every corpus image that has a partition table.
@Suite("libblkid cross-check on the corpus")
struct CrossCheckCorpusTests {
  /// The disagreements the corpus README documents ("Where the tools disagree"), by image.
  /// Everywhere else libblkid and bootbank must agree exactly.
  static let documented: [String: String] = [
    // Sector 0 is both an MBR and a FAT boot sector: blkid -p reports only the whole-disk vfat,
    // while the loader (and sfdisk) read the DOS table that is really there.
    "util-linux/images-fs/fat.img.xz": "table type: bootbank reads mbr, libblkid none",
    "dosfstools/images/referenceFAT32mbr.img.xz": "table type: bootbank reads mbr, libblkid none",
    // Other label types: libblkid lists their slices; they are not MBR/GPT and ESXi cannot boot them.
    "util-linux/images-pt/bsd.img.xz": "libblkid reads a bsd label",
    "util-linux/images-pt/sgi.img.xz": "libblkid reads a sgi label",
    "util-linux/images-pt/sun.img.xz": "libblkid reads a sun label",
    // libblkid lists the BSD slices nested inside the DOS partition; sfdisk and the loader do not.
    "util-linux/images-pt/dos+bsd.img.xz": "partition 5: only libblkid lists it",
  ]

  static let images: [String] = {
    ((try? Corpus.manifestImages()) ?? []).compactMap { image in
      let expected = image["expected"] as? [String: Any]
      return expected?["partition_table"] != nil ? image["path"] as? String : nil
    }
  }()

  @Test(.enabled(if: Corpus.root != nil, "../shared/corpus is absent: cross-check skipped"))
  func everyImageWithATableIsCovered() {
    #expect(Self.images.count == 20)
  }

  @Test(.enabled(if: Corpus.root != nil, "../shared/corpus is absent: cross-check skipped"), arguments: images)
  func agreesWithLibblkid(path: String) throws {
    let url = try Corpus.decompressed(path)
    // No --sector-size: the 4K images (gptman disk2, disk4) must be detected from the bytes.
    let options = try TargetOptions.parse([url.path])
    let device = try OpenedDevice.open(options)
    let check = CrossCheck.make(device)
    if let expected = Self.documented[path] {
      #expect(!check.agrees)
      #expect(check.differences.contains { $0.contains(expected) }, "\(check.differences)")
    } else {
      #expect(check.agrees, "\(check.differences)")
      #expect(check.blkidPartitions.count == device.layout.partitions.count)
    }
  }
}
