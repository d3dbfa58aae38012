import DiskFormat
import Foundation
import TestSupport

/// A small ESXi-like GPT disk made by the reference tools (sgdisk, mkfs.fat, mcopy):
/// p1 ESP 64–8191, p5 8224–24575, p6 24608–40959, p7 40992–49118, all FAT16 with 4
/// reserved sectors; the VMware magic is patched into sector 1 of the ones asked for.
///
/// Recipe (what `build` runs):
///   truncate -s 24M disk.img
///   sgdisk -a 1 -n 1:64:8191 -t 1:EF00 -n 5:8224:24575 -t 5:0700 -c 5:BOOTBANK1 \
///          -n 6:24608:40959 -t 6:0700 -c 6:BOOTBANK2 -n 7:40992:49118 -t 7:0700 disk.img
///   mkfs.fat -F 16 -R 4 -s 1 -i <serial> -C pN.img <KiB>; mcopy -i pN.img boot.cfg ::/boot.cfg
///   dd if=pN.img of=disk.img bs=512 seek=<start> conv=notrunc
enum ESXiImage {
  struct Part {
    var number: Int
    var bootCfg: String?
    var magic: Bool = true
  }

  static let layout: [Int: (start: Int, end: Int)] = [
    1: (64, 8191), 5: (8224, 24575), 6: (24608, 40959), 7: (40992, 49118),
  ]

  static let toolsAvailable: Bool = {
    (try? run("sh", ["-c", "PATH=$PATH:/usr/sbin:/sbin; command -v sgdisk && command -v mkfs.fat && command -v mcopy"]))?
      .status == 0
  }()

  static func uuid(_ partition: Int) -> [UInt8] { (0..<16).map { UInt8(partition * 16 + $0) } }

  /// The MBR layout of a host upgraded in place from 4.x: p4 primary boot partition
  /// (type 0x04, active) at 32–8191, p1 extended holding logical p5 and p6 (type 0x06).
  static let mbrLayout: [Int: (start: Int, end: Int)] = [4: (32, 8191), 5: (8224, 24575), 6: (24608, 40959)]

  /// Builds the disk; the parts not listed stay unformatted (zeros).
  static func build(_ parts: [Part], mbr: Bool = false) throws -> [UInt8] {
    let dir = try TestPaths.scratchDirectory("esxi-image")
    defer { try? FileManager.default.removeItem(at: dir) }
    var script = """
      set -e
      export PATH=$PATH:/usr/sbin:/sbin MTOOLS_SKIP_CHECK=1
      cd '\(dir.path)'
      truncate -s 24M disk.img

      """
    if mbr {
      script += """
        printf 'label: dos\\ndisk.img1 : start=8192, size=40960, type=5\\ndisk.img4 : start=32, size=8160, type=4, bootable\\ndisk.img5 : start=8224, size=16352, type=6\\ndisk.img6 : start=24608, size=16352, type=6\\n' | sfdisk disk.img >/dev/null 2>&1

        """
    } else {
      script += """
        sgdisk -a 1 -n 1:64:8191 -t 1:EF00 -c 1:BOOT -n 5:8224:24575 -t 5:0700 -c 5:BOOTBANK1 \\
          -n 6:24608:40959 -t 6:0700 -c 6:BOOTBANK2 -n 7:40992:49118 -t 7:0700 disk.img >/dev/null

        """
    }
    let layout = mbr ? Self.mbrLayout : Self.layout
    for part in parts {
      guard let (start, end) = layout[part.number] else { continue }
      let kib = (end - start + 1) / 2
      script += "mkfs.fat -F 16 -R 4 -s 1 -i 1234567\(part.number) -C p\(part.number).img \(kib) >/dev/null\n"
      if let cfg = part.bootCfg {
        try Data(cfg.utf8).write(to: dir.appendingPathComponent("boot\(part.number).cfg"))
        script += "mcopy -i p\(part.number).img boot\(part.number).cfg ::/boot.cfg\n"
      }
      script += "dd if=p\(part.number).img of=disk.img bs=512 seek=\(start) conv=notrunc status=none\n"
    }
    let result = try run("sh", ["-c", script])
    guard result.status == 0 else { throw ToolError(message: result.stderr) }
    var bytes = [UInt8](try Data(contentsOf: dir.appendingPathComponent("disk.img")))
    for part in parts where part.magic {
      guard let (start, _) = layout[part.number] else { continue }
      let at = start * 512 + 512
      bytes.replaceSubrange(at..<(at + 32), with: Array("VMWARE FAT16    ".utf8) + uuid(part.number))
    }
    return bytes
  }

  struct ToolError: Error { var message: String }
}
