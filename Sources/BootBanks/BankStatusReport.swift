/// The JSON shape of `bootbank status --json` (issue 5), built from a `BankChoice`.
///
/// `{"banks": [{"partition", "role", "uuid", "volumesUUID", "build", "updated",
/// "bootstate", "bootstateAfter", "bootable", "reason"}], "next": {"partition", "build"}
/// or null, "rollback", "fallback": {"partition", "bootable"} or null, "messages"}`.
public struct BankStatusReport: Hashable, Sendable, Codable {
  public struct Bank: Hashable, Sendable, Codable {
    public var partition: Int
    public var role: BankRole?
    /// 32 hex digits (the kernel's `bootUUID`), or `nil` without the magic.
    public var uuid: String?
    /// The `/vmfs/volumes` form.
    public var volumesUUID: String?
    public var build: String?
    public var updated: UInt32?
    /// As on disk; `nil` when missing (the loader reads 0).
    public var bootstate: Int32?
    /// What the loader holds and writes; `nil` when it does not count the partition.
    public var bootstateAfter: Int32?
    public var bootable: Bool
    public var reason: String

    /// Writes every key, `null` included, so scripts can rely on the key set.
    public func encode(to encoder: any Encoder) throws {
      var c = encoder.container(keyedBy: CodingKeys.self)
      try c.encode(partition, forKey: .partition)
      try c.encode(role, forKey: .role)
      try c.encode(uuid, forKey: .uuid)
      try c.encode(volumesUUID, forKey: .volumesUUID)
      try c.encode(build, forKey: .build)
      try c.encode(updated, forKey: .updated)
      try c.encode(bootstate, forKey: .bootstate)
      try c.encode(bootstateAfter, forKey: .bootstateAfter)
      try c.encode(bootable, forKey: .bootable)
      try c.encode(reason, forKey: .reason)
    }
  }

  public struct Next: Hashable, Sendable, Codable {
    public var partition: Int
    public var build: String?
  }

  public struct Fallback: Hashable, Sendable, Codable {
    public var partition: Int
    public var bootable: Bool
  }

  public var banks: [Bank]
  public var next: Next?
  public var rollback: Bool
  public var fallback: Fallback?
  public var messages: [String]

  /// Writes every key, `null` included.
  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(banks, forKey: .banks)
    try c.encode(next, forKey: .next)
    try c.encode(rollback, forKey: .rollback)
    try c.encode(fallback, forKey: .fallback)
    try c.encode(messages, forKey: .messages)
  }

  public init(_ choice: BankChoice) {
    banks = choice.banks.map {
      Bank(
        partition: $0.partition, role: $0.role, uuid: $0.uuid?.kernelForm, volumesUUID: $0.uuid?.volumesForm,
        build: $0.build, updated: $0.updated, bootstate: $0.bootstateBefore, bootstateAfter: $0.bootstateAfter,
        bootable: $0.bootable, reason: $0.reason)
    }
    next = choice.next.map { Next(partition: $0.partition, build: $0.build) }
    rollback = choice.rollback
    // The fallback is the /altbootbank: bootable or not, so a script sees a missing way back.
    // With no bank to boot there is no /bootbank, so no /altbootbank to fall back to: null.
    fallback = choice.banks.first { $0.role == .altbootbank }.map {
      Fallback(partition: $0.partition, bootable: $0.bootable)
    }
    messages = choice.messages
  }
}
