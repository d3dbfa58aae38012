import BootBanks
import DiskFormat

/// The JSON shape of `bootbank status --json`, built from a `BankChoice`.
///
/// `{"banks": [{"partition", "role", "uuid", "volumesUUID", "build", "updated",
/// "bootstate", "bootstateAfter", "bootable", "reason"}], "next": {"partition", "build"}
/// or null, "rollback", "fallback": {"partition", "bootable"} or null, "messages"}`.
struct BankStatusReport: Hashable, Sendable, Codable {
  struct Bank: Hashable, Sendable, Codable {
    var partition: Int
    @Nullable var role: BankRole?
    /// 32 hex digits (the kernel's `bootUUID`), or `nil` without the magic.
    @Nullable var uuid: String?
    /// The `/vmfs/volumes` form.
    @Nullable var volumesUUID: String?
    @Nullable var build: String?
    @Nullable var updated: UInt32?
    /// As on disk; `nil` when missing (the loader reads 0).
    @Nullable var bootstate: Int32?
    /// What the loader holds and writes; `nil` when it does not count the partition.
    @Nullable var bootstateAfter: Int32?
    var bootable: Bool
    var reason: String

  }

  struct Next: Hashable, Sendable, Codable {
    var partition: Int
    @Nullable var build: String?

  }

  struct Fallback: Hashable, Sendable, Codable {
    var partition: Int
    var bootable: Bool
  }

  var banks: [Bank]
  @Nullable var next: Next?
  var rollback: Bool
  @Nullable var fallback: Fallback?
  var messages: [String]

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
