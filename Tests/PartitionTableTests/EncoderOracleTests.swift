import DiskFormat
import Foundation
import PartitionTable
import TestSupport
import Testing

/// A disk written only by our encoders (GPTImageBuilder), read by sgdisk.
@Suite(
  "GPT encoders against sgdisk", .enabled(if: toolPath("sgdisk") != nil, "sgdisk (gdisk package) is not installed"))
struct GPTEncoderOracleTests {
  @Test("sgdisk finds no problem in a disk we encoded, and reads its names, GUIDs and attributes")
  func sgdiskReadsWhatWeWrote() throws {
    var builder = GPTImageBuilder()
    builder.sectors = 2048
    builder.entries[0].name = "Résumé ESP"
    let scratch = try ScratchDirectory("gpt-encoders")
    let path = scratch.path("disk.img")
    try Data(builder.build()).write(to: URL(fileURLWithPath: path))
    let sgdisk = toolPath("sgdisk")!
    let verify = try runTool(sgdisk, ["-v", path])
    #expect(verify.stdout.contains("No problems found"), "\(verify.stdout)")
    let first = try runTool(sgdisk, ["-i", "1", path]).stdout
    #expect(first.contains("Partition GUID code: C12A7328-F81F-11D2-BA4B-00A0C93EC93B"))
    #expect(first.contains("Partition unique GUID: AAAAAAAA-0000-0000-0000-000000000001"))
    #expect(first.contains("First sector: 64 "))
    #expect(first.contains("Last sector: 127 "))
    #expect(first.contains("Partition name: 'Résumé ESP'"))
    let second = try runTool(sgdisk, ["-i", "2", path]).stdout
    #expect(second.contains("Attribute flags: 8000000000000000"))
    #expect(second.contains("Partition name: 'BOOTBANK1'"))
    let disk = try runTool(sgdisk, ["-p", path]).stdout
    #expect(disk.contains("Disk identifier (GUID): 11111111-2222-3333-4444-555555555555"))
  }
}
