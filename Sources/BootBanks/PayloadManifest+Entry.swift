extension PayloadManifest {
  /// What one bank file should hold.
  public struct Entry: Hashable, Sendable {
    /// Why a file is not checked against its digests.
    public enum Skip: Hashable, Sendable {
      /// A payload whose name starts with useropts, features or jumpstrt: per-host data that
      /// ESXi regenerates; the manifest holds the digests of an empty gzip.
      case perHost
      /// The VIB is not a bootbank VIB (e.g. "locker": its payloads live elsewhere).
      case notInBootbank(vibType: String)
      /// The payload's type is not one the bootbank installer writes to a bank (it writes
      /// `boot`, `vgz` and `tgz`): profiles also map upgrade tools, EFI and BIOS loaders, ISO
      /// images and text files of the VIB, which a bank does not hold.
      case notOnBank(payloadType: String)
      /// The descriptor lists the payload without any checksum.
      case noChecksum
    }

    /// The 8.3 file on the bank, as the profile maps it (e.g. "s.v00").
    public var fileName: String
    /// The payload name in the VIB (e.g. "s").
    public var payloadName: String
    /// The VIB the payload comes from (`vendor_type_name_version`).
    public var vibID: String
    /// The VIB's `<name>`, when its descriptor is present.
    public var vibName: String?
    /// The VIB's `<type>` ("bootbank", "locker"), when its descriptor is present.
    public var vibType: String?
    /// The payload's `type` ("boot", "vgz", "tgz", …), when its descriptor is present.
    public var payloadType: String?
    /// The payload's size as shipped (a bank's copy may differ: installers recompress).
    public var size: Int64?
    /// SHA-256 of the decompressed payload (`verify-process="gunzip"`), lower-case hex.
    public var sha256Gunzip: String?
    /// SHA-1 of the decompressed payload (`verify-process="gunzip"`), lower-case hex.
    public var sha1Gunzip: String?
    /// SHA-256 of the payload as shipped (a bank need not match it).
    public var sha256: String?
    /// Set when the file is not to be checked against its digests, and why.
    public var skip: Skip?

    /// True when the file is checked by decompressing it (ESXi: payload types boot, vgz,
    /// tgz; and any payload that carries a `gunzip` digest).
    public var verifiesByGunzip: Bool {
      guard skip == nil else { return false }
      if sha256Gunzip != nil || sha1Gunzip != nil { return true }
      return false
    }
  }

  /// How a bank's files relate to the manifest.
  public struct Coverage: Hashable, Sendable {
    /// Files the manifest has an entry for.
    public var covered: [String] = []
    /// Files no manifest covers by design (`PayloadManifest.uncoveredFiles`).
    public var uncovered: [String] = []
    /// Files neither the manifest nor the known exceptions explain.
    public var unknown: [String] = []
    /// Entries whose file is not on the bank (only payloads a bank holds: bootbank VIBs, bank types).
    public var missing: [Entry] = []
  }
}
