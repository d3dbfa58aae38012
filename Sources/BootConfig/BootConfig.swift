/// An ESXi `boot.cfg`, read exactly as VMware's boot loader reads it, with its original
/// bytes kept so that a field can be changed in place.
///
/// ## The reader's grammar (`bootlib/parse.c`)
/// - The file is split at `\n`. For each line, a NUL byte ends it; runs of white space
///   (esx-boot's `isspace`: BS, TAB, LF, VT, FF, CR, SPACE, NBSP) become one space and the
///   ends are trimmed. An empty line, or one starting with `#`, is skipped.
/// - The key is the text before the first `=`. It is compared case-insensitively as a
///   PREFIX of each option name of the table in turn; the first it prefixes takes the
///   value. So `BootState=1` is read, `boot=1` sets `bootstate`, `b=x` sets `build`, an
///   empty key sets the table's first option, and `bootstate = 1` (a blank before `=`,
///   left in the key) matches nothing and is ignored.
/// - One blank after `=` is skipped. An empty value sets the option to 0 (a string to
///   `NULL`). An integer value must be an optional `-` then digits (`is_number`), read by
///   `atoi` (decimal only, no `+`, no hex); anything else fails the whole file.
/// - Unknown keys and lines without `=` are ignored; a key set again later wins.
///
/// The loader reads the file twice with two tables: `safeboot` for the bank choice
/// (`build`, `updated`, `bootstate`, `quickboot`) and `mboot` for what to load
/// (`kernel`, `kernelopt`, `modules`, `title`, `prefix`, ...). A failure in the first
/// means the partition is not a bank at all; in the second, that the bank cannot boot.
///
/// The loader's writer finds `bootstate` differently: see `BootstateWriterView`.
public struct BootConfig: Hashable, Sendable {
  /// The file as read.
  public let bytes: [UInt8]
  /// Every line, including the ones the reader skips.
  public let lines: [BootConfigLine]
  /// The bank-choice pass (`safeboot/config.c`).
  public let safebootParse: LoaderParse
  /// The kernel-and-modules pass (`mboot/config.c`).
  public let mbootParse: LoaderParse
  /// Where the loader's writer would write `bootstate`.
  public let writerView: BootstateWriterView

  /// Reads `bytes` as the loader does. Never fails: a file the loader rejects has
  /// `safebootParse.failure` (or `mbootParse.failure`) set.
  public init(bytes: [UInt8]) {
    self.bytes = bytes
    lines = BootConfigLine.split(bytes)
    safebootParse = LoaderParse(lines: lines, table: LoaderOption.safeboot)
    mbootParse = LoaderParse(lines: lines, table: LoaderOption.mboot)
    writerView = BootstateWriterView(bytes: bytes)
  }

  /// Reads the text of a boot.cfg (UTF-8).
  public init(_ text: String) { self.init(bytes: Array(text.utf8)) }

  /// What the bank choice reads, or `nil` when the loader rejects the file (then the
  /// partition is not a bank).
  public var bankOptions: BankOptions? {
    safebootParse.failure == nil ? BankOptions(safebootParse) : nil
  }

  /// Whether the loader accepts the file for the bank choice.
  public var isBankConfig: Bool { safebootParse.failure == nil }

  /// `kernel=`, or `nil` (the loader then stops: "kernel=<FILEPATH> must be set").
  public var kernel: String? { mbootParse["kernel"]?.text }
  /// `kernelopt=`.
  public var kernelOptions: String? { mbootParse["kernelopt"]?.text }
  /// `title=`.
  public var title: String? { mbootParse["title"]?.text }
  /// `prefix=`; `nil` means the directory of boot.cfg (the bank's root).
  public var prefix: String? { mbootParse["prefix"]?.text }

  /// The kernel as a module item: its path from the bank's root.
  public var kernelItem: ModuleItem? {
    guard case .string(let name?) = mbootParse["kernel"] else { return nil }
    return ModuleItem(
      name: String(decoding: name, as: UTF8.self), arguments: nil, path: ModuleItem.resolve(name, prefix: prefixBytes))
  }

  /// `modules=` split into items, with `prefix=` applied.
  public var modules: [ModuleItem] {
    guard case .string(let list?) = mbootParse["modules"] else { return [] }
    return ModuleItem.parseList(list, prefix: prefixBytes)
  }

  /// `acpitables=` split into items, with `prefix=` applied.
  public var acpiTables: [ModuleItem] {
    guard case .string(let list?) = mbootParse["acpitables"] else { return [] }
    return ModuleItem.parseList(list, prefix: prefixBytes)
  }

  var prefixBytes: [UInt8]? {
    if case .string(let bytes?) = mbootParse["prefix"] { return bytes }
    return nil
  }

  /// The line that gave option `name` (of either table) its value.
  public func line(setting name: String) -> BootConfigLine? {
    (safebootParse.line(setting: name) ?? mbootParse.line(setting: name)).map { lines[$0] }
  }

  /// The line holding byte `offset`.
  public func line(containing offset: Int) -> BootConfigLine? {
    lines.first { $0.range.contains(offset) || ($0.range.isEmpty && $0.range.lowerBound == offset) }
  }

  /// The option name this line sets, as the loader maps it: the safeboot table first,
  /// then the mboot table; `nil` for unknown keys, comments and blanks.
  public func optionName(of line: BootConfigLine) -> String? {
    if let i = line.option(in: LoaderOption.safeboot) { return LoaderOption.safeboot[i].name }
    if let i = line.option(in: LoaderOption.mboot) { return LoaderOption.mboot[i].name }
    return nil
  }
}
