import Foundation
import Testing

/// One FAT volume of the shared corpus, as MANIFEST.json describes it.
struct CorpusVolume: Sendable, CustomTestStringConvertible {
  var image: String
  var offset: Int64
  var size: Int64
  var sectorSize: Int
  var fatType: String
  var totalClusters: Int?
  var freeClusters: Int?
  var label: String?
  var labelFatlabel: String?
  var serial: String?
  var clean: Bool
  var truncated: Bool
  var kinds: [String]
  var fsckMessages: [String]
  var upstreamMessages: [String]
  var files: [CorpusFile]
  var filesSource: String

  var testDescription: String { offset == 0 ? image : "\(image)@\(offset)" }
  var isDamaged: Bool { image.contains(".damaged.") }
  var isRepaired: Bool { image.contains(".repaired.") }
}

struct CorpusFile: Sendable, Hashable {
  var path: String
  var shortName: String?
  var isDirectory: Bool
  var mtime: String?
  var size: Int?
  var sha256: String?
}

enum CorpusManifest {
  static let volumes: [CorpusVolume] = load()

  static func load() -> [CorpusVolume] {
    let url = Paths.corpus.appendingPathComponent("MANIFEST.json")
    guard let data = try? Data(contentsOf: url),
      let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
      let images = root["images"] as? [[String: Any]]
    else { return [] }
    var out: [CorpusVolume] = []
    for image in images {
      guard let path = image["path"] as? String,
        let expected = image["expected"] as? [String: Any],
        let filesystems = expected["filesystems"] as? [[String: Any]]
      else { continue }
      for fs in filesystems {
        let region = fs["region"] as? [String: Any] ?? [:]
        let files = (fs["files"] as? [[String: Any]] ?? []).map { f in
          CorpusFile(
            path: f["path"] as? String ?? "", shortName: f["short_name"] as? String,
            isDirectory: (f["type"] as? String) == "dir", mtime: f["mtime"] as? String,
            size: f["size"] as? Int, sha256: f["sha256"] as? String)
        }
        let upstream = (fs["fsck_with_upstream_args"] as? [String: Any])?["messages"] as? [String] ?? []
        out.append(
          CorpusVolume(
            image: path, offset: Int64(region["offset_bytes"] as? Int ?? 0),
            size: Int64(region["size_bytes"] as? Int ?? 0),
            sectorSize: image["sector_size_assumed"] as? Int ?? 512,
            fatType: fs["fat_type"] as? String ?? "", totalClusters: fs["total_clusters"] as? Int,
            freeClusters: fs["free_clusters"] as? Int, label: fs["label"] as? String,
            labelFatlabel: fs["label_fatlabel"] as? String, serial: fs["serial"] as? String,
            clean: (fs["fsck_exit_code"] as? Int) == 0, truncated: fs["truncated_image"] as? Bool ?? false,
            kinds: image["kind"] as? [String] ?? [], fsckMessages: fs["fsck_messages"] as? [String] ?? [],
            upstreamMessages: upstream, files: files, filesSource: fs["files_source"] as? String ?? ""))
      }
    }
    return out
  }
}
