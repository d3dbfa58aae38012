import Foundation
import TestSupport
import Testing

/// `bootbank status` on every generated scenario, against what the generator says the loader
/// (esx-boot safeboot/bootbank.c) must choose.
@Suite("bootbank status")
struct StatusCommandTests {
  @Test(.enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)), arguments: Scenarios.names)
  func theLoadersChoice(image: String) throws {
    let scenario = try #require(Scenarios.images[image])
    let expected = try #require(scenario["expected"] as? [String: Any])
    let (status, json) = try BootbankBinary.json(["status", Scenarios.path(image)])
    #expect([0, 1].contains(status))

    let next = json["next"] as? [String: Any]
    let wantNext = expected["next"] as? [String: Any]
    #expect(next?["partition"] as? Int == wantNext?["partition"] as? Int, "next partition")
    #expect(next?["build"] as? String == wantNext?["build"] as? String, "next build")
    #expect(json["rollback"] as? Bool == expected["rollback"] as? Bool, "rollback flag")
    let fallback = json["fallback"] as? [String: Any]
    if wantNext == nil {
      // Nothing boots: there is no /bootbank, so no /altbootbank to fall back to. The generator
      // names the other invalid bank here; bootbank reports null (and exit 1).
      #expect(json["fallback"] is NSNull)
      #expect(status == 1)
    } else {
      let wantFallback = expected["fallback"] as? [String: Any]
      #expect(fallback?["partition"] as? Int == wantFallback?["partition"] as? Int, "fallback partition")
      #expect(fallback?["bootable"] as? Bool == wantFallback?["bootable"] as? Bool, "fallback bootable")
    }

    // Every bank the generator made, where the loader scans it.
    let banks = json["banks"] as? [[String: Any]] ?? []
    for want in scenario["banks"] as? [[String: Any]] ?? [] where want["scanned"] as? Bool != false {
      guard let partition = want["partition"] as? Int else { continue }
      let got = banks.first { $0["partition"] as? Int == partition }
      #expect(got != nil, "partition \(partition) missing")
      guard let got else { continue }
      #expect(got["bootable"] as? Bool == want["bootable"] as? Bool, "p\(partition) bootable: \(got["reason"] ?? "")")
      if want["isBank"] as? Bool == true, want["dropped"] as? Bool != true {
        #expect(got["uuid"] as? String == want["uuid"] as? String, "p\(partition) uuid")
        #expect(got["volumesUUID"] as? String == want["volumesUUID"] as? String, "p\(partition) volumesUUID")
        #expect(got["updated"] as? Int == want["updated"] as? Int, "p\(partition) updated")
        #expect(got["bootstate"] as? Int == want["bootstate"] as? Int, "p\(partition) bootstate")
        #expect(got["bootstateAfter"] as? Int == want["bootstateAfter"] as? Int, "p\(partition) bootstateAfter")
      }
    }
  }

  @Test(.enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)))
  func aFailedTrialFallsBackToTheOldBank() throws {
    let result = try BootbankBinary.run(["status", Scenarios.path("esxi7-upgrade-pending.img"), "--after", "2"])
    #expect(result.status == 0)
    #expect(result.text.contains("Next boot: partition 5"))
    #expect(result.text.contains("Next boots if a trial boot fails:"))
    #expect(result.text.contains("boot 2: partition 6 boots normally"))
  }

  @Test(.enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)))
  func noBootableBankSaysNoHypervisorFound() throws {
    let result = try BootbankBinary.run(["status", Scenarios.path("esxi7-both-invalid.img")])
    #expect(result.status == 1)
    #expect(result.text.contains("No hypervisor found."))
  }

  @Test func afterOutsideItsRangeIsAUsageError() throws {
    #expect(try BootbankBinary.run(["status", "/dev/null", "--after", "0"]).status == 64)
  }
}

@Suite("choosing a bank by role")
struct BankRoleOptionTests {
  @Test(.enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)))
  func bootbankIsTheBankTheLoaderBoots() throws {
    // esxi7.img boots partition 6 (updated=2); after an upgrade of 5 it boots 5.
    let six = try BootbankBinary.run(["cat", Scenarios.path("esxi7.img"), "--bank", "bootbank", "/boot.cfg"])
    #expect(six.status == 0)
    #expect(six.text.contains("updated=2"))
    let five = try BootbankBinary.run([
      "cat", Scenarios.path("esxi7-upgrade-pending.img"), "--bank", "bootbank", "/boot.cfg",
    ])
    #expect(five.text.contains("updated=3"))
    let none = try BootbankBinary.run(["ls", Scenarios.path("esxi7-both-invalid.img"), "--bank", "altbootbank"])
    #expect(none.status == 2)
    #expect(
      try BootbankBinary.run(["ls", Scenarios.path("esxi7.img"), "--bank", "bootbank", "--partition", "5"]).status == 64
    )
  }
}
