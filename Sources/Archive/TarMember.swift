/// One member of a tar archive, as its header (and any GNU long-name or pax header) describes it.
public struct TarMember: Hashable, Sendable {
  /// What the typeflag says the member is.
  public enum Kind: Hashable, Sendable {
    case regular, hardLink, symbolicLink, characterDevice, blockDevice, directory, fifo, contiguous
    /// Any other typeflag (GNU 'S' sparse, 'V' volume label, 'D' dump directory, vendor types).
    case other(UInt8)

    init(typeflag: UInt8) {
      switch typeflag {
      case UInt8(ascii: "0"), 0: self = .regular
      case UInt8(ascii: "1"): self = .hardLink
      case UInt8(ascii: "2"): self = .symbolicLink
      case UInt8(ascii: "3"): self = .characterDevice
      case UInt8(ascii: "4"): self = .blockDevice
      case UInt8(ascii: "5"): self = .directory
      case UInt8(ascii: "6"): self = .fifo
      case UInt8(ascii: "7"): self = .contiguous
      default: self = .other(typeflag)
      }
    }

    /// Types whose size field does not announce data blocks (as Go's archive/tar treats them).
    var isHeaderOnly: Bool {
      switch self {
      case .hardLink, .symbolicLink, .characterDevice, .blockDevice, .directory, .fifo: return true
      default: return false
      }
    }
  }

  /// The full path: pax `path`, else a GNU long name, else ustar prefix "/" name.
  public var name: String
  public var kind: Kind
  /// The raw typeflag byte.
  public var typeflag: UInt8
  /// Bytes of data that follow the header (0 for header-only types).
  public var size: Int64
  public var mode: UInt32
  public var uid: Int64
  public var gid: Int64
  /// Seconds since 1970.
  public var modificationTime: Int64
  public var linkName: String
  public var userName: String
  public var groupName: String
  /// Offset of the member's own header block in the tar stream (after any 'L'/'x' headers).
  public var headerOffset: Int64
  /// Offset of the member's first data byte in the tar stream.
  public var dataOffset: Int64
}
