import Foundation
import Testing
import TestSupport

@Suite("bootbank scan and exit statuses")
struct ScanCommandTests {
  @Test func helpDocumentsTheExitStatuses() throws {
    let result = try BootbankBinary.run(["--help"])
    #expect(result.status == 0)
    for line in ["0   all checks passed", "1   findings reported", "2   the target cannot be read", "64  usage error"] {
      #expect(result.text.contains(line), "missing \(line)")
    }
  }

  @Test func aMissingImageIsStatusTwoWithThePathInTheMessage() throws {
    let (status, object) = try BootbankBinary.json(["scan", "/nonexistent/x.img"])
    #expect(status == 2)
    let devices = object["devices"] as? [[String: Any]]
    #expect((devices?.first?["error"] as? String)?.contains("/nonexistent/x.img") == true)
  }

  @Test func anUnknownOptionIsAUsageError() throws {
    #expect(try BootbankBinary.run(["scan", "--no-such-option"]).status == 64)
  }

  @Test func scanReportsLibblkidsTableForAnImage() throws {
    let dir = try TestPaths.scratchDirectory("scan")
    let image = dir.appendingPathComponent("gpt.img")
    try run("truncate", ["-s", "8M", image.path])
    try #require(try run("sgdisk", ["-n", "1:2048:4095", "-t", "1:EF00", image.path]).status == 0)
    let (status, object) = try BootbankBinary.json(["scan", image.path])
    #expect(status == 0)
    let device = (object["devices"] as? [[String: Any]])?.first
    let blkid = device?["blkid"] as? [String: Any]
    #expect(blkid?["tableType"] as? String == "gpt")
    let partitions = blkid?["partitions"] as? [[String: Any]]
    #expect(partitions?.count == 1)
    #expect(partitions?.first?["start512"] as? Int == 2048)
  }
}
