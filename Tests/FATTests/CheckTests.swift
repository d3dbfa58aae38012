import DiskFormat
import FAT
import Foundation
import Testing

/// `FATVolume.check()` against what Debian's fsck.fat 4.2 (`-n -v`) reported on every corpus
/// volume: each of its findings is found by ours (same kind, same path), and volumes it
/// passes (and every `check-*.repaired` image) check clean.
@Suite("Check against fsck.fat", .serialized)
struct CheckTests {
  static let volumes = CorpusManifest.volumes

  struct Expected: Hashable, CustomStringConvertible {
    var kind: String
    var path: String?
    var description: String { "\(kind)@\(path ?? "-")" }
  }

  /// Translates fsck.fat's messages into (kind, path) pairs.
  ///
  /// fsck.fat prints the path of a file on its own line and what it found, indented, below.
  /// Lines that describe a repair ("Auto-…", "Truncating…", "Renamed…") add nothing.
  static func expectations(_ messages: [String]) -> [Expected] {
    var out: [Expected] = []
    var path: String? = nil
    for line in messages {
      if line.hasPrefix("/") {
        path = line.hasSuffix("  and") ? String(line.dropLast(5)) : line
        continue
      }
      let text = line.trimmingCharacters(in: .whitespaces)
      func add(_ kind: String, at place: String? = nil) { out.append(Expected(kind: kind, path: place)) }
      switch true {
      case text.hasPrefix("Bad short file name"):
        // A `.`/`..` entry away from the start of a directory is "bad" to fsck.fat; ours
        // names it for what it is.
        if let p = path, p.hasSuffix("/.") || p.hasSuffix("/..") {
          add("misplacedDotEntry", at: p)
        } else {
          add("badShortName", at: path)
        }
      case text.hasPrefix("Contains a free cluster"): add("chainHitsFreeCluster", at: path)
      case text.hasPrefix("share clusters"): add("sharedClusters", at: path)
      case text.hasPrefix("File size is") && text.contains("length is >"): add("chainLongerThanSize", at: path)
      case text.hasPrefix("File size is"): add("chainShorterThanSize", at: path)
      case text.hasPrefix("Circular cluster chain"): add("circularChain", at: path)
      case text.hasPrefix("Expected a valid"): add("missingDotEntry", at: path)
      case text.hasPrefix("Duplicate directory entry"): add("duplicateName", at: path)
      case text.hasPrefix("Dirty bit is set"): add("dirtyBit")
      case text.hasPrefix("Free cluster summary wrong"): add("fsInfoFreeCountWrong")
      case text.hasPrefix("Free cluster summary uninitialized"): add("fsInfoFreeCountUnset")
      case text.hasPrefix("Volume label") && text.hasSuffix("is not valid."): add("badVolumeLabel")
      case text.hasPrefix("Label") && text.hasSuffix("is not valid."): add("badBootSectorLabel")
      case text.hasPrefix("There is no label in boot sector"), text.hasPrefix("Label in boot sector is"),
        text.hasSuffix("and different."):
        add("labelMismatch")
      case text.hasPrefix("Both FATs appear to be corrupt"):
        // fsck.fat checks the media entry of each copy, whether or not the copies differ;
        // in the *_first_cluster images they are equal and both bad.
        add("badMediaEntry")
      case text.hasPrefix("FATs differ"): add("fatCopiesDiffer")
      case text.hasPrefix("Failed to read sector"): add("volumeTruncated")
      default:
        // "Start does point to root/containing directory" concerns the renamed `..`/`.`
        // entries already reported as misplaced; repair lines say nothing new.
        break
      }
    }
    return out
  }

  @Test("each fsck.fat finding is found; clean volumes check clean", arguments: volumes)
  func findings(_ volume: CorpusVolume) throws {
    try #require(Paths.corpusPresent, "corpus absent at \(Paths.corpus.path)")
    if volume.image.contains("check-huge") {
      // fsck.fat: "Failed to read sector 167772191." We refuse to open it (CorpusTests.facts).
      #expect(throws: FormatError.self) { try CorpusTests.open(volume) }
      return
    }
    let fat = try CorpusTests.open(volume)
    let report = try fat.check()
    let found = Set(report.findings.map { Expected(kind: $0.kind, path: $0.path) })
    let foundKinds = Set(report.findings.map(\.kind))
    let rendered = report.findings.map { "\($0.kind)@\($0.path ?? "-"): \($0.message)" }.joined(separator: "\n")

    // Debian's fsck.fat 4.2 flags "FSCK0000.000" in the two check-encryption_*.repaired
    // images, which dosfstools master (whose tests call them repaired) accepts: version skew
    // (corpus README). We follow master and the test's role for the image: clean.
    if volume.clean || volume.isRepaired {
      #expect(report.findings.isEmpty, "expected clean, found:\n\(rendered)")
      return
    }
    let wanted = Self.expectations(volume.fsckMessages)
    #expect(!wanted.isEmpty, "fsck.fat reported errors we cannot translate: \(volume.fsckMessages)")
    for want in wanted {
      if want.path == nil {
        #expect(foundKinds.contains(want.kind), "missing \(want); found:\n\(rendered)")
      } else {
        #expect(found.contains(want), "missing \(want); found:\n\(rendered)")
      }
    }
  }
}
