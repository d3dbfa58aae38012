import Foundation
import TestSupport
import Testing

@Suite("bootbank scan and exit statuses")
struct ScanCommandTests {
  @Test func helpDocumentsTheExitStatuses() throws {
    let result = try BootbankBinary.run(["--help"])
    #expect(result.status == 0)
    for line in ["0   all checks passed", "1   findings reported", "2   the target cannot be read", "64  usage error"] {
      #expect(result.text.contains(line), "missing \(line)")
    }
  }

  /// One rule for scan, documented: a device that cannot be opened is a finding (status 1),
  /// its row names it and says why; the warning on stderr names it too.
  @Test func aMissingImageIsAFindingWithThePathInItsRow() throws {
    let result = try BootbankBinary.run(["scan", "/nonexistent/x.img", "--json"])
    #expect(result.status == 1)
    let object = (try? JSONSerialization.jsonObject(with: result.stdout)) as? [String: Any] ?? [:]
    let row = (object["devices"] as? [[String: Any]])?.first
    #expect(row?["path"] as? String == "/nonexistent/x.img")
    #expect((row?["error"] as? String)?.isEmpty == false)
    #expect(result.stderr.contains("/nonexistent/x.img"))
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

@Suite("bootbank scan on ESXi devices")
struct ScanESXiTests {
  @Test(.enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)))
  func anImageLaidOutLikeESXiIsMarked() throws {
    let (status, json) = try BootbankBinary.json(["scan", Scenarios.path("esxi7.img"), Scenarios.path("esxi7-4kn.img")])
    #expect(status == 0)
    let devices = json["devices"] as? [[String: Any]] ?? []
    #expect(devices.count == 2)
    #expect(devices.allSatisfy { $0["esxiBootDevice"] as? Bool == true && $0["banks"] as? [Int] == [5, 6] })
    #expect(devices[1]["sectorSize"] as? Int == 4096)
  }

  @Test(.enabled(if: Scenarios.available && loopDevicesAvailable, "needs images/ and loop devices"))
  func theMachinesLoopDevicesAreScanned() throws {
    try withLoopDevice(URL(fileURLWithPath: Scenarios.path("esxi-mbr.img"))) { device in
      let (_, json) = try BootbankBinary.json(["scan"])
      let row = (json["devices"] as? [[String: Any]] ?? []).first { $0["path"] as? String == device }
      #expect(row != nil, "\(device) not listed")
      #expect(row?["kind"] as? String == "blockDevice")
      #expect(row?["tableType"] as? String == "mbr")
      #expect(row?["esxiBootDevice"] as? Bool == true)
      #expect((row?["blkid"] as? [String: Any])?["tableType"] as? String == "dos")
    }
  }
}
