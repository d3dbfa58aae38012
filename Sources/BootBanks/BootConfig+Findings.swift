import BootConfig
import DiskFormat

extension LintIssue {
  /// The issue as a `Finding` about `/boot.cfg` on a partition; the line and byte within
  /// boot.cfg go into the message (a Finding's offset is absolute in the image, and a
  /// file's bytes need not be contiguous there).
  public func finding(partition: Int? = nil, path: String = "/boot.cfg") -> Finding {
    var place: [String] = []
    if let line { place.append("line \(line)") }
    if let byteOffset { place.append("byte \(byteOffset)") }
    let suffix = place.isEmpty ? "" : " (\(path) \(place.joined(separator: ", ")))"
    return Finding(
      severity == .error ? .error : .warning, kind, message + suffix, partition: partition, path: path)
  }
}

extension BootConfig {
  /// `lint()` as findings about `/boot.cfg` on `partition`.
  public func findings(partition: Int? = nil) -> [Finding] {
    lint().map { $0.finding(partition: partition) }
  }
}
