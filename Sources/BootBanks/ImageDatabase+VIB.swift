extension ImageDatabase {
  /// A VIB descriptor (`vibs/<name>-<hash>.xml`): identity and payloads with their checksums.
  public struct VIB: Hashable, Sendable {
    /// The archive member the descriptor came from.
    public var path: String
    /// `<type>`: "bootbank", "locker", …
    public var type: String?
    public var name: String?
    public var version: String?
    public var vendor: String?
    public var payloads: [Payload]

    /// The VIB ID ESXi forms from the descriptor: `vendor_type_name_version`.
    public var id: String {
      [vendor ?? "", type ?? "", name ?? "", version ?? ""].joined(separator: "_")
    }

    /// The payload called `name`, if listed.
    public func payload(named name: String) -> Payload? {
      payloads.first { $0.name == name }
    }
  }

  /// `<payload name="s" type="vgz" size="…">` with its `<checksum>` children.
  public struct Payload: Hashable, Sendable {
    public var name: String
    /// "boot", "vgz", "tgz", "installer", …
    public var type: String?
    /// Size of the payload as shipped (a bank's copy may be recompressed).
    public var size: Int64?
    public var checksums: [Digest]

    /// The first checksum of `algorithm` ("sha-256", "sha-1") with `verifyProcess` (nil for none).
    public func checksum(_ algorithm: String, verifyProcess: String?) -> String? {
      checksums.first { $0.algorithm == algorithm && $0.verifyProcess == verifyProcess }?.hex
    }
  }

  /// `<checksum checksum-type="sha-256" verify-process="gunzip">hex</checksum>`.
  public struct Digest: Hashable, Sendable {
    /// `checksum-type`, lower-cased: "sha-256", "sha-1", "md5".
    public var algorithm: String
    /// `verify-process`, lower-cased ("gunzip"), or nil: the digest is of the payload as shipped.
    public var verifyProcess: String?
    /// Lower-case hex digits.
    public var hex: String
  }
}
