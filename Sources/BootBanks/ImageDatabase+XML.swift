import DiskFormat
import Foundation
import FoundationXML

/// Why one XML file of the image database could not be read.
struct ImageDatabaseXMLError: Error, CustomStringConvertible {
  var description: String
}

extension ImageDatabase {
  /// Parses an image profile.
  ///
  /// Tolerant of the shapes seen in the field: any root element, namespaces (matched by local
  /// name, case-insensitively), element order, `<vib-id>` or an `id` attribute, whitespace
  /// around file names. The `<viblist>` is required.
  static func parseProfile(_ bytes: [UInt8], path: String) throws -> Profile {
    let root = try document(bytes)
    guard let viblist = XMLTree.descendants(root, "viblist").first else {
      throw ImageDatabaseXMLError(description: "\(path): no <viblist> in the image profile")
    }
    var vibs: [Profile.VIBEntry] = []
    for vib in XMLTree.children(viblist, "vib") {
      let id =
        XMLTree.text(XMLTree.children(vib, "vib-id").first)
        ?? XMLTree.text(XMLTree.children(vib, "vibid").first)
        ?? XMLTree.attribute(vib, "id")
      guard let id, !id.isEmpty else {
        throw ImageDatabaseXMLError(description: "\(path): a <vib> of the <viblist> has no <vib-id>")
      }
      var payloads: [Profile.PayloadFile] = []
      for payload in XMLTree.descendants(vib, "payload") {
        guard let name = XMLTree.attribute(payload, "payload-name") ?? XMLTree.attribute(payload, "name"),
          let file = XMLTree.text(payload), !file.isEmpty
        else {
          throw ImageDatabaseXMLError(
            description: "\(path): a <payload> of VIB \(id) has no payload-name or no file name")
        }
        payloads.append(Profile.PayloadFile(payloadName: name, fileName: file))
      }
      vibs.append(Profile.VIBEntry(id: id, payloads: payloads))
    }
    return Profile(
      path: path, name: XMLTree.text(XMLTree.children(root, "name").first),
      profileID: XMLTree.text(XMLTree.children(root, "profileid").first), vibs: vibs)
  }

  /// Parses a VIB descriptor (`<vib>` with `<type>`, `<name>`, `<version>`, `<vendor>` and
  /// `<payloads><payload name type size><checksum checksum-type verify-process>hex</checksum>`).
  static func parseVIB(_ bytes: [UInt8], path: String) throws -> VIB {
    let document = try document(bytes)
    let root = XMLTree.name(document) == "vib" ? document : (XMLTree.descendants(document, "vib").first ?? document)
    func field(_ name: String) -> String? { XMLTree.text(XMLTree.children(root, name).first) }
    var payloads: [Payload] = []
    for payload in XMLTree.descendants(root, "payload") {
      guard let name = XMLTree.attribute(payload, "name"), !name.isEmpty else {
        throw ImageDatabaseXMLError(description: "\(path): a <payload> has no name")
      }
      var size: Int64?
      if let text = XMLTree.attribute(payload, "size") {
        guard let value = Int64(text), value >= 0 else {
          throw ImageDatabaseXMLError(description: "\(path): payload \(name) has size \"\(text)\"")
        }
        size = value
      }
      var digests: [Digest] = []
      for checksum in XMLTree.descendants(payload, "checksum") {
        guard let algorithm = XMLTree.attribute(checksum, "checksum-type"), let hex = XMLTree.text(checksum) else {
          continue
        }
        let process = XMLTree.attribute(checksum, "verify-process").map { $0.lowercased() }
        digests.append(
          Digest(
            algorithm: algorithm.lowercased(), verifyProcess: process?.isEmpty == true ? nil : process,
            hex: hex.lowercased()))
      }
      payloads.append(
        Payload(name: name, type: XMLTree.attribute(payload, "type")?.lowercased(), size: size, checksums: digests))
    }
    return VIB(
      path: path, type: field("type"), name: field("name"), version: field("version"), vendor: field("vendor"),
      payloads: payloads)
  }

  /// The root element of an XML document, read strictly (FoundationXML's `XMLDocument` on
  /// Linux recovers from broken XML silently, so `XMLParser` builds the tree); external
  /// entities are never resolved. Two shapes FoundationXML's parser crashes on are refused
  /// before it sees them: bytes that are not UTF-8 (it traps on an element or attribute name
  /// libxml2 hands over in invalid UTF-8) and processing instructions (it calls `strlen` on the
  /// null data of `<?target?>`); ESXi writes neither.
  private static func document(_ bytes: [UInt8]) throws -> XMLTree.Element {
    if let offset = firstInvalidUTF8(bytes) {
      throw ImageDatabaseXMLError(
        description: "not UTF-8: invalid byte 0x\(hexByte(bytes[offset], uppercase: true)) at byte offset \(offset)")
    }
    if let offset = firstProcessingInstruction(bytes) {
      throw ImageDatabaseXMLError(description: "a processing instruction at byte offset \(offset)")
    }
    let parser = XMLParser(data: Data(bytes))
    parser.shouldProcessNamespaces = true
    parser.shouldResolveExternalEntities = false
    let builder = XMLTree.Builder()
    parser.delegate = builder
    let ok = parser.parse()
    if let failure = builder.failure {
      throw ImageDatabaseXMLError(description: failure)
    }
    guard ok, parser.parserError == nil, let root = builder.root else {
      let code = (parser.parserError as NSError?)?.code ?? -1
      throw ImageDatabaseXMLError(
        description:
          "not well-formed XML (XMLParser error \(code) at line \(parser.lineNumber), column \(parser.columnNumber))")
    }
    return root
  }

  /// The byte offset of the first `<?` that is not the XML declaration (`<?xml` followed by
  /// white space at byte 0, or after a UTF-8 byte order mark), or `nil`.
  static func firstProcessingInstruction(_ bytes: [UInt8]) -> Int? {
    let start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
    var at = start
    while at + 1 < bytes.count {
      if bytes[at] == UInt8(ascii: "<") && bytes[at + 1] == UInt8(ascii: "?") {
        let declaration =
          at == start && bytes.count > at + 5 && Array(bytes[(at + 2)..<(at + 5)]) == Array("xml".utf8)
          && [0x20, 0x09, 0x0A, 0x0D].contains(bytes[at + 5])
        if !declaration { return at }
      }
      at += 1
    }
    return nil
  }

  /// The byte offset of the first byte that does not start a valid UTF-8 sequence, or `nil`.
  static func firstInvalidUTF8(_ bytes: [UInt8]) -> Int? {
    var parser = Unicode.UTF8.ForwardParser()
    var iterator = bytes.makeIterator()
    var offset = 0
    while true {
      switch parser.parseScalar(from: &iterator) {
      case .valid(let encoded): offset += encoded.count
      case .emptyInput: return nil
      case .error: return offset
      }
    }
  }
}
