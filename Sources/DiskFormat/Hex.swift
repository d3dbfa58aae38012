/// The package's hex formatting, in one place: messages, digests, GUIDs and reports all print
/// hex through these.

/// Hex digits of `value`, zero-padded to at least `width` digits; lower case unless `uppercase`.
public func hexDigits<T: BinaryInteger>(_ value: T, width: Int = 0, uppercase: Bool = false) -> String {
  let digits = String(value, radix: 16, uppercase: uppercase)
  return String(repeating: "0", count: max(0, width - digits.count)) + digits
}

/// `0x` and lower-case hex digits, as messages name a field's value.
public func hex<T: BinaryInteger>(_ value: T) -> String { "0x" + String(value, radix: 16) }

/// `0x` and two lower-case hex digits.
public func hex2(_ value: UInt8) -> String { "0x" + hexByte(value) }

/// Eight lower-case hex digits.
public func hex32(_ value: UInt32) -> String { hexDigits(value, width: 8) }

/// Two hex digits; lower case unless `uppercase`.
public func hexByte(_ byte: UInt8, uppercase: Bool = false) -> String {
  hexDigits(byte, width: 2, uppercase: uppercase)
}

/// Lower-case hex of every byte, no separators, as `sha256sum` prints a digest.
public func hexString(_ bytes: [UInt8]) -> String {
  let digits: [UInt8] = Array("0123456789abcdef".utf8)
  var out = [UInt8]()
  out.reserveCapacity(bytes.count * 2)
  for byte in bytes {
    out.append(digits[Int(byte >> 4)])
    out.append(digits[Int(byte & 0x0F)])
  }
  return String(decoding: out, as: UTF8.self)
}
