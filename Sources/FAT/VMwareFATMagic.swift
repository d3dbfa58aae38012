import DiskFormat

/// The VMware marker of a bootbank (and the ESP): the 16 ASCII bytes `VMWARE FAT16    `
/// followed by a 16-byte UUID, at the start of the volume's second sector
/// (`vmfat_get_uuid()` in esx-boot's `safeboot/vmfat.c`).
public struct VMwareFATMagic: Hashable, Sendable {
  public static let signature: [UInt8] = Array("VMWARE FAT16    ".utf8)

  /// The 16 UUID bytes as stored.
  public var uuid: [UInt8]
  /// Absolute byte offset of the signature in the image.
  public var offset: Int64

  /// Byte offsets in the record.
  enum Offset {
    static let signature = 0, uuid = 16, end = 32
  }
  /// Bytes of the record.
  public static let size = Offset.end

  /// Decodes the 32 bytes at the start of `bytes`; `nil` when the signature is not there.
  public init?(parsing bytes: Span<UInt8>, at offset: Int64) {
    guard bytes.count >= Self.size, bytes.bytes(Offset.signature..<Offset.uuid) == Self.signature,
      let uuid = bytes.bytes(Offset.uuid..<Offset.end)
    else {
      return nil
    }
    self.uuid = uuid
    self.offset = offset
  }

  /// A marker for writers: `uuid` (16 bytes) to be written at `offset`.
  public init(uuid: [UInt8], offset: Int64) {
    self.uuid = uuid
    self.offset = offset
  }

  /// The record's 32 bytes: the signature and the UUID (zero padded or cut to 16 bytes).
  public func encoded() -> [UInt8] {
    Self.signature + Array((uuid + [UInt8](repeating: 0, count: 16)).prefix(Offset.end - Offset.uuid))
  }

  /// The kernel's rendering (`bootUUID=`): each byte as two lower-case hex digits.
  public var kernelForm: String { Self.kernelForm(uuid) }

  /// The `/vmfs/volumes` rendering: the bytes unpacked little-endian as `<IIH6s>` and printed
  /// `%08x-%08x-%04x-<12 hex digits>`.
  public var volumeForm: String { Self.volumeForm(uuid) }

  /// The kernel rendering of 16 UUID bytes (`vmfat_uuid_to_str`).
  public static func kernelForm(_ uuid: [UInt8]) -> String { hexString(uuid) }

  /// The `/vmfs/volumes` rendering of 16 UUID bytes (fewer bytes read as zero-padded).
  public static func volumeForm(_ uuid: [UInt8]) -> String {
    let bytes = Array((uuid + [UInt8](repeating: 0, count: 16)).prefix(16))
    func le(_ range: Range<Int>) -> String { range.reversed().map { hexByte(bytes[$0]) }.joined() }
    return "\(le(0..<4))-\(le(4..<8))-\(le(8..<10))-\(hexString(Array(bytes[10..<16])))"
  }

  /// Reads the marker of the volume that fills `source`: at byte `sectorSize`, and on 4Kn
  /// media also at byte 512, where the 6.7 installer wrote it. The first found is returned.
  ///
  /// - Throws: `ReadError` when the source cannot be read.
  public static func read(from source: any ByteSource) throws -> VMwareFATMagic? {
    let base = source.absoluteBaseOffset
    var places: [Int64] = [Int64(source.sectorSize)]
    if source.sectorSize != 512 { places.append(512) }
    for place in places where place + 32 <= source.byteCount {
      let bytes = try source.read(at: place, count: 32)
      if let magic = VMwareFATMagic(parsing: bytes.span, at: base + place) { return magic }
    }
    return nil
  }
}
