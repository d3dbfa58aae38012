import Foundation
import FoundationXML

/// A small element tree with namespace- and case-tolerant lookups.
enum XMLTree {
  static let maxDepth = 64
  static let maxElements = 200_000

  final class Element {
    /// Local name, lower-cased.
    let name: String
    /// Attributes by local name, lower-cased.
    let attributes: [String: String]
    var text = ""
    var children: [Element] = []

    init(name: String, attributes: [String: String]) {
      self.name = name
      self.attributes = attributes
    }
  }

  /// Builds the tree from XMLParser's events, bounded in depth and element count.
  final class Builder: NSObject, XMLParserDelegate {
    var root: Element?
    var failure: String?
    private var stack: [Element] = []
    private var count = 0

    static func local(_ name: String) -> String {
      (name.split(separator: ":").last.map(String.init) ?? name).lowercased()
    }

    func parser(
      _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
      attributes: [String: String] = [:]
    ) {
      count += 1
      guard stack.count < XMLTree.maxDepth, count <= XMLTree.maxElements else {
        failure = "XML nested deeper than \(XMLTree.maxDepth) or with more than \(XMLTree.maxElements) elements"
        parser.abortParsing()
        return
      }
      var attrs: [String: String] = [:]
      for (key, value) in attributes { attrs[Self.local(key)] = value }
      let element = Element(name: Self.local(elementName), attributes: attrs)
      if let parent = stack.last {
        parent.children.append(element)
      } else {
        root = element
      }
      stack.append(element)
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
      _ = stack.popLast()
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
      stack.last?.text += string
    }

    func parser(_ parser: XMLParser, foundCDATA block: Data) {
      stack.last?.text += String(decoding: block, as: UTF8.self)
    }
  }

  static func name(_ element: Element) -> String { element.name }

  static func children(_ element: Element, _ name: String) -> [Element] {
    element.children.filter { $0.name == name }
  }

  /// Elements called `name` below `element`, in document order, not below a match.
  static func descendants(_ element: Element, _ name: String) -> [Element] {
    var found: [Element] = []
    func walk(_ node: Element) {
      for child in node.children {
        if child.name == name { found.append(child) } else { walk(child) }
      }
    }
    walk(element)
    return found
  }

  static func attribute(_ element: Element, _ name: String) -> String? {
    element.attributes[name]?.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  static func text(_ element: Element?) -> String? {
    element?.text.trimmingCharacters(in: .whitespacesAndNewlines)
  }
}
