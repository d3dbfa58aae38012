import DiskFormat

/// A FAT volume as ESXi's boot loader opens and reads it, with its own FAT library (syslinux's
/// `libfat` in vmware/esx-boot), which is not how Linux reads FAT.
///
/// `libfat_open()` (`libfat/open.c`) reads only sector 0 and refuses the volume when:
/// - BPB_BytsPerSec differs from the device's logical sector size, or is not 512 or 4096;
/// - BPB_SecPerClus is not a power of two (0 is taken as 256);
/// - the data region does not start before the end of the volume;
/// - the cluster count, which alone decides the type (≤ 0xFF4 FAT12, ≤ 0xFFF4 FAT16, else
///   FAT32; above 0xFFFFFF4 refused), needs a bigger FAT than BPB_FATSz16 (or BPB_FATSz32 when
///   that is 0) declares.
/// No boot signature, media byte, FAT count or root-entry count is checked. Files are found by
/// `fat_get_shortname()` (`bootlib/file.c`) and `libfat_searchdir()` (`libfat/searchdir.c`):
/// the first slot of the root directory whose 11 name bytes equal the 8.3 name, before a slot
/// whose first byte is 0; attributes are not looked at and long names never. A file is read
/// sector by sector along its chain (`libfat_nextsector()`), `DIR_FileSize` bytes.
///
/// Sectors are read from the whole device at `base` plus the sector's offset, as the loader's
/// `volume_read()` does: it does not stop at the end of the partition, only at the end of the
/// disk.
public struct LoaderFAT: Sendable {
  /// Why `libfat_open()` refuses a volume.
  public enum Refusal: Error, Hashable, Sendable, CustomStringConvertible {
    case unreadable(String)
    case bytesPerSector(bpb: Int, device: Int)
    case sectorsPerCluster(UInt8)
    case noDataRegion(dataStart: UInt64, volumeEnd: UInt64)
    case tooManyClusters(UInt64)
    case fatTooSmall(type: FATType, clusters: UInt32, neededSectors: UInt64, fatSectors: UInt32)

    public var description: String {
      switch self {
      case .unreadable(let why): "its boot sector cannot be read: \(why)"
      case .bytesPerSector(let bpb, let device):
        device != 512 && device != 4096
          ? "the device's \(device)-byte sectors are neither 512 nor 4096 bytes"
          : "BPB_BytsPerSec is \(bpb), the device's sectors are \(device) bytes"
      case .sectorsPerCluster(let value): "BPB_SecPerClus is \(value), not a power of two"
      case .noDataRegion(let start, let end):
        "its data region would start at sector \(start), not before the volume's end at sector \(end)"
      case .tooManyClusters(let count): "\(count) clusters are more than FAT32 can address"
      case .fatTooSmall(let type, let clusters, let needed, let fat):
        "\(clusters) clusters make it \(type) to the loader, whose FAT needs \(needed) sectors; BPB says \(fat)"
      }
    }
  }

  /// Why the loader cannot read a file it found.
  public struct ReadFailure: Error, Hashable, Sendable, CustomStringConvertible {
    public var description: String
  }

  let source: any ByteSource
  let base: Int64
  public let bytesPerSector: Int
  /// The type by the cluster count alone.
  public let type: FATType
  public let clusterCount: UInt32
  let clusterShift: UInt64
  let fatStart: UInt64
  let rootDirectory: UInt64
  let dataStart: UInt64
  let endCluster: UInt64
  let rootCluster: UInt32

  /// `libfat_open()` on the volume whose sector 0 is at byte `base` of `source`.
  ///
  /// - Parameters:
  ///   - source: The whole device.
  ///   - base: Byte offset of the partition.
  ///   - sectorSize: The device's logical sector size (`disk->bytes_per_sector`).
  public init(source: any ByteSource, base: Int64, sectorSize: Int) throws(Refusal) {
    self.source = source
    self.base = base
    bytesPerSector = sectorSize
    let boot: [UInt8]
    do {
      guard base >= 0, sectorSize > 0, base <= source.byteCount - Int64(sectorSize) else {
        throw Refusal.unreadable("sector 0 lies past the end of the device")
      }
      boot = try source.read(at: base, count: sectorSize)
    } catch let refusal as Refusal {
      throw refusal
    } catch {
      throw .unreadable("\(error)")
    }
    func u8(_ at: Int) -> UInt8 { boot[at] }
    func u16(_ at: Int) -> UInt32 { UInt32(boot.littleEndian(UInt16.self, at: at) ?? 0) }
    func u32(_ at: Int) -> UInt32 { boot.littleEndian(UInt32.self, at: at) ?? 0 }

    let bpb = Int(u16(0x0B))
    guard bpb == sectorSize, sectorSize == 512 || sectorSize == 4096 else {
      throw .bytesPerSector(bpb: bpb, device: sectorSize)
    }
    guard let shift = (0...8).first(where: { UInt8(truncatingIfNeeded: 1 << $0) == u8(0x0D) }) else {
      throw .sectorsPerCluster(u8(0x0D))
    }
    clusterShift = UInt64(shift)
    var sectors = u16(0x13)
    if sectors == 0 { sectors = u32(0x20) }
    let end = UInt64(sectors)
    fatStart = UInt64(u16(0x0E))
    var fatSize = u16(0x16)
    if fatSize == 0 { fatSize = u32(0x24) }
    // fs->rootdir = fs->fat + fatsize * bsFATs, in 32-bit arithmetic as the C does
    rootDirectory = fatStart + UInt64(fatSize &* UInt32(u8(0x10)))
    let rootSectors = ((u16(0x11) << 5) + UInt32(sectorSize) - 1) / UInt32(sectorSize)
    dataStart = rootDirectory + UInt64(rootSectors)
    guard dataStart < end else { throw .noDataRegion(dataStart: dataStart, volumeEnd: end) }
    let clusters = (end - dataStart) >> clusterShift
    endCluster = clusters + 2
    var minimum: UInt64
    if clusters <= 0xFF4 {
      type = .fat12
      minimum = endCluster + (endCluster >> 1)
    } else if clusters <= 0xFFF4 {
      type = .fat16
      minimum = endCluster << 1
    } else if clusters <= 0xFFF_FFF4 {
      type = .fat32
      minimum = endCluster << 2
    } else {
      throw .tooManyClusters(clusters)
    }
    clusterCount = UInt32(clusters)
    minimum = (minimum + UInt64(sectorSize) - 1) / UInt64(sectorSize)
    guard minimum <= UInt64(fatSize) else {
      throw .fatTooSmall(type: type, clusters: UInt32(clusters), neededSectors: minimum, fatSectors: fatSize)
    }
    rootCluster = type == .fat32 ? u32(0x2C) : 0
  }

  /// Why the loader would refuse the volume filling `source` (a partition slice, or a whole
  /// image), or `nil` when `libfat_open()` accepts it.
  public static func refusal(of source: any ByteSource) -> Refusal? {
    let (device, base): (any ByteSource, Int64) =
      if let slice = source as? SourceSlice { (slice.base, slice.baseOffset) } else { (source, 0) }
    do {
      _ = try LoaderFAT(source: device, base: base, sectorSize: source.sectorSize)
      return nil
    } catch {
      return error
    }
  }

  /// `fat_get_shortname()`: leading slashes dropped, blanks dropped, upper-cased, base name cut
  /// to 8 and extension to 3 bytes, both padded with blanks. ("/boot.cfg" → "BOOT    CFG".)
  public static func shortName(_ path: String) -> [UInt8] {
    var name = Array(path.utf8)
    while name.first == UInt8(ascii: "/") { name.removeFirst() }
    func upper(_ c: UInt8) -> UInt8 { (c >= 0x61 && c <= 0x7A) ? c - 0x20 : c }
    var out: [UInt8] = []
    var i = 0
    while i < name.count, name[i] != UInt8(ascii: "."), out.count < 8 {
      if name[i] != UInt8(ascii: " ") { out.append(upper(name[i])) }
      i += 1
    }
    while out.count < 8 { out.append(0x20) }
    while i < name.count, name[i] != UInt8(ascii: ".") { i += 1 }
    if i < name.count {
      i += 1
      while i < name.count, out.count < 11 {
        if name[i] != UInt8(ascii: " ") { out.append(upper(name[i])) }
        i += 1
      }
    }
    while out.count < 11 { out.append(0x20) }
    return out
  }

  /// `libfat_clustertosector()`: `nil` for the loader's -1.
  func sector(ofCluster value: UInt32) -> UInt64? {
    let cluster = value == 0 ? rootCluster : value
    if cluster == 0 { return rootDirectory }
    guard cluster >= 2, UInt64(cluster) < endCluster else { return nil }
    return dataStart + (UInt64(cluster - 2) << clusterShift)
  }

  /// `libfat_get_sector()`: nil when it lies past the end of the device.
  func readSector(_ sector: UInt64) throws -> [UInt8]? {
    let (offset, overflow) = sector.multipliedReportingOverflow(by: UInt64(bytesPerSector))
    guard !overflow, let relative = Int64(exactly: offset) else { return nil }
    let (at, o2) = base.addingReportingOverflow(relative)
    guard !o2, at <= source.byteCount - Int64(bytesPerSector) else { return nil }
    return try source.read(at: at, count: bytesPerSector)
  }

  /// `libfat_nextsector()`: the next sector of a chain, 0 at its end, `nil` for -1.
  func nextSector(_ s: UInt64) throws -> UInt64? {
    if s < dataStart {
      if s < rootDirectory { return nil }
      return s + 1 < dataStart ? s + 1 : 0
    }
    let relative = s - dataStart
    let mask = (UInt64(1) << clusterShift) - 1
    if ~relative & mask != 0 { return s + 1 }
    let cluster = 2 + (relative >> clusterShift)
    guard cluster < endCluster else { return nil }
    let bps = UInt64(bytesPerSector)
    func byte(_ offset: UInt64) throws -> UInt32? {
      guard let sector = try readSector(fatStart + offset / bps) else { return nil }
      return UInt32(sector[Int(offset % bps)])
    }
    var next: UInt32
    switch type {
    case .fat12:
      let offset = cluster + (cluster >> 1)
      guard let lo = try byte(offset), let hi = try byte(offset + 1) else { return nil }
      next = lo | hi << 8
      next = cluster & 1 != 0 ? next >> 4 : next & 0x0FFF
      if next >= 0x0FF8 { return 0 }
    case .fat16:
      let offset = cluster << 1
      guard let lo = try byte(offset), let hi = try byte(offset + 1) else { return nil }
      next = lo | hi << 8
      if next >= 0xFFF8 { return 0 }
    case .fat32:
      // libfat shifts by bytes_per_sector here (`fatoffset >> fs->bytes_per_sector`), which C
      // leaves undefined; this reads the entry where the FAT holds it.
      let offset = cluster << 2
      guard let b0 = try byte(offset), let b1 = try byte(offset + 1), let b2 = try byte(offset + 2),
        let b3 = try byte(offset + 3)
      else { return nil }
      next = (b0 | b1 << 8 | b2 << 16 | b3 << 24) & 0x0FFF_FFFF
      if next >= 0x0FFF_FFF8 { return 0 }
    }
    return sector(ofCluster: next)
  }

  /// A root-directory slot as `libfat_searchdir()` returns it.
  public struct Found: Hashable, Sendable {
    /// DIR_FstClusLO + DIR_FstClusHI << 16 (the high half on every FAT type, as libfat reads it).
    public var cluster: UInt32
    public var size: UInt32
    /// The slot's attribute byte (the loader does not look at it).
    public var attributes: UInt8
  }

  /// `libfat_searchdir(fs, 0, name)`: the first root-directory slot whose 11 name bytes are
  /// `shortName`, or `nil` ("not found").
  ///
  /// - Throws: `ReadFailure` where the loader's walk meets -1 (a sector past the device, a
  ///   chain out of range).
  public func searchRoot(shortName: [UInt8]) throws -> Found? {
    guard var s = sector(ofCluster: 0) else { throw ReadFailure(description: "the root directory is out of range") }
    // A walk longer than the largest directory, or than the volume, is a loop.
    var budget = (65_536 * 32) / bytesPerSector + 1
    while true {
      if s == 0 { return nil }
      budget -= 1
      guard budget >= 0 else { throw ReadFailure(description: "the root directory's chain does not end") }
      guard let bytes = try readSector(s) else {
        throw ReadFailure(description: "root directory sector \(s) lies past the end of the device")
      }
      for at in stride(from: 0, to: bytesPerSector, by: 32) {
        if Array(bytes[at..<(at + 11)]) == shortName {
          let low = UInt32(bytes.littleEndian(UInt16.self, at: at + 26) ?? 0)
          let high = UInt32(bytes.littleEndian(UInt16.self, at: at + 20) ?? 0)
          let size = bytes.littleEndian(UInt32.self, at: at + 28) ?? 0
          return Found(cluster: size == 0 ? 0 : low + (high << 16), size: size, attributes: bytes[at + 11])
        }
        if bytes[at] == 0 { return nil }
      }
      guard let next = try nextSector(s) else {
        throw ReadFailure(description: "the root directory's chain breaks after sector \(s)")
      }
      s = next
    }
  }

  /// `fat_file_load()` of a file found by `searchRoot`: `size` bytes read sector by sector along
  /// the chain from its first cluster.
  ///
  /// - Parameter maximumSize: A larger file is refused before it is read.
  public func contents(of found: Found, maximumSize: UInt32) throws -> [UInt8] {
    guard found.size <= maximumSize else {
      throw ReadFailure(description: "the file is \(found.size) bytes, more than \(maximumSize)")
    }
    guard var s = sector(ofCluster: found.cluster) else {
      throw ReadFailure(description: "its first cluster \(found.cluster) is out of range")
    }
    let count = (Int(found.size) + bytesPerSector - 1) / bytesPerSector
    var data: [UInt8] = []
    data.reserveCapacity(count * bytesPerSector)
    for _ in 0..<count {
      guard let bytes = try readSector(s) else {
        throw ReadFailure(description: "sector \(s) of the volume lies past the end of the device")
      }
      data += bytes
      guard let next = try nextSector(s) else {
        throw ReadFailure(description: "its chain breaks after sector \(s)")
      }
      s = next
    }
    return Array(data.prefix(Int(found.size)))
  }
}
