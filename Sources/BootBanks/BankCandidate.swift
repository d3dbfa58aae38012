import BootConfig

/// A partition the loader looks at, as the loader sees it: whether the VMware FAT magic
/// is in its second sector, and the bytes of its `/boot.cfg`.
///
/// `LoaderReplay` takes these in the loader's scan order (partition 1, 2, ...).
public struct BankCandidate: Hashable, Sendable {
  /// The partition number (MBR/GPT numbering, as the loader's `volid`).
  public var partition: Int
  /// The UUID after the magic, or `nil` when the magic is missing (not a bank).
  public var uuid: BankUUID?
  /// The bytes of `/boot.cfg`, or `nil` when there is none (not a bank: the ESP).
  public var bootConfig: [UInt8]?
  /// Whether writes to this partition fail (a worn or read-only medium). The loader
  /// ignores a failed write: its new state holds in memory for this boot only.
  public var writesFail: Bool
  /// Why the loader's own FAT library cannot open the volume or read `BOOT.CFG` from it
  /// (`libfat_open`, `libfat_searchdir`, a chain it cannot follow); `nil` when it can.
  public var volumeProblem: String?

  public init(
    partition: Int, uuid: BankUUID?, bootConfig: [UInt8]?, writesFail: Bool = false, volumeProblem: String? = nil
  ) {
    self.partition = partition
    self.uuid = uuid
    self.bootConfig = bootConfig
    self.writesFail = writesFail
    self.volumeProblem = volumeProblem
  }

  /// A candidate with a boot.cfg given as text.
  public init(partition: Int, uuid: BankUUID?, bootConfig text: String, writesFail: Bool = false) {
    self.init(partition: partition, uuid: uuid, bootConfig: Array(text.utf8), writesFail: writesFail)
  }
}
