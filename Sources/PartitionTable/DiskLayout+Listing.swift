extension DiskLayout {
  /// Whose reading a listing of partitions shows.
  public enum ListingSource: String, Sendable {
    /// The table as ESXi's loader reads it.
    case loader
    /// What Linux reads, shown when the loader reads no partition (the backup GPT, say).
    case linux
  }

  /// The partitions to list: the loader's, or Linux's when the loader reads none and Linux
  /// reads some.
  public var listedPartitions: (partitions: [Partition], source: ListingSource) {
    if partitions.isEmpty, let linux = linuxPartitions, !linux.isEmpty { return (linux, .linux) }
    return (partitions, .loader)
  }
}
