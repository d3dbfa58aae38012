import DiskFormat
import PartitionTable

extension BankSlot {
  /// The slot of a partition as `PartitionTable` read it; `nil` for an extended container
  /// or an entry whose place does not fit in an `Int64`.
  public init?(_ partition: Partition) {
    guard !partition.isExtendedContainer,
      let start = Int64(exactly: partition.offsetBytes), let size = Int64(exactly: partition.sizeBytes)
    else { return nil }
    let (end, overflow) = start.addingReportingOverflow(size)
    guard !overflow else { return nil }
    if let guid = partition.typeGUID {
      self.init(partition: partition.number, type: .gpt(guid), byteRange: start..<end)
    } else if let byte = partition.mbrType {
      self.init(partition: partition.number, type: .mbr(byte), byteRange: start..<end)
    } else {
      return nil
    }
  }
}
