/// Sets of byte (or block) ranges as ascending, disjoint arrays: what to read, what was read.
public enum ByteRanges {
  /// `ranges` sorted, with overlapping and touching ranges joined.
  public static func merge(_ ranges: [Range<Int64>]) -> [Range<Int64>] {
    var merged: [Range<Int64>] = []
    for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
      if let last = merged.last, range.lowerBound <= last.upperBound {
        merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
      } else {
        merged.append(range)
      }
    }
    return merged
  }

  /// `range` minus the ascending, disjoint `holes`.
  public static func subtract(_ holes: [Range<Int64>], from range: Range<Int64>) -> [Range<Int64>] {
    var out: [Range<Int64>] = []
    var cursor = range.lowerBound
    for hole in holes where hole.overlaps(range) {
      if hole.lowerBound > cursor { out.append(cursor..<hole.lowerBound) }
      cursor = max(cursor, hole.upperBound)
    }
    if cursor < range.upperBound { out.append(cursor..<range.upperBound) }
    return out
  }
}
