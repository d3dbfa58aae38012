/// Extracts selected small members of a tar stream into memory, under size caps.
///
/// Every member is listed; the data of members `select` accepts is kept. A selected member
/// larger than `maxMemberSize`, or selected data beyond `maxTotalSize`, is an error
/// (`TarError.memberTooLarge`), not a silent truncation.
public struct TarExtractor: TarVisitor {
  public let maxMemberSize: Int64
  public let maxTotalSize: Int64
  private let select: (TarMember) -> Bool
  public private(set) var members: [TarMember] = []
  /// The data of the selected regular members, by name.
  public private(set) var files: [String: [UInt8]] = [:]
  private var total: Int64 = 0
  private var current: [UInt8] = []
  private var collecting = false

  public init(maxMemberSize: Int64 = 16 << 20, maxTotalSize: Int64 = 64 << 20, select: @escaping (TarMember) -> Bool) {
    self.maxMemberSize = maxMemberSize
    self.maxTotalSize = maxTotalSize
    self.select = select
  }

  public mutating func begin(_ member: TarMember) throws -> Bool {
    members.append(member)
    collecting = false
    guard member.kind == .regular || member.kind == .contiguous, select(member) else { return false }
    guard member.size <= maxMemberSize else {
      throw TarError(
        .memberTooLarge(size: member.size, limit: maxMemberSize), member: member.name, field: "size",
        offset: member.headerOffset + 124)
    }
    guard total + member.size <= maxTotalSize else {
      throw TarError(
        .memberTooLarge(size: total + member.size, limit: maxTotalSize), member: member.name, field: "size",
        offset: member.headerOffset + 124)
    }
    total += member.size
    current = []
    current.reserveCapacity(Int(member.size))
    collecting = true
    return true
  }

  public mutating func body(_ bytes: Span<UInt8>, of member: TarMember) throws {
    bytes.withUnsafeBufferPointer { current.append(contentsOf: $0) }
  }

  public mutating func end(_ member: TarMember) throws {
    guard collecting else { return }
    collecting = false
    files[member.name] = current
    current = []
  }
}
