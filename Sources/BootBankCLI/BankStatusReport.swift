import BootBanks

/// The JSON shape of `bootbank status --json`, built from a `BankChoice`.
///
/// `{"banks": [{"partition", "role", "uuid", "volumesUUID", "build", "updated",
/// "bootstate", "bootstateAfter", "bootable", "reason"}], "next": {"partition", "build"}
/// or null, "rollback", "fallback": {"partition", "bootable"} or null, "messages"}`.
struct BankStatusReport: Hashable, Sendable, Codable {
  struct Bank: Hashable, Sendable, Codable {
    var partition: Int
    var role: BankRole?
    /// 32 hex digits (the kernel's `bootUUID`), or `nil` without the magic.
    var uuid: String?
    /// The `/vmfs/volumes` form.
    var volumesUUID: String?
    var build: String?
    var updated: UInt32?
    /// As on disk; `nil` when missing (the loader reads 0).
    var bootstate: Int32?
    /// What the loader holds and writes; `nil` when it does not count the partition.
    var bootstateAfter: Int32?
    var bootable: Bool
    var reason: String

    /// Writes every key, `null` included, so scripts can rely on the key set.
    func encode(to encoder: any Encoder) throws {
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

  struct Next: Hashable, Sendable, Codable {
    var partition: Int
    var build: String?

    /// Writes both keys, `build` as `null` when boot.cfg names none.
    func encode(to encoder: any Encoder) throws {
      var c = encoder.container(keyedBy: CodingKeys.self)
      try c.encode(partition, forKey: .partition)
      try c.encode(build, forKey: .build)
    }
  }

  struct Fallback: Hashable, Sendable, Codable {
    var partition: Int
    var bootable: Bool
  }

  var banks: [Bank]
  var next: Next?
  var rollback: Bool
  var fallback: Fallback?
  var messages: [String]

  /// Writes every key, `null` included.
  func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(banks, forKey: .banks)
    try c.encode(next, forKey: .next)
    try c.encode(rollback, forKey: .rollback)
    try c.encode(fallback, forKey: .fallback)
    try c.encode(messages, forKey: .messages)
  }

  init(_ choice: BankChoice) {
    banks = choice.banks.map {
      Bank(
        partition: $0.partition, role: $0.role, uuid: $0.uuid?.kernelForm, volumesUUID: $0.uuid?.volumesForm,
        build: $0.build, updated: $0.updated, bootstate: $0.bootstateBefore, bootstateAfter: $0.bootstateAfter,
        bootable: $0.bootable, reason: $0.reason)
    }
    next = choice.next.map { Next(partition: $0.partition, build: $0.build) }
    rollback = choice.rollback
    fallback = choice.altbootbank.map { Fallback(partition: $0.partition, bootable: $0.bootable) }
    messages = choice.messages
  }
}
