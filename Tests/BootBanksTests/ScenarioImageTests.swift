import DiskFormat
import Foundation
import TestSupport
import Testing

@testable import BootBanks

/// The project's ESXi scenario images (`images/make-images.sh`, `make images`) against the
/// facts their generator wrote into `images/manifest-of-scenarios.json`: the bank the loader
/// boots, the fallback, the rollback flag and every bank's state before and after.
///
/// The generator was written independently of the replay, from the loader's source (esx-boot), not from this code.
@Suite("scenario images (images/manifest-of-scenarios.json)")
struct ScenarioImageTests {
  static func manifest() -> [String: [String: Any]] {
    let url = TestPaths.images.appendingPathComponent("manifest-of-scenarios.json")
    guard let data = try? Data(contentsOf: url),
      let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
      let images = object["images"] as? [String: [String: Any]]
    else { return [:] }
    return images
  }

  /// The scenarios `make images` has built.
  static let names: [String] = manifest().keys.filter { TestPaths.fixture($0) != nil }.sorted()

  @Test(
    "scenario", .enabled(if: !names.isEmpty, "images/ has no fixtures: run `make images` (make test does)"),
    arguments: names)
  func scenario(_ name: String) throws {
    let image = try #require(TestPaths.fixture(name))
    let facts = try #require(Self.manifest()[name])
    // Read as a plain file (512-byte sectors): the table's sector size must be detected.
    let status = try BankStatus.read(from: TestFileSource(path: image.path))
    let report = status.choice
    let expected = facts["expected"] as? [String: Any] ?? [:]

    let next = expected["next"] as? [String: Any]
    #expect(report.next?.partition == next?["partition"] as? Int, "\(name): next")
    #expect(report.next?.build == next?["build"] as? String, "\(name): next build")
    if next == nil {
      // Nothing boots: no /bootbank, so no /altbootbank. The generator names the other invalid
      // bank here; the report says null (as `bootbank status` does).
      #expect(report.altbootbank == nil, "\(name): fallback")
    } else {
      let fallback = expected["fallback"] as? [String: Any]
      #expect(report.altbootbank?.partition == fallback?["partition"] as? Int, "\(name): fallback")
      #expect(report.altbootbank?.bootable == fallback?["bootable"] as? Bool, "\(name): fallback bootable")
    }
    #expect(report.rollback == expected["rollback"] as? Bool, "\(name): rollback")
    if let message = expected["message"] as? String {
      #expect(report.messages.contains(message), "\(name): \(report.messages)")
    }

    for bank in facts["banks"] as? [[String: Any]] ?? [] {
      guard let partition = bank["partition"] as? Int else { continue }
      let verdict = status.choice.verdict(for: partition)
      let label = "\(name) p\(partition): \(verdict?.reason ?? "not looked at")"
      let scanned = bank["scanned"] as? Bool ?? false
      let isBank = bank["isBank"] as? Bool ?? false
      if !isBank {
        if bank["bootCfgParses"] as? Bool == false {
          // The magic is there but the loader's reader rejects boot.cfg (a non-numeric integer).
          if case .notABank(.bootConfigRejected)? = verdict?.status {
          } else {
            Issue.record("\(label): expected a rejected boot.cfg")
          }
        } else {
          #expect(verdict?.status == .notABank(.noMagic), "\(label)")
        }
        continue
      }
      if !scanned {
        // Either the loader read no table (no verdict at all) or it stopped after three banks.
        #expect(verdict == nil || verdict?.status == .notScanned, "\(label)")
        #expect(verdict?.bootable != true, "\(label)")
        continue
      }
      #expect(verdict?.bootable == bank["bootable"] as? Bool, "\(label): bootable")
      #expect(verdict?.bootstateAfter.map(Int.init) == bank["bootstateAfter"] as? Int, "\(label): bootstateAfter")
      #expect(verdict?.bootstateBefore.map(Int.init) == bank["bootstate"] as? Int, "\(label): bootstate")
      #expect(verdict?.updated.map(Int.init) == bank["updated"] as? Int, "\(label): updated")
      let build = (bank["build"] as? String).flatMap { $0.isEmpty ? nil : $0 }
      #expect(verdict?.build == build, "\(label): build")
      let dropped = bank["dropped"] as? Bool ?? false
      if case .dropped = verdict?.status { #expect(dropped, "\(label)") } else { #expect(!dropped, "\(label)") }
      if let uuid = bank["uuid"] as? String { #expect(verdict?.uuid?.kernelForm == uuid, "\(label): uuid") }
      if let uuid = bank["volumesUUID"] as? String {
        #expect(verdict?.uuid?.volumesForm == uuid, "\(label): volumesUUID")
      }
    }
  }
}

@Suite("scenario images: the next boots")
struct ScenarioAfterTests {
  @Test(
    .enabled(
      if: TestPaths.fixture("esxi7-upgrade-pending.img") != nil,
      "no images/esxi7-upgrade-pending.img: run `make images` (make test does)"))
  func upgradePending() throws {
    let image = try #require(TestPaths.fixture("esxi7-upgrade-pending.img"))
    let status = try BankStatus.read(from: TestFileSource(path: image.path))
    // p5 holds the new build on trial (1 → 2); p6 the running one.
    #expect(status.after(boots: 3, outcome: .succeeds).map(\.choice.nextPartition) == [5, 5, 5])
    let fails = status.after(boots: 3, outcome: .fails)
    #expect(fails.map(\.choice.nextPartition) == [5, 6, 6])
    #expect(fails[1].choice.verdict(for: 5)?.bootstateAfter == 3)
    #expect(!fails[1].choice.rollback)
  }
}
