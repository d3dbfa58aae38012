import Foundation
import TestSupport
import Testing

/// Every `--json` output, the undo file and the checksum manifest against the JSON Schemas in
/// `schemas/`, with python3's jsonschema (Debian's `python3-jsonschema`) as the oracle.
@Suite("JSON Schemas")
struct JSONSchemaTests {
  static let schemas = TestPaths.packageRoot.appendingPathComponent("schemas")

  static let hasJSONSchema: Bool = {
    (try? run("python3", ["-c", "import jsonschema; jsonschema.Draft202012Validator"]).status) == 0
  }()
  static let reason = "python3-jsonschema is not installed (make deps installs it)"

  /// Reads `[[schema file name, document], …]` on stdin and prints one line per document: `ok`,
  /// or the first error with its JSON path.
  static let validator = """
    import json, os, sys, jsonschema
    folder = sys.argv[1]
    for name, document in json.load(sys.stdin):
        with open(os.path.join(folder, name)) as f:
            validator = jsonschema.Draft202012Validator(json.load(f))
        error = jsonschema.exceptions.best_match(validator.iter_errors(document))
        print("ok" if error is None else "/".join(map(str, error.absolute_path)) + ": " + error.message)
    """

  /// The oracle's verdict on each `(schema, document)` pair: nil when valid, else why not.
  static func validate(_ pairs: [(schema: String, document: Any)]) throws -> [String?] {
    let input = try JSONSerialization.data(withJSONObject: pairs.map { [$0.schema, $0.document] })
    let result = try run("python3", ["-c", validator, schemas.path], stdin: input)
    guard result.status == 0 else { throw CommandFailed(message: "python3 jsonschema: \(result.stderr)") }
    let lines = result.text.split(separator: "\n").map(String.init)
    guard lines.count == pairs.count else {
      throw CommandFailed(message: "python3 jsonschema: \(lines.count) verdicts for \(pairs.count) documents")
    }
    return lines.map { $0 == "ok" ? nil : $0 }
  }

  /// One command run with `--json`: its status and the document it printed.
  struct Output {
    var label: String
    var status: Int32
    var document: Any?
    var schema: String

    /// The schema that applies: the error object on a status-2 `{"error": …}`, else the command's.
    init(_ label: String, _ result: ProcessResult, schema: String) {
      self.label = label
      status = result.status
      document = try? JSONSerialization.jsonObject(with: result.stdout)
      let object = document as? [String: Any]
      self.schema = object?.keys.sorted() == ["error"] ? "error.schema.json" : schema
    }
  }

  static func output(_ schema: String, _ arguments: [String]) throws -> Output {
    let label = arguments.joined(separator: " ")
    return Output(label, try BootbankBinary.run(arguments + ["--json"]), schema: schema + ".schema.json")
  }

  /// Checks that every output printed JSON, that an error object comes with status 2, and that
  /// each document is valid against its schema.
  static func expectValid(_ outputs: [Output], _ files: [(label: String, schema: String, path: String)] = []) throws {
    var pairs: [(schema: String, document: Any)] = []
    var labels: [String] = []
    for output in outputs {
      guard let document = output.document else {
        Issue.record("\(output.label): status \(output.status), no JSON on standard output")
        continue
      }
      if output.schema == "error.schema.json" { #expect(output.status == 2, "\(output.label): error object") }
      pairs.append((output.schema, document))
      labels.append("\(output.label) [\(output.schema)]")
    }
    for file in files {
      var data = try Data(contentsOf: URL(fileURLWithPath: file.path))
      // An undo file is a JSON header line followed by raw bytes: the header is the document.
      if file.schema == "undo.schema.json", let newline = data.firstIndex(of: 0x0A) { data = data[..<newline] }
      pairs.append((file.schema, try JSONSerialization.jsonObject(with: data)))
      labels.append("\(file.label) [\(file.schema)]")
    }
    for (label, verdict) in zip(labels, try validate(pairs)) {
      #expect(verdict == nil, "\(label): \(verdict ?? "")")
    }
  }

  static func copy(_ path: String, into dir: ScratchDirectory) throws -> String {
    let copy = dir.path(URL(fileURLWithPath: path).lastPathComponent)
    let result = try run("cp", ["--sparse=always", path, copy])
    guard result.status == 0 else { throw CommandFailed(message: "cp: \(result.stderr)") }
    return copy
  }

  @Test(.enabled(if: hasJSONSchema, Comment(rawValue: reason)))
  func everySchemaIsAValidSchema() throws {
    let names = try FileManager.default.contentsOfDirectory(atPath: Self.schemas.path)
      .filter { $0.hasSuffix(".schema.json") }.sorted()
    let shapes = [
      "checksum", "checksum-check", "checksum-manifest", "diff", "error", "extract", "fsck", "image", "info", "ls",
      "scan", "status", "surface", "undo", "verify", "write",
    ]
    #expect(names == shapes.map { $0 + ".schema.json" }.sorted(), "\(names)")
    let check = """
      import json, sys, jsonschema
      for path in sys.argv[1:]:
          with open(path) as f:
              schema = json.load(f)
          assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema", path
          jsonschema.Draft202012Validator.check_schema(schema)
          print("ok", path)
      """
    let result = try run("python3", ["-c", check] + names.map { Self.schemas.appendingPathComponent($0).path })
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.text.split(separator: "\n").count == names.count, "\(result.text)")
  }

  /// Every reading command, the checksum manifest and the writing commands' dry runs, on every
  /// scenario image.
  @Test(
    .enabled(if: hasJSONSchema, Comment(rawValue: reason)),
    .enabled(if: Scenarios.available, Comment(rawValue: Scenarios.skipReason)), arguments: Scenarios.names)
  func everyCommandOnEveryScenario(image: String) throws {
    let dir = try ScratchDirectory("schema")
    let path = Scenarios.path(image)
    let manifest = dir.path("manifest.json")
    let other = Scenarios.path("esxi7.img")
    let manifestRun = try BootbankBinary.run(["checksum", path, "--files", "--manifest", manifest, "--quiet"])
    #expect([0, 1, 2].contains(manifestRun.status), "\(manifestRun.stderr)")
    var outputs = [
      try Self.output("info", ["info", path]),
      try Self.output("info", ["info", path, "--cross-check"]),
      try Self.output("scan", ["scan", path]),
      try Self.output("status", ["status", path]),
      try Self.output("status", ["status", path, "--after", "3"]),
      try Self.output("verify", ["verify", path]),
      try Self.output("diff", ["diff", path]),
      try Self.output("diff", ["diff", path, other]),
      try Self.output("ls", ["ls", path, "--bank", "bootbank", "-R", "-l"]),
      try Self.output("ls", ["ls", path, "--partition", "6"]),
      try Self.output("fsck", ["fsck", path, "--partition", "5"]),
      try Self.output("extract", ["extract", path, "--bank", "bootbank", "-o", dir.path("out")]),
      try Self.output("checksum", ["checksum", path]),
      try Self.output("checksum", ["checksum", path, "--files", "--algo", "crc32,sha256,sha1"]),
      try Self.output("surface", ["surface", path, "--banks-only"]),
      try Self.output("image", ["image", path, "-o", dir.path("copy.img")]),
    ]
    var files: [(label: String, schema: String, path: String)] = []
    if FileManager.default.fileExists(atPath: manifest) {
      files.append(("checksum --manifest of \(image)", "checksum-manifest.schema.json", manifest))
      outputs.append(try Self.output("checksum-check", ["checksum", path, "--check", manifest]))
      outputs.append(try Self.output("checksum-check", ["checksum", other, "--check", manifest]))
    }
    let copy = try Self.copy(path, into: dir)
    for arguments in [
      ["mark", copy, "--bank", "bootbank", "--state", "invalid"], ["set-next", copy, "--bank", "altbootbank"],
      ["set-next", copy, "--bank", "altbootbank", "--trial"], ["rollback", copy], ["repair-gpt", copy],
    ] {
      outputs.append(try Self.output("write", arguments + ["--dry-run"]))
    }
    try Self.expectValid(outputs, files)
  }

  /// A write that happens: its report (with the status after) and its undo file, the undo
  /// command's report, and a surface scan of every sector with a mapfile.
  @Test(
    .enabled(if: hasJSONSchema, Comment(rawValue: reason)),
    .enabled(if: TestPaths.fixture("esxi7.img") != nil, "images/esxi7.img is missing: run `make images`"))
  func aWriteItsUndoFileAndTheUndo() throws {
    let dir = try ScratchDirectory("schema-write")
    let image = try Self.copy(TestPaths.images.appendingPathComponent("esxi7.img").path, into: dir)
    let undo = dir.path("undo.json")
    let write = try Self.output("write", ["set-next", image, "--bank", "altbootbank", "--yes", "--undo", undo])
    #expect(write.status == 0)
    #expect((write.document as? [String: Any])?["outcome"] as? String == "written")
    let back = try Self.output("write", ["undo", undo, image, "--yes", "--undo", dir.path("undo2.json")])
    #expect(back.status == 0)
    let surface = try Self.output("surface", ["surface", image, "--mapfile", dir.path("map")])
    #expect(surface.status == 0)
    try Self.expectValid([write, back, surface], [("undo file", "undo.schema.json", undo)])
  }

  /// The `{"error": …}` object of every command on a file that does not exist.
  @Test(.enabled(if: hasJSONSchema, Comment(rawValue: reason)))
  func everyCommandsErrorObject() throws {
    let dir = try ScratchDirectory("schema-error")
    let missing = dir.path("missing.img")
    let commands: [[String]] = [
      ["info", missing], ["status", missing], ["verify", missing], ["diff", missing],
      ["ls", missing, "--partition", "5"], ["fsck", missing, "--partition", "5"],
      ["extract", missing, "--partition", "5", "-o", dir.path("out")], ["checksum", missing],
      ["checksum", missing, "--check", dir.path("missing.json")], ["surface", missing],
      ["mark", missing, "--bank", "5", "--state", "invalid", "--dry-run"],
      ["set-next", missing, "--bank", "5", "--dry-run"],
      ["rollback", missing, "--dry-run"], ["repair-gpt", missing, "--dry-run"],
      ["undo", dir.path("missing.json"), missing],
    ]
    var outputs: [Output] = []
    for arguments in commands {
      let output = try Self.output("error", arguments)
      #expect(output.status == 2, "\(output.label): status \(output.status)")
      #expect(output.schema == "error.schema.json", "\(output.label): no {\"error\": …} object")
      outputs.append(output)
    }
    // scan reports a device it cannot open in its row (status 1), not as an error object.
    let scan = try Self.output("scan", ["scan", missing])
    #expect(scan.status == 1)
    #expect(scan.schema == "scan.schema.json")
    try Self.expectValid(outputs + [scan])
  }

  /// The schemas are not vacuous: a real document with one key removed, one renamed, one added
  /// or one value of the wrong type fails.
  @Test(
    .enabled(if: hasJSONSchema, Comment(rawValue: reason)),
    .enabled(if: TestPaths.fixture("esxi7.img") != nil, "images/esxi7.img is missing: run `make images`"))
  func aDocumentWithAKeyRemovedOrRenamedFails() throws {
    let path = Scenarios.path("esxi7.img")
    let status = try #require(try Self.output("status", ["status", path]).document as? [String: Any])
    let verify = try #require(try Self.output("verify", ["verify", path]).document as? [String: Any])
    var removed = status
    removed["rollback"] = nil
    var renamed = status
    renamed["fallbackBank"] = renamed.removeValue(forKey: "fallback")
    var added = verify
    added["verdicts"] = "ok"
    var wrongType = verify
    wrongType["verdict"] = "fine"
    var nestedRemoved = status
    var banks = try #require(status["banks"] as? [[String: Any]])
    banks[0]["bootable"] = nil
    nestedRemoved["banks"] = banks
    let verdicts = try Self.validate([
      ("status.schema.json", status), ("status.schema.json", removed), ("status.schema.json", renamed),
      ("verify.schema.json", added), ("verify.schema.json", wrongType), ("status.schema.json", nestedRemoved),
    ])
    #expect(verdicts[0] == nil, "\(verdicts[0] ?? "")")
    for verdict in verdicts.dropFirst() { #expect(verdict != nil) }
    #expect(verdicts[1]?.contains("'rollback' is a required property") == true, "\(verdicts[1] ?? "")")
    #expect(verdicts[2]?.contains("fallback") == true, "\(verdicts[2] ?? "")")
    #expect(verdicts[5]?.hasPrefix("banks/0") == true, "\(verdicts[5] ?? "")")
  }
}
