/// The GPT partition attribute bits (UEFI 2.10, table 5.8).
public enum GPTAttributes {
  /// Bit 0: required for the platform to function (sfdisk "RequiredPartition").
  public static let requiredPartition: UInt64 = 1 << 0
  /// Bit 1: EFI firmware must not produce a Block IO protocol for it (sfdisk "NoBlockIOProtocol").
  public static let noBlockIOProtocol: UInt64 = 1 << 1
  /// Bit 2: legacy BIOS bootable (sfdisk "LegacyBIOSBootable").
  public static let legacyBIOSBootable: UInt64 = 1 << 2
  /// Bits 3–47: reserved, must be zero.
  public static let reservedMask: UInt64 = ((1 << 48) - 1) & ~0x7
  /// Bits 48–63: defined by the partition type (Microsoft basic data: 60 read-only, 62 hidden,
  /// 63 no drive letter).
  public static let typeSpecificMask: UInt64 = ~((1 << 48) - 1)

  /// One name per set bit, low bit first.
  public static func names(_ bits: UInt64) -> [String] {
    var out = [String]()
    for bit in 0..<64 where bits & (1 << UInt64(bit)) != 0 {
      switch bit {
      case 0: out.append("RequiredPartition")
      case 1: out.append("NoBlockIOProtocol")
      case 2: out.append("LegacyBIOSBootable")
      case 3..<48: out.append("Reserved:\(bit)")
      default: out.append("GUID:\(bit)")
      }
    }
    return out
  }

  /// The attribute string sfdisk prints: the named bits, then `GUID:` and the type-specific bit numbers.
  public static func sfdiskString(_ bits: UInt64) -> String {
    var words = [String]()
    if bits & requiredPartition != 0 { words.append("RequiredPartition") }
    if bits & noBlockIOProtocol != 0 { words.append("NoBlockIOProtocol") }
    if bits & legacyBIOSBootable != 0 { words.append("LegacyBIOSBootable") }
    let typeBits = (48..<64).filter { bits & (1 << UInt64($0)) != 0 }
    if !typeBits.isEmpty { words.append("GUID:" + typeBits.map(String.init).joined(separator: ",")) }
    return words.joined(separator: " ")
  }
}
