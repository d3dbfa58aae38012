import Archive
import Checksum
import DiskIO
import Foundation

/// The environment variables bootbank reads, read once at start and handed to the libraries.
struct Settings: Equatable {
  /// `BOOTBANK_CRC32=zlib`: CRC-32 by zlib instead of ISA-L.
  var crc32: CRC32.Backend = .isal
  /// `BOOTBANK_INFLATE=zlib`: inflate by zlib instead of ISA-L.
  var inflate: InflateBackend = .isal
  /// `BOOTBANK_READ=mmap`: stream image files through mapped windows instead of pread.
  var fileReads: Target.StreamMethod = .pread

  init() {}

  init(environment: [String: String]) {
    if environment["BOOTBANK_CRC32"] == "zlib" { crc32 = .zlib }
    if environment["BOOTBANK_INFLATE"] == "zlib" { inflate = .zlib }
    if environment["BOOTBANK_READ"] == "mmap" { fileReads = .mmap }
  }

  /// Makes these the libraries' defaults. Call once, before any work starts.
  func apply() {
    CRC32.defaultBackend = crc32
    InflateBackend.default = inflate
    Target.fileStreamMethod = fileReads
  }
}
