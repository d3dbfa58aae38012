import DiskFormat

/// The FAT32 FSInfo sector: hints for the free cluster count and the next free cluster.
///
/// The hints are checked against the FAT, never trusted (`FATVolume.check()`).
public struct FSInfo: Hashable, Sendable {
  /// FSI_Free_Count: 0xFFFFFFFF when unknown.
  public var freeCount: UInt32
  /// FSI_Nxt_Free: 0xFFFFFFFF when unknown.
  public var nextFree: UInt32

  enum Offset {
    static let leadSignature = 0, structSignature = 484, freeCount = 488, nextFree = 492, trailSignature = 508
  }
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
    _ = try field(UInt32.self, "FSI_LeadSig", Offset.leadSignature, expect: 0x4161_5252)
    _ = try field(UInt32.self, "FSI_StrucSig", Offset.structSignature, expect: 0x6141_7272)
    _ = try field(UInt32.self, "FSI_TrailSig", Offset.trailSignature, expect: 0xAA55_0000)
    freeCount = try field(UInt32.self, "FSI_Free_Count", Offset.freeCount)
    nextFree = try field(UInt32.self, "FSI_Nxt_Free", Offset.nextFree)
  }
}
