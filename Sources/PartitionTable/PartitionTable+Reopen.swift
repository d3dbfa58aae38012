import DiskFormat

extension PartitionTable {
  /// Reads the table of a device opened at some logical sector size, and when the table says the
  /// sectors are another size (a GPT header found only at 4096 in an image opened at 512),
  /// reopens the device at that size and reads it again.
  ///
  /// - Parameters:
  ///   - source: The device as opened.
  ///   - sizeIsKnown: True when `source.sectorSize` is the device's own or was given explicitly;
  ///     it is then used as is, never detected.
  ///   - reopen: Opens the same device with the given logical sector size.
  /// - Returns: The source at the table's sector size, and the table read through it.
  /// - Throws: `ReadError`/`FormatError` from reading the table, or what `reopen` throws.
  public static func readReopening<S: ByteSource>(
    _ source: S, sizeIsKnown: Bool, reopen: (Int) throws -> S
  ) throws -> (source: S, layout: DiskLayout) {
    let layout = try read(from: source, sectorSize: sizeIsKnown ? source.sectorSize : nil)
    guard !sizeIsKnown, layout.sectorSize != source.sectorSize else { return (source, layout) }
    let reopened = try reopen(layout.sectorSize)
    var again = try read(from: reopened, sectorSize: layout.sectorSize)
    if again.sectorSizeReason == .explicit { again.sectorSizeReason = .gptHeaderFoundOnlyAtOtherSize }
    return (reopened, again)
  }
}
