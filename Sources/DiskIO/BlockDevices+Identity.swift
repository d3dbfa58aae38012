#if canImport(Glibc)
  import Glibc
#endif

extension BlockDevices {
  /// What tells one disk from another before writing to it, from sysfs as
  /// `lsblk -o TRAN,MODEL,SERIAL,SIZE` shows it.
  public struct Identity: Hashable, Sendable, Codable {
    /// "usb", "sata", "nvme", "virtio", "scsi", …; nil when there is none (loop devices).
    public var transport: String?
    public var model: String?
    public var serial: String?
    public var sizeBytes: Int64?
  }

  /// The identity of block device `path` (`/dev/sdb`), or nil when sysfs does not know it (an
  /// image file).
  public static func identity(of path: String) -> Identity? {
    guard path.hasPrefix("/dev/"), let name = path.split(separator: "/").last.map(String.init) else { return nil }
    let folder = "/sys/class/block/\(name)"
    guard let sectors = readText("\(folder)/size").flatMap({ Int64($0) }) else { return nil }
    let model = readText("\(folder)/device/model").flatMap { $0.isEmpty ? nil : $0 }
    let serial = [
      "\(folder)/device/serial", "\(folder)/serial", "\(folder)/device/wwid",
    ].lazy.compactMap { readText($0) }.first { !$0.isEmpty }
    return Identity(
      transport: transport(sysfsPath: resolved(folder)), model: model, serial: serial, sizeBytes: sectors * 512)
  }

  /// The transport lsblk would name, from the device's place in the sysfs tree.
  static func transport(sysfsPath: String?) -> String? {
    guard let path = sysfsPath else { return nil }
    let rules: [(String, String)] = [
      ("/usb", "usb"), ("/nvme", "nvme"), ("/ata", "sata"), ("/mmc", "mmc"), ("/virtio", "virtio"),
      ("/session", "iscsi"), ("/rport-", "fc"), ("/end_device-", "sas"), ("/host", "scsi"),
    ]
    return rules.first { path.contains($0.0) }?.1
  }

  static func resolved(_ path: String) -> String? {
    guard let real = unsafe realpath(path, nil) else { return nil }
    defer { unsafe free(real) }
    return unsafe String(cString: real)
  }
}
