import Checksum
import DiskFormat

/// What a writing command will do to a device, decided before anything is written.
///
/// Ordered steps: a write of whole sectors (with the digest of the bytes it expects to find
/// there and the digest of the bytes it puts there) or a barrier (everything before is on the
/// medium before anything after is written), each with its reason. The loader's choice before
/// and after is computed by replaying the loader on the current bytes and on the planned
/// bytes (`WritePlanner.choice(of:)`). A plan with a `refusal` is shown but never executed.
public struct WritePlan: Hashable, Sendable, Encodable {
  /// What identifies the device the plan was made for.
  public struct TargetIdentity: Hashable, Sendable, Codable {
    public var path: String
    public var sizeBytes: Int64
    public var sectorSize: Int
    /// The GPT disk GUID (nil on an MBR disk; `null` in JSON).
    @Nullable public var diskGUID: String?

    public init(path: String, sizeBytes: Int64, sectorSize: Int, diskGUID: String?) {
      self.path = path
      self.sizeBytes = sizeBytes
      self.sectorSize = sectorSize
      self.diskGUID = diskGUID
    }

    /// How `other` differs from this identity, or nil when it is the same device.
    public func difference(from other: TargetIdentity) -> String? {
      var parts: [String] = []
      if path != other.path { parts.append("path \(other.path), not \(path)") }
      if sizeBytes != other.sizeBytes { parts.append("size \(other.sizeBytes) bytes, not \(sizeBytes)") }
      if sectorSize != other.sectorSize { parts.append("sector size \(other.sectorSize), not \(sectorSize)") }
      if diskGUID != other.diskGUID {
        parts.append("disk GUID \(other.diskGUID ?? "none"), not \(diskGUID ?? "none")")
      }
      return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }
  }

  /// One step.
  ///
  /// A write's content is either held (`bytes`: tables, boot.cfg, a few sectors) or streamed
  /// (`streamed`: file data or an image's ranges, read from their source while written, so a
  /// plan's memory does not grow with what it copies).
  public struct Step: Hashable, Sendable, Encodable {
    public enum Kind: String, Hashable, Sendable, Codable { case write, barrier }
    public var kind: Kind
    public var reason: String
    /// Byte offset on the device (writes only).
    public var offset: Int64?
    public var lba: UInt64?
    public var sectorCount: Int?
    /// SHA-256 of the bytes the write expects to find (hex).
    public var expectedSHA256: String?
    /// SHA-256 of the bytes it writes (hex).
    public var newSHA256: String?
    /// The bytes written, when held (not in the JSON form; their digest is).
    public var bytes: [UInt8]
    /// Where the bytes written come from, when streamed (the JSON form names it in `from`).
    public var streamed: StreamedBytes?

    /// How many bytes the write puts on the device.
    public var byteCount: Int { streamed?.count ?? bytes.count }

    public static func write(offset: Int64, old: [UInt8], new: [UInt8], sectorSize: Int, reason: String) -> Step {
      Step(
        kind: .write, reason: reason, offset: offset, lba: UInt64(offset) / UInt64(sectorSize),
        sectorCount: new.count / sectorSize, expectedSHA256: sha256Hex(old), newSHA256: sha256Hex(new), bytes: new)
    }

    /// A streamed write of `content` at `offset`, with the digests of the bytes found there now
    /// and of `content`, when the planner knows them (from a bmap, an undo file).
    public static func copy(
      _ content: StreamedBytes, to offset: Int64, expectedSHA256: String, newSHA256: String, sectorSize: Int,
      reason: String
    ) -> Step {
      Step(
        kind: .write, reason: reason, offset: offset, lba: UInt64(offset) / UInt64(sectorSize),
        sectorCount: content.count / sectorSize, expectedSHA256: expectedSHA256, newSHA256: newSHA256, bytes: [],
        streamed: content)
    }

    /// A streamed write of `content` at `offset` of `device`, both digests computed by reading
    /// (in bounded pieces) what `device` holds there now and `content`.
    public static func copy(
      _ content: StreamedBytes, to offset: Int64, on device: any ByteSource, reason: String
    ) throws -> Step {
      let old = try streamedSHA256(StreamedBytes(device, offset: offset, count: content.count))
      return copy(
        content, to: offset, expectedSHA256: old, newSHA256: try streamedSHA256(content),
        sectorSize: device.sectorSize, reason: reason)
    }

    public static func barrier(_ reason: String) -> Step { Step(kind: .barrier, reason: reason, bytes: []) }

    enum CodingKeys: String, CodingKey {
      case kind, reason, offset, lba, sectorCount, expectedSHA256, newSHA256, from
    }

    public func encode(to encoder: any Encoder) throws {
      var c = encoder.container(keyedBy: CodingKeys.self)
      try c.encode(kind, forKey: .kind)
      try c.encode(reason, forKey: .reason)
      try c.encodeIfPresent(offset, forKey: .offset)
      try c.encodeIfPresent(lba, forKey: .lba)
      try c.encodeIfPresent(sectorCount, forKey: .sectorCount)
      try c.encodeIfPresent(expectedSHA256, forKey: .expectedSHA256)
      try c.encodeIfPresent(newSHA256, forKey: .newSHA256)
      if let streamed { try c.encode("\(streamed.source.name) at byte \(streamed.offset)", forKey: .from) }
    }
  }

  /// The loader's choice on a set of bytes, as a plan shows it.
  public struct Choice: Hashable, Sendable, Codable {
    public struct Bank: Hashable, Sendable, Codable {
      public var partition: Int
      @Nullable public var build: String?
      @Nullable public var updated: UInt32?
      /// The bootstate on the device (nil: no bootstate line).
      @Nullable public var bootstate: Int32?
      public var bootable: Bool

    }
    /// The partition the loader boots (nil: "No hypervisor found.").
    @Nullable public var next: Int?
    @Nullable public var build: String?
    /// The bootable bank a failed boot falls back to.
    @Nullable public var fallback: Int?
    public var banks: [Bank]
    public var messages: [String]

    public init(_ choice: BankChoice) {
      next = choice.nextPartition
      build = choice.next?.build
      fallback = choice.fallbackPartition
      banks = choice.countedBanks.map {
        Bank(
          partition: $0.partition, build: $0.build, updated: $0.updated, bootstate: $0.bootstateBefore,
          bootable: $0.bootable)
      }
      messages = choice.messages
    }

    /// "partition 5 (build 7.0.3-...)" or "none (No hypervisor found.)".
    public var summary: String {
      guard let next else { return "none (\(BankChoice.noHypervisor))" }
      return "partition \(next), build \(build ?? "?")" + (fallback.map { ", fallback partition \($0)" } ?? "")
    }
  }

  /// The command that made the plan ("mark", "rollback", ...).
  public var command: String
  public var target: TargetIdentity
  public var steps: [Step]
  /// The loader's choice at the next boot, on the bytes now.
  public var before: Choice
  /// The loader's choice at the next boot, on the bytes the plan leaves.
  public var after: Choice
  /// Why the plan must not be executed (nil, `null` in JSON: it may).
  @Nullable public var refusal: String?
  /// What the plan does not do, or what to know about it.
  public var notes: [String]

  public var writes: [Step] { steps.filter { $0.kind == .write } }
  public var isEmpty: Bool { writes.isEmpty }
}

/// SHA-256 of `bytes`, in lower-case hex.
func sha256Hex(_ bytes: [UInt8]) -> String {
  var hasher = SHA256Hasher()
  hasher.update(bytes)
  return SHA256Hasher.hex(hasher.finalize())
}

/// SHA-256 of streamed content, read in bounded pieces, in lower-case hex.
func streamedSHA256(_ content: StreamedBytes) throws -> String {
  var hasher = SHA256Hasher()
  try content.forEachChunk { _, piece in hasher.update(piece) }
  return SHA256Hasher.hex(hasher.finalize())
}

extension OverlayDisk {
  /// Applies a plan's write step (held or streamed) without logging it.
  func apply(_ step: WritePlan.Step) {
    guard step.kind == .write, let offset = step.offset else { return }
    if let streamed = step.streamed { apply(streamed, at: offset) } else { apply(step.bytes, at: offset) }
  }
}
