import Checksum

/// The smallest writer of a .tgz: ustar headers and gzip with stored (uncompressed) deflate
/// blocks, so a fuzz input reaches the XML parser through the real archive readers unchanged.
enum TarBuilder {
  static let block = 512

  /// One regular-file member: a ustar header, then `body` padded to a whole block.
  static func member(_ name: String, _ body: [UInt8]) -> [UInt8] {
    var header = [UInt8](repeating: 0, count: block)
    func put(_ text: String, at offset: Int) {
      for (index, byte) in text.utf8.enumerated() { header[offset + index] = byte }
    }
    put(String(name.prefix(99)), at: 0)
    put("0000644", at: 100)  // mode
    put("0000000", at: 108)  // uid
    put("0000000", at: 116)  // gid
    put(octal(body.count, digits: 11), at: 124)  // size
    put("00000000000", at: 136)  // mtime
    header[156] = UInt8(ascii: "0")  // typeflag: regular file
    put("ustar", at: 257)
    put("00", at: 263)
    // The checksum is summed with its own field read as spaces.
    for index in 148..<156 { header[index] = UInt8(ascii: " ") }
    let sum = header.reduce(0) { $0 + Int($1) }
    put(octal(sum, digits: 6), at: 148)
    header[154] = 0
    let padding = (block - body.count % block) % block
    return header + body + [UInt8](repeating: 0, count: padding)
  }

  static func octal(_ value: Int, digits: Int) -> String {
    let text = String(value, radix: 8)
    return String(repeating: "0", count: max(0, digits - text.count)) + text
  }

  /// A single gzip member (RFC 1952) holding `data` in stored deflate blocks (RFC 1951 §3.2.4).
  static func gzipStored(_ data: [UInt8]) -> [UInt8] {
    var out: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF]
    var start = 0
    repeat {
      let end = min(data.count, start + 65_535)
      let length = UInt16(end - start)
      out.append(end == data.count ? 1 : 0)  // BFINAL, BTYPE 00
      out += littleEndian(length) + littleEndian(~length)
      out += data[start..<end]
      start = end
    } while start < data.count
    var crc = CRC32()
    crc.update(data)
    out += littleEndian(crc.finalize()) + littleEndian(UInt32(truncatingIfNeeded: data.count))
    return out
  }

  static func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    (0..<(T.bitWidth / 8)).map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
  }
}
