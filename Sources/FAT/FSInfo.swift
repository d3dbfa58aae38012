import DiskFormat

/// The FAT32 FSInfo sector: hints for the free cluster count and the next free cluster.
///
/// The hints are checked against the FAT, never trusted (`FATVolume.check()`).
public struct FSInfo: Hashable, Sendable {
  /// FSI_Free_Count: 0xFFFFFFFF when unknown.
  public var freeCount: UInt32
  /// FSI_Nxt_Free: 0xFFFFFFFF when unknown.
  public var nextFree: UInt32
  /// FSI_Reserved1 (480 bytes) and FSI_Reserved2 (12 bytes), zero as mkfs.fat writes them but
  /// kept as read so the sector re-encodes byte for byte.
  public var reserved1: [UInt8]
  public var reserved2: [UInt8]

  enum Offset {
    static let leadSignature = 0, reserved1 = 4, structSignature = 484, freeCount = 488, nextFree = 492
    static let reserved2 = 496, trailSignature = 508
  }
  static let leadSignature: UInt32 = 0x4161_5252, structSignature: UInt32 = 0x6141_7272
  static let trailSignature: UInt32 = 0xAA55_0000
  /// Bytes of the structure.
  public static let size = 512
  static let structure = "FAT32 FSInfo sector"

  /// Decodes an FSInfo sector.
  ///
  /// - Parameters:
  ///   - sector: The sector BPB_FSInfo names (at least 512 bytes).
  ///   - base: Its absolute byte offset, used in errors.
  /// - Throws: `FormatError` for a short sector or a wrong signature.
  public init(parsing sector: Span<UInt8>, at base: Int64) throws(FormatError) {
    func field<T: FixedWidthInteger>(_: T.Type, _ name: String, _ offset: Int, expect: T? = nil) throws(FormatError)
      -> T
    {
      guard let value: T = sector.littleEndian(at: offset) else {
        throw FormatError(
          structure: Self.structure, field: name, offset: base &+ Int64(offset),
          kind: .truncated(needed: T.bitWidth / 8, available: max(0, sector.count - offset)))
      }
      if let expect, value != expect {
        throw FormatError(
          structure: Self.structure, field: name, offset: base &+ Int64(offset),
          kind: .badSignature(expected: UInt64(expect), found: UInt64(value)))
      }
      return value
    }
    _ = try field(UInt32.self, "FSI_LeadSig", Offset.leadSignature, expect: Self.leadSignature)
    _ = try field(UInt32.self, "FSI_StrucSig", Offset.structSignature, expect: Self.structSignature)
    _ = try field(UInt32.self, "FSI_TrailSig", Offset.trailSignature, expect: Self.trailSignature)
    freeCount = try field(UInt32.self, "FSI_Free_Count", Offset.freeCount)
    nextFree = try field(UInt32.self, "FSI_Nxt_Free", Offset.nextFree)
    reserved1 = sector.bytes(Offset.reserved1..<Offset.structSignature) ?? []
    reserved2 = sector.bytes(Offset.reserved2..<Offset.trailSignature) ?? []
  }

  /// An FSInfo sector from its hints, for writers (0xFFFFFFFF: unknown); reserved bytes zero.
  public init(freeCount: UInt32, nextFree: UInt32) {
    self.freeCount = freeCount
    self.nextFree = nextFree
    reserved1 = [UInt8](repeating: 0, count: Offset.structSignature - Offset.reserved1)
    reserved2 = [UInt8](repeating: 0, count: Offset.trailSignature - Offset.reserved2)
  }

  /// The structure's 512 bytes: the three signatures, the hints and the reserved bytes (padded
  /// with zeros or cut to their fields' lengths).
  public func encoded() -> [UInt8] {
    func fit(_ bytes: [UInt8], _ range: Range<Int>) -> [UInt8] {
      Array((bytes + [UInt8](repeating: 0, count: range.count)).prefix(range.count))
    }
    var out = [UInt8](repeating: 0, count: Self.size)
    out.storeLittleEndian(Self.leadSignature, at: Offset.leadSignature)
    out.storeBytes(fit(reserved1, Offset.reserved1..<Offset.structSignature), at: Offset.reserved1)
    out.storeLittleEndian(Self.structSignature, at: Offset.structSignature)
    out.storeLittleEndian(freeCount, at: Offset.freeCount)
    out.storeLittleEndian(nextFree, at: Offset.nextFree)
    out.storeBytes(fit(reserved2, Offset.reserved2..<Offset.trailSignature), at: Offset.reserved2)
    out.storeLittleEndian(Self.trailSignature, at: Offset.trailSignature)
    return out
  }
}
