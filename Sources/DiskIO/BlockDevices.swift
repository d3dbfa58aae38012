import SystemPackage

#if canImport(Glibc)
  import Glibc
#endif

/// Discovery of this machine's block devices.
public enum BlockDevices {
  /// Whole disks: libblkid's probe of the machine, plus every non-empty `/sys/block` entry
  /// (libblkid's cache lists only devices that carry a file system). RAM disks and
  /// unattached loop devices are left out. Sorted by path.
  public static func wholeDisks() -> [String] {
    var names = Set<String>()
    for entry in directoryEntries("/sys/block") where !entry.hasPrefix("ram") && !entry.hasPrefix("zram") {
      guard let size = readText("/sys/block/\(entry)/size"), let sectors = Int(size), sectors > 0 else { continue }
      names.insert("/dev/" + entry)
    }
    for device in Blkid.blockDevices() {
      // Keep whole disks only: a partition has a "partition" file in its sysfs folder.
      let base = device.split(separator: "/").last.map(String.init) ?? device
      if readText("/sys/class/block/\(base)/partition") == nil { names.insert(device) }
    }
    return names.sorted()
  }

  static func directoryEntries(_ path: String) -> [String] {
    guard let dir = unsafe opendir(path) else { return [] }
    defer { _ = unsafe closedir(dir) }
    var names: [String] = []
    while let entry = unsafe readdir(dir) {
      let name = unsafe withUnsafePointer(to: entry.pointee.d_name) { pointer in
        unsafe pointer.withMemoryRebound(to: CChar.self, capacity: 256) { unsafe String(cString: $0) }
      }
      if name != "." && name != ".." { names.append(name) }
    }
    return names
  }

  static func readText(_ path: String) -> String? {
    guard let fd = try? FileDescriptor.open(FilePath(path), .readOnly) else { return nil }
    defer { try? fd.close() }
    var buffer = [UInt8](repeating: 0, count: 256)
    guard let n = try? unsafe buffer.withUnsafeMutableBytes({ try unsafe fd.read(into: $0) }) else { return nil }
    return String(decoding: buffer[0..<n], as: UTF8.self).trimmingWhitespace()
  }
}

extension String {
  func trimmingWhitespace() -> String {
    var s = Substring(self)
    while let c = s.first, c.isWhitespace { s.removeFirst() }
    while let c = s.last, c.isWhitespace { s.removeLast() }
    return String(s)
  }
}
