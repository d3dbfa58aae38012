/// Collects the members of a tar stream, as `tar tv` lists them; the reader checks every header.
public struct TarListing: TarVisitor, Sendable {
  public private(set) var members: [TarMember] = []

  public init() {}

  public mutating func begin(_ member: TarMember) throws -> Bool {
    members.append(member)
    return false
  }
}
