import CBlkid

/// What libblkid (util-linux) reports, for discovery and as an independent cross-check of our
/// own parsers. libblkid opens the path itself, read-only.
public enum Blkid {
  /// One partition as libblkid lists it.
  public struct Partition: Hashable, Sendable, Codable {
    public var number: Int
    /// Start and size in 512-byte units, as libblkid always reports them.
    public var start512: Int64
    public var size512: Int64
    /// MBR type byte (0 for GPT).
    public var type: Int
    /// GPT type GUID (upper case) or nil.
    public var typeString: String?
    public var name: String?
    public var uuid: String?
    public var flags: UInt64
  }

  /// The partition table as libblkid sees it.
  public struct Table: Hashable, Sendable, Codable {
    /// "gpt", "dos", …
    public var type: String
    public var id: String?
    public var partitions: [Partition]
  }

  /// The partition table of `path`, or nil when libblkid finds none (or cannot open it).
  ///
  /// - Parameter sectorSize: the logical sector size to assume for an image file.
  public static func partitions(path: String, sectorSize: Int? = nil) -> Table? {
    guard let probe = unsafe blkid_new_probe_from_filename(path) else { return nil }
    defer { unsafe blkid_free_probe(probe) }
    if let sectorSize { _ = unsafe blkid_probe_set_sectorsize(probe, UInt32(sectorSize)) }
    _ = unsafe blkid_probe_enable_superblocks(probe, 0)
    _ = unsafe blkid_probe_enable_partitions(probe, 1)
    _ = unsafe blkid_probe_set_partitions_flags(probe, Int32(BLKID_PARTS_ENTRY_DETAILS))
    guard let list = unsafe blkid_probe_get_partitions(probe),
      let table = unsafe blkid_partlist_get_table(list)
    else { return nil }
    var result = Table(
      type: unsafe string(blkid_parttable_get_type(table)) ?? "unknown",
      id: unsafe string(blkid_parttable_get_id(table)), partitions: [])
    let count = unsafe blkid_partlist_numof_partitions(list)
    if count > 0 {
      for index in 0..<count {
        guard let part = unsafe blkid_partlist_get_partition(list, index) else { continue }
        result.partitions.append(
          Partition(
            number: Int(unsafe blkid_partition_get_partno(part)),
            start512: Int64(unsafe blkid_partition_get_start(part)),
            size512: Int64(unsafe blkid_partition_get_size(part)),
            type: Int(unsafe blkid_partition_get_type(part)),
            typeString: unsafe string(blkid_partition_get_type_string(part))?.uppercased(),
            name: unsafe string(blkid_partition_get_name(part)),
            uuid: unsafe string(blkid_partition_get_uuid(part))?.uppercased(),
            flags: UInt64(unsafe blkid_partition_get_flags(part))))
      }
    }
    return result
  }

  /// The superblock values (TYPE, LABEL, UUID, VERSION, …) libblkid finds in `size` bytes at
  /// `offset` of `path` (the whole source when size is 0), like `blkid -p -O OFF -S SIZE`.
  public static func superblock(path: String, offset: Int64 = 0, size: Int64 = 0) -> [String: String] {
    guard let probe = unsafe blkid_new_probe_from_filename(path) else { return [:] }
    defer { unsafe blkid_free_probe(probe) }
    if offset != 0 || size != 0 {
      // Re-point the probe at the window; the fd stays libblkid's own.
      let fd = unsafe blkid_probe_get_fd(probe)
      guard unsafe blkid_probe_set_device(probe, fd, offset, size) == 0 else { return [:] }
    }
    _ = unsafe blkid_probe_enable_partitions(probe, 0)
    _ = unsafe blkid_probe_enable_superblocks(probe, 1)
    _ = unsafe blkid_probe_set_superblocks_flags(
      probe, Int32(BLKID_SUBLKS_LABEL | BLKID_SUBLKS_UUID | BLKID_SUBLKS_TYPE | BLKID_SUBLKS_VERSION))
    guard unsafe blkid_do_safeprobe(probe) == 0 else { return [:] }
    var values: [String: String] = [:]
    let count = unsafe blkid_probe_numof_values(probe)
    if count > 0 {
      for index in 0..<count {
        var name: UnsafePointer<CChar>? = nil
        var data: UnsafePointer<CChar>? = nil
        var length = 0
        if unsafe blkid_probe_get_value(probe, index, &name, &data, &length) == 0,
          let key = unsafe string(name), let value = unsafe string(data)
        {
          values[key] = value
        }
      }
    }
    return values
  }

  /// The block devices libblkid's cache knows after probing all of them (`blkid_probe_all`).
  public static func blockDevices() -> [String] {
    var cache: blkid_cache? = nil
    guard unsafe blkid_get_cache(&cache, "/dev/null") == 0, let cache = unsafe cache else { return [] }
    defer { unsafe blkid_put_cache(cache) }
    _ = unsafe blkid_probe_all(cache)
    guard let iterator = unsafe blkid_dev_iterate_begin(cache) else { return [] }
    defer { unsafe blkid_dev_iterate_end(iterator) }
    var names: [String] = []
    var device: blkid_dev? = nil
    while unsafe blkid_dev_next(iterator, &device) == 0 {
      if let device = unsafe device, let name = unsafe string(blkid_dev_devname(device)) {
        names.append(name)
      }
    }
    return names.sorted()
  }

  private static func string(_ pointer: UnsafePointer<CChar>?) -> String? {
    guard let pointer = unsafe pointer else { return nil }
    return unsafe String(cString: pointer)
  }
}
