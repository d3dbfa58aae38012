extension BootConfig {
  /// Checks the file against what ESXi writes and what the loader's reader and writer do.
  ///
  /// Kinds: `bankConfigRejected`, `bootConfigRejected` (non-numeric integer values),
  /// `bootstateMissing`, `bootstateOutsideWriterWindow`, `bootstateNotWritable`,
  /// `bootstateReaderWriterMismatch`, `bootstateOutOfRange`, `updatedInvalid`,
  /// `buildMissing`, `kernelMissing`, `missingKey`, `unknownKey`, `keyNotWrittenByESXi`,
  /// `shortenedKey`, `keyCase`, `blankBeforeSeparator`, `duplicateKey`, `keyOrder`,
  /// `emptyValue`, `integerOutOfRange`, `lineWithoutSeparator`, `nulByte`.
  public func lint() -> [LintIssue] {
    var issues: [LintIssue] = []
    lintRejections(into: &issues)
    // Line by line: keys as the loader maps them.
    var seen: [String: BootConfigLine] = [:]
    var order: [String] = []
    for line in lines {
      if line.containsNUL {
        issues.add(.warning, "nulByte", "line holds a NUL byte: the loader ignores the rest of the line", line)
      }
      switch line.content {
      case .blank, .comment: continue
      case .noSeparator:
        issues.add(
          .warning, "lineWithoutSeparator",
          "'\(String(decoding: line.merged, as: UTF8.self))' has no '=': the loader ignores it", line)
      case .option(let key, let value):
        guard let name = lintKeyName(line, key: key, into: &issues) else { continue }
        if let first = seen[name] {
          issues.add(
            .warning, "duplicateKey",
            "'\(name)' is set again (first on line \(first.number)); the loader takes the last one", line)
        } else {
          seen[name] = line
          order.append(name)
        }
        lintInteger(line, name: name, value: value, into: &issues)
      }
    }
    lintKeySet(order: order, seen: seen, into: &issues)
    lintBankFields(into: &issues, seen: seen)
    return issues
  }

  /// A value the loader's reader (the bank) or the kernel loader (the boot) rejects.
  func lintRejections(into issues: inout [LintIssue]) {
    if let failure = safebootParse.failure {
      issues.add(
        .error, "bankConfigRejected",
        "'\(failure.option)=\(failure.value)' is not a number: the loader rejects this boot.cfg, so the partition is not a bank",
        lines[failure.line - 1])
    }
    if let failure = mbootParse.failure {
      issues.add(
        .error, "bootConfigRejected",
        "'\(failure.option)=\(failure.value)' is not a number: the loader cannot boot from this boot.cfg",
        lines[failure.line - 1])
    }
  }

  /// The name the loader reads `key` as, with a warning where that is not the key as ESXi
  /// writes it; nil (with a warning) when the loader ignores the line.
  func lintKeyName(_ line: BootConfigLine, key: [UInt8], into issues: inout [LintIssue]) -> String? {
    let keyText = String(decoding: key, as: UTF8.self)
    guard let name = optionName(of: line) else {
      if key.last == 0x20, let known = knownName(exactly: LoaderCType.mergeSpaces(key)) {
        let writerNote =
          known == "bootstate" ? "; the loader's writer does find it, so reader and writer disagree" : ""
        issues.add(
          .warning, "blankBeforeSeparator",
          "'\(keyText)=': a blank before '=' makes the loader ignore '\(known)'\(writerNote)", line)
      } else {
        issues.add(
          .warning, "unknownKey",
          "unknown key '\(keyText)': the loader ignores it and ESXi 6.7's image tools reject it", line)
      }
      return nil
    }
    if keyText != name {
      if keyText.lowercased() == name {
        issues.add(
          .warning, "keyCase",
          "key '\(keyText)' is read as '\(name)' (keys are case-insensitive); ESXi writes '\(name)'", line)
      } else {
        let mboot = line.option(in: LoaderOption.mboot).map { LoaderOption.mboot[$0].name }
        let also = mboot.map { $0 != name ? " (and as '\($0)' by the kernel loader)" : "" } ?? ""
        issues.add(
          .warning, "shortenedKey",
          "key '\(keyText)' is not a key ESXi writes; the loader reads it as '\(name)'\(also) because it prefixes that name",
          line)
      }
    }
    if name == "quickboot" {
      issues.add(
        .warning, "keyNotWrittenByESXi",
        "'quickboot' marks a one-shot bank (7.0+ Quick Boot): the loader boots it never, and writes it INVALID",
        line)
    } else if !LoaderOption.esxiWrittenKeys.contains(name) {
      issues.add(
        .warning, "keyNotWrittenByESXi",
        "'\(name)' is read by the loader but ESXi's image tools do not write it (6.7 rejects it)", line)
    }
    return name
  }

  /// An integer option's value as the loader's `atoi` reads it.
  func lintInteger(_ line: BootConfigLine, name: String, value: [UInt8], into issues: inout [LintIssue]) {
    let isInteger = (LoaderOption.safeboot + LoaderOption.mboot).first { $0.name == name }?.kind == .integer
    guard isInteger else { return }
    if value.isEmpty {
      issues.add(.warning, "emptyValue", "'\(name)=' has no value: the loader reads 0", line)
    } else if LoaderCType.isNumber(value), !LoaderCType.atoi(value).exact {
      issues.add(
        .warning, "integerOutOfRange",
        "'\(name)=\(String(decoding: value, as: UTF8.self))' does not fit a 32-bit int: the loader reads \(LoaderCType.atoi(value).value)",
        line)
    }
  }

  /// Key set and order against what ESXi writes.
  func lintKeySet(order: [String], seen: [String: BootConfigLine], into issues: inout [LintIssue]) {
    let written = order.filter { LoaderOption.esxiWrittenKeys.contains($0) }
    let expected = LoaderOption.esxiWrittenKeys.filter { written.contains($0) }
    if written != expected {
      issues.add(
        .warning, "keyOrder",
        "keys are in the order \(written.joined(separator: ", ")); ESXi writes \(expected.joined(separator: ", "))")
    }
    for key in ["title", "timeout", "prefix", "kernelopt", "modules"] where seen[key] == nil {
      issues.add(.warning, "missingKey", "no '\(key)=' line; ESXi writes one")
    }
  }

  func knownName(exactly key: [UInt8]) -> String? {
    let text = String(decoding: key, as: UTF8.self).lowercased()
    return (LoaderOption.safeboot + LoaderOption.mboot).first { $0.name == text }?.name
  }

  /// The fields the bank choice and the loader's writer depend on.
  func lintBankFields(into issues: inout [LintIssue], seen: [String: BootConfigLine]) {
    func add(
      _ s: LintIssue.Severity, _ kind: String, _ message: String, _ line: BootConfigLine? = nil, offset: Int? = nil
    ) {
      issues.append(LintIssue(s, kind, message, line: line?.number, byteOffset: offset ?? line?.range.lowerBound))
    }
    if kernel == nil, mbootParse.failure == nil {
      add(
        .error, "kernelMissing", "no 'kernel=' value: the loader stops with \"kernel=<FILEPATH> must be set\"",
        seen["kernel"])
    }
    guard safebootParse.failure == nil else { return }
    let options = BankOptions(safebootParse)
    if options.build?.isEmpty ?? true {
      add(.error, "buildMissing", "no 'build=' value: the loader treats the bank as invalid", seen["build"])
    }
    if options.updated == 0 {
      add(.error, "updatedInvalid", "'updated' is 0 or missing: the loader treats the bank as invalid", seen["updated"])
    }

    let readerLine = safebootParse.line(setting: "bootstate").map { lines[$0] }
    let state = options.bootstate
    if readerLine == nil {
      add(
        .warning, "bootstateMissing",
        "no 'bootstate=' line: the loader reads VALID (0), and can never mark the bank for a trial boot")
    } else if !(0...3).contains(state) {
      let meaning = state == 4 ? " (4: staged by esximage)" : ""
      add(
        .error, "bootstateOutOfRange",
        "bootstate \(state)\(meaning) is not a loader state: the loader invalidates the bank", readerLine)
    }

    // Reader versus writer.
    let writer = writerView.outcome
    let writerLine = writerView.valueOffset.flatMap { line(containing: $0) }
    switch writer {
    case .notFound:
      if let readerLine {
        add(
          .warning, "bootstateOutsideWriterWindow",
          "'bootstate=' is on line \(readerLine.number), but the loader's writer looks only at the first \(BootstateWriterView.window) bytes: a bank that needs a new state is dropped",
          readerLine)
      }
    case .notADigit(let offset, let byte):
      let shown = byte >= 0x20 && byte < 0x7F ? "'\(Character(Unicode.Scalar(byte)))'" : "0x\(String(byte, radix: 16))"
      add(
        .warning, "bootstateNotWritable",
        "the loader's writer finds \(shown) after 'bootstate=', not a digit 0-3: a bank that needs a new state is dropped",
        writerLine, offset: offset)
    case .writable:
      break
    }
    if let writerLine, let readerLine, writerLine.index != readerLine.index {
      add(
        .warning, "bootstateReaderWriterMismatch",
        "the loader reads bootstate from line \(readerLine.number) but its writer changes line \(writerLine.number)",
        writerLine,
        offset: writerView.valueOffset)
    } else if let writerLine, readerLine == nil {
      add(
        .warning, "bootstateReaderWriterMismatch",
        "the loader's writer finds bootstate on line \(writerLine.number) but its reader does not read that line (it reads VALID)",
        writerLine, offset: writerView.valueOffset)
    } else if case .writable(_, let digit) = writer, readerLine != nil, Int32(digit - 0x30) != state {
      add(
        .warning, "bootstateReaderWriterMismatch",
        "the loader reads bootstate \(state) but its writer sees the digit \(Character(Unicode.Scalar(digit)))",
        writerLine,
        offset: writerView.valueOffset)
    }
  }
}

extension [LintIssue] {
  /// Adds an issue at `line` (its number and first byte), or of the whole file.
  fileprivate mutating func add(
    _ severity: LintIssue.Severity, _ kind: String, _ message: String, _ line: BootConfigLine? = nil
  ) {
    append(LintIssue(severity, kind, message, line: line?.number, byteOffset: line?.range.lowerBound))
  }
}
