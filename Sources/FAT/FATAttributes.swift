/// DIR_Attr bits.
public struct FATAttributes: OptionSet, Hashable, Sendable, Codable {
  public let rawValue: UInt8
  public init(rawValue: UInt8) { self.rawValue = rawValue }

  public static let readOnly = FATAttributes(rawValue: 0x01)
  public static let hidden = FATAttributes(rawValue: 0x02)
  public static let system = FATAttributes(rawValue: 0x04)
  public static let volumeLabel = FATAttributes(rawValue: 0x08)
  public static let directory = FATAttributes(rawValue: 0x10)
  public static let archive = FATAttributes(rawValue: 0x20)
  /// The combination that marks a long-name slot.
  public static let longName: FATAttributes = [.readOnly, .hidden, .system, .volumeLabel]

  /// Letters as `mattrib` and `ls -l` style listings show them: `RHSVDA`, `-` where unset.
  public var letters: String {
    let pairs: [(FATAttributes, Character)] = [
      (.readOnly, "R"), (.hidden, "H"), (.system, "S"), (.volumeLabel, "V"), (.directory, "D"), (.archive, "A"),
    ]
    return String(pairs.map { contains($0.0) ? $0.1 : "-" })
  }
}
