/// A FAT date and time (local time, no zone, 2-second resolution; 10 ms with the fine field).
public struct FATTimestamp: Hashable, Sendable, Comparable, CustomStringConvertible {
  public var year: Int
  public var month: Int
  public var day: Int
  public var hour: Int
  public var minute: Int
  public var second: Int

  public init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) {
    self.year = year
    self.month = month
    self.day = day
    self.hour = hour
    self.minute = minute
    self.second = second
  }

  /// Decodes DIR_WrtDate/DIR_WrtTime style fields; `nil` for a zero date.
  ///
  /// - Parameters:
  ///   - date: bits 15-9 year since 1980, 8-5 month, 4-0 day.
  ///   - time: bits 15-11 hours, 10-5 minutes, 4-0 two-second units.
  ///   - tenths: DIR_CrtTimeTenth (0...199), adding whole seconds.
  ///   - zeroDate: Accept date 0 (shown by mtools as `1980-00-00`) instead of returning nil.
  public init?(date: UInt16, time: UInt16 = 0, tenths: UInt8 = 0, zeroDate: Bool = false) {
    guard date != 0 || zeroDate else { return nil }
    year = 1980 + Int(date >> 9)
    month = Int((date >> 5) & 0xF)
    day = Int(date & 0x1F)
    hour = Int(time >> 11)
    minute = Int((time >> 5) & 0x3F)
    second = Int(time & 0x1F) * 2 + Int(min(tenths, 199)) / 100
  }

  /// The on-disk fields for this time: the date (years 1980...2107), the time in two-second
  /// units and DIR_CrtTimeTenth for an odd second. Out-of-range parts are clamped to what the
  /// fields can hold.
  public var fields: (date: UInt16, time: UInt16, tenths: UInt8) {
    func clamp(_ value: Int, _ range: ClosedRange<Int>) -> UInt16 {
      UInt16(min(max(value, range.lowerBound), range.upperBound))
    }
    let date = clamp(year - 1980, 0...127) << 9 | clamp(month, 0...15) << 5 | clamp(day, 0...31)
    let second = min(max(second, 0), 63)
    let time = clamp(hour, 0...31) << 11 | clamp(minute, 0...63) << 5 | UInt16(second / 2)
    return (date, time, UInt8(second % 2 * 100))
  }

  /// `YYYY-MM-DD HH:MM:SS`.
  public var description: String {
    func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
    return "\(year)-\(two(month))-\(two(day)) \(two(hour)):\(two(minute)):\(two(second))"
  }

  /// `YYYY-MM-DD HH:MM`, as mdir shows it.
  public var minutePrecision: String { String(description.dropLast(3)) }

  /// Seconds since 1970-01-01 00:00:00, reading the local time as UTC (for mtimes); a zero
  /// month or day counts as 1.
  public var secondsSince1970: Int64 {
    let month = max(1, min(12, self.month))
    let day = max(1, self.day)
    // Days from civil (Howard Hinnant's algorithm), valid for the proleptic Gregorian calendar.
    let y = Int64(month <= 2 ? year - 1 : year)
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let m = Int64(month)
    let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    let days = era * 146_097 + doe - 719_468
    return days * 86_400 + Int64(hour) * 3600 + Int64(minute) * 60 + Int64(second)
  }

  public static func < (a: FATTimestamp, b: FATTimestamp) -> Bool { a.secondsSince1970 < b.secondsSince1970 }
}
