extension ImageDatabase {
  /// An image profile: its name and, per VIB, the map from payload name to the 8.3 file
  /// on the bank (`<viblist><vib><vib-id>…</vib-id><payloads><payload payload-name="s">s.v00</payload>`).
  public struct Profile: Hashable, Sendable {
    /// One VIB of the profile's `<viblist>`.
    public struct VIBEntry: Hashable, Sendable {
      /// The VIB ID, `vendor_type_name_version` (e.g. `VMware_bootbank_esx-base_6.7.0-…`).
      public var id: String
      /// Payload name → file name on the bank, in document order.
      public var payloads: [PayloadFile]
    }

    /// One `<payload payload-name="…">file</payload>` of a profile.
    public struct PayloadFile: Hashable, Sendable {
      public var payloadName: String
      public var fileName: String
    }

    /// The archive member the profile came from.
    public var path: String
    /// `<name>`, when present.
    public var name: String?
    /// `<profileID>`, when present.
    public var profileID: String?
    public var vibs: [VIBEntry]
  }
}
