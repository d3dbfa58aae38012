import DiskFormat
import Foundation
import Testing

@Suite("Little-endian reads")
struct LittleEndianTests {
  let bytes: [UInt8] = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0xFF]

  @Test func readsEachWidth() {
    #expect(bytes.littleEndian(UInt8.self, at: 0) == 0x01)
    #expect(bytes.littleEndian(UInt16.self, at: 0) == 0x0201)
    #expect(bytes.littleEndian(UInt32.self, at: 1) == 0x0504_0302)
    #expect(bytes.littleEndian(UInt64.self, at: 0) == 0x0807_0605_0403_0201)
    #expect(bytes.littleEndian(Int8.self, at: 8) == -1)
  }

  @Test("a read that would run past either end is nil", arguments: [-1, 6, 9, Int.max, Int.min])
  func outOfRange(offset: Int) {
    #expect(bytes.littleEndian(UInt32.self, at: offset) == nil)
  }

  @Test func storeAndAppendRoundTrip() {
    var out: [UInt8] = []
    out.appendLittleEndian(UInt32(0xDEAD_BEEF))
    #expect(out == [0xEF, 0xBE, 0xAD, 0xDE])
    out.storeLittleEndian(UInt16(0x1234), at: 1)
    #expect(out == [0xEF, 0x34, 0x12, 0xDE])
    out.storeBytes([0xAA, 0xBB], at: 2)
    #expect(out == [0xEF, 0x34, 0xAA, 0xBB])
  }
}

@Suite("GUID")
struct GUIDTests {
  @Test func canonicalFormSwapsTheFirstThreeFields() throws {
    // The ESP type GUID as it is stored on disk.
    let disk: [UInt8] = [
      0x28, 0x73, 0x2A, 0xC1, 0x1F, 0xF8, 0xD2, 0x11, 0xBA, 0x4B, 0x00, 0xA0, 0xC9, 0x3E, 0xC9, 0x3B,
    ]
    let guid = GUID(onDisk: disk)
    #expect(guid.description == "C12A7328-F81F-11D2-BA4B-00A0C93EC93B")
    #expect(GUID("c12a7328-f81f-11d2-ba4b-00a0c93ec93b") == guid)
  }

  @Test(
    "malformed text is nil",
    arguments: [
      "", "C12A7328F81F11D2BA4B00A0C93EC93B", "G12A7328-F81F-11D2-BA4B-00A0C93EC93B",
      "C12A7328-F81F-11D2-BA4B-00A0C93EC93",
    ])
  func malformed(text: String) {
    #expect(GUID(text) == nil)
  }

  @Test func codableAsTheCanonicalString() throws {
    let guid = try #require(GUID("C12A7328-F81F-11D2-BA4B-00A0C93EC93B"))
    let json = try JSONEncoder().encode([guid])
    #expect(String(decoding: json, as: UTF8.self) == #"["C12A7328-F81F-11D2-BA4B-00A0C93EC93B"]"#)
    #expect(try JSONDecoder().decode([GUID].self, from: json) == [guid])
    #expect(throws: DecodingError.self) { try JSONDecoder().decode([GUID].self, from: Data(#"["nope"]"#.utf8)) }
  }
}

@Suite("Byte sources")
struct ByteSourceTests {
  let image = MemoryImage((0..<4096).map { UInt8(truncatingIfNeeded: $0) }, name: "mem.img")

  @Test func sliceIsAddressedFromZeroAndBounded() throws {
    let slice = image.slice(1024..<2048)
    #expect(slice.byteCount == 1024)
    #expect(slice.baseOffset == 1024)
    #expect(try slice.read(at: 0, count: 4) == [0, 1, 2, 3])
    let error = #expect(throws: ReadError.self) { try slice.read(at: 1000, count: 100) }
    #expect(error?.offset == 2024)
  }

  @Test func sectorReadsUseTheSectorSize() throws {
    #expect(try image.readSectors(lba: 1).first == 0)
    #expect(try image.readSectors(lba: 1).count == 512)
    #expect(throws: ReadError.self) { try image.readSectors(lba: 8) }
    // An LBA whose byte offset overflows is an error, not a trap.
    #expect(throws: ReadError.self) { try image.readSectors(lba: UInt64.max) }
  }

  @Test func readErrorsNameSourceOffsetAndLBA() {
    let error = ReadError(source: "disk.img", offset: 0x200, count: 512, sectorSize: 512, kind: .shortRead(got: 312))
    #expect(error.description == "disk.img: read 312 of 512 bytes at offset 0x200 (LBA 1)")
  }
}

@Suite("Format errors")
struct FormatErrorTests {
  @Test func messagesNameStructureFieldAndOffset() {
    let crc = FormatError(
      structure: "GPT header", field: "HeaderCRC32", offset: 0x210,
      kind: .checksumMismatch(stored: 0x7DDA_5686, computed: 0x12A2_7163))
    #expect(
      crc.description == "GPT header: HeaderCRC32 at byte 0x210 stores CRC32 0x7dda5686 but the bytes give 0x12a27163")
    let size = FormatError(
      structure: "GPT header", field: "HeaderSize", offset: 0x20C, kind: .outOfRange(value: 600, allowed: 92...512))
    #expect(size.description == "GPT header: HeaderSize at byte 0x20c is 600, expected 92...512")
  }

  @Test func foundAndExpectedValuesAreInTheMessage() {
    let media = FormatError(
      structure: "FAT boot sector", field: "BPB_Media", offset: 0x15,
      kind: .notOneOf(value: 0x12, allowed: [0xF0...0xF0, 0xF8...0xFF]))
    #expect(media.description == "FAT boot sector: BPB_Media at byte 0x15 is 0x12, expected 0xf0 or 0xf8-0xff")
    let bps = FormatError(
      structure: "FAT boot sector", field: "BPB_BytsPerSec", offset: 0xB,
      kind: .notPowerOfTwo(value: 600, allowed: 512...4096))
    #expect(
      bps.description == "FAT boot sector: BPB_BytsPerSec at byte 0xb is 600, expected a power of two from 512 to 4096")
  }

  @Test func utf16NamesStopAtNUL() {
    #expect(decodeUTF16LE([0x42, 0, 0x4F, 0, 0, 0, 0x58, 0]) == "BO")
  }
}
