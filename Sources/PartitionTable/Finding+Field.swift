import DiskFormat

extension Finding {
  /// A finding about one field of an on-disk structure.
  ///
  /// The kind is `"bad"` followed by the specification's field name (`badHeaderCRC32`,
  /// `badMyLBA`), and the message is the `FormatError` wording: structure, field, absolute
  /// byte offset, found and expected.
  static func field(
    _ severity: Severity, structure: String, field: String, offset: Int64, _ kind: FormatError.Kind,
    lba: UInt64? = nil, partition: Int? = nil
  ) -> Finding {
    let error = FormatError(structure: structure, field: field, offset: offset, kind: kind)
    return Finding(severity, "bad" + field, error.description, offset: offset, lba: lba, partition: partition)
  }

  /// The same finding from a `FormatError` a parser threw.
  init(_ severity: Severity, _ error: FormatError, lba: UInt64? = nil, partition: Int? = nil) {
    self.init(severity, "bad" + error.field, error.description, offset: error.offset, lba: lba, partition: partition)
  }
}
