/// Receives the members of a tar stream from `TarReader`, in order.
///
/// For each member: `begin`, then `body` zero or more times with consecutive chunks of its
/// data (only when `begin` returned true), then `end`.
public protocol TarVisitor {
  /// A member's header was read. Return true to receive its data.
  mutating func begin(_ member: TarMember) throws -> Bool
  /// The next chunk of the member's data.
  mutating func body(_ bytes: Span<UInt8>, of member: TarMember) throws
  /// All the member's data has been delivered (or skipped).
  mutating func end(_ member: TarMember) throws
}

extension TarVisitor {
  public mutating func begin(_ member: TarMember) throws -> Bool { false }
  public mutating func body(_ bytes: Span<UInt8>, of member: TarMember) throws {}
  public mutating func end(_ member: TarMember) throws {}
}
