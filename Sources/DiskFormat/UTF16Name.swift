/// Decodes little-endian UTF-16 code units, stopping at the first NUL, replacing bad surrogates.
public func decodeUTF16LE(_ bytes: [UInt8]) -> String {
  var units = [UInt16]()
  var i = 0
  while i + 1 < bytes.count {
    let unit = UInt16(bytes[i]) | UInt16(bytes[i + 1]) << 8
    if unit == 0 { break }
    units.append(unit)
    i += 2
  }
  return String(decoding: units, as: UTF16.self)
}
