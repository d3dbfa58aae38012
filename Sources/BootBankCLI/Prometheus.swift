import Foundation

/// The Prometheus text exposition format (version 0.0.4), as node_exporter's textfile
/// collector reads it: per family a `# HELP` and a `# TYPE` line, then its samples.
struct Prometheus {
  enum MetricType: String {
    case gauge, counter
  }

  struct Sample {
    var labels: [(String, String)]
    var value: Double
  }

  struct Family {
    var name: String
    var help: String
    var type: MetricType = .gauge
    var samples: [Sample] = []

    mutating func add(_ value: Double, _ labels: [(String, String)]) {
      samples.append(Sample(labels: labels, value: value))
    }
  }

  var families: [Family] = []

  /// The family called `name`, created with `help` the first time.
  mutating func family(_ name: String, _ help: String) -> Int {
    if let index = families.firstIndex(where: { $0.name == name }) { return index }
    families.append(Family(name: name, help: help))
    return families.count - 1
  }

  /// Adds one sample to the family `name` (created on first use).
  mutating func add(_ name: String, _ help: String, _ value: Double, _ labels: [(String, String)]) {
    let index = family(name, help)
    families[index].add(value, labels)
  }

  /// The exposition text, ending with a newline.
  func render() -> String {
    var out = ""
    for family in families {
      out += "# HELP \(family.name) \(Self.escapeHelp(family.help))\n"
      out += "# TYPE \(family.name) \(family.type.rawValue)\n"
      for sample in family.samples {
        out += family.name
        if !sample.labels.isEmpty {
          out += "{" + sample.labels.map { "\($0.0)=\"\(Self.escapeLabel($0.1))\"" }.joined(separator: ",") + "}"
        }
        out += " \(Self.format(sample.value))\n"
      }
    }
    return out
  }

  /// A sample value: integers without a fraction, others in Swift's shortest round-trip form.
  static func format(_ value: Double) -> String {
    if value.isNaN { return "NaN" }
    if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
    if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
    return "\(value)"
  }

  /// Label values escape backslash, double quote and line feed.
  static func escapeLabel(_ text: String) -> String {
    var out = ""
    for character in text {
      switch character {
      case "\\": out += "\\\\"
      case "\"": out += "\\\""
      case "\n": out += "\\n"
      default: out.append(character)
      }
    }
    return out
  }

  /// HELP text escapes backslash and line feed.
  static func escapeHelp(_ text: String) -> String {
    text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
  }
}
