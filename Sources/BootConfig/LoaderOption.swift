/// One option of a loader configuration table (`option_t` in esx-boot's `bootlib.h`).
public struct LoaderOption: Hashable, Sendable {
  /// The option's value type.
  public enum Kind: Hashable, Sendable {
    /// `OPT_STRING`: the text after `=`.
    case string
    /// `OPT_INTEGER`: `is_number()` then `atoi()`; anything else fails the whole file.
    case integer
  }

  public var name: String
  public var kind: Kind
  /// The value before any line sets it (`nil` for a string means `NULL`).
  public var defaultValue: LoaderValue

  public init(_ name: String, _ kind: Kind, default defaultValue: LoaderValue) {
    self.name = name
    self.kind = kind
    self.defaultValue = defaultValue
  }

  /// The bank-choice table of `safeboot/config.c` (`SAFEBOOT_OPTIONS`), in the loader's order.
  ///
  /// The order matters: a line's key is compared as a prefix of each name in turn, and
  /// the first name it prefixes takes the value (so `b=` sets `build`, `boot=` sets `bootstate`).
  public static let safeboot: [LoaderOption] = [
    LoaderOption("build", .string, default: .string(nil)),
    LoaderOption("updated", .integer, default: .integer(0)),
    LoaderOption("bootstate", .integer, default: .integer(0)),
    LoaderOption("quickboot", .integer, default: .integer(0)),
  ]

  /// The kernel/modules table of `mboot/config.c` (`MBOOT_OPTIONS`), in the loader's order.
  ///
  /// Some older loaders also had `nativehttp`; current esx-boot does not, so it is not
  /// listed (a line with it is ignored there and reported as an unknown key here).
  public static let mboot: [LoaderOption] = [
    LoaderOption("kernel", .string, default: .string(nil)),
    LoaderOption("kernelopt", .string, default: .string(nil)),
    LoaderOption("modules", .string, default: .string(nil)),
    LoaderOption("title", .string, default: .string(nil)),
    LoaderOption("prefix", .string, default: .string(nil)),
    LoaderOption("nobootif", .integer, default: .integer(0)),
    LoaderOption("timeout", .integer, default: .integer(5)),
    LoaderOption("noquirks", .integer, default: .integer(0)),
    LoaderOption("norts", .integer, default: .integer(0)),
    LoaderOption("crypto", .string, default: .string(nil)),
    LoaderOption("runtimewd", .integer, default: .integer(0)),
    LoaderOption("tftpblksize", .integer, default: .integer(0)),
    LoaderOption("acpitables", .string, default: .string(nil)),
    LoaderOption("runtimewdtimeout", .integer, default: .integer(0)),
    LoaderOption("skip", .integer, default: .integer(0)),
    LoaderOption("errtimeout", .integer, default: .integer(-1)),
  ]

  /// The keys ESXi's image tools write, in the order they write them.
  ///
  /// ESXi 6.7's `esximage` rejects any other key ("Unknown keyword").
  public static let esxiWrittenKeys: [String] = [
    "bootstate", "title", "timeout", "prefix", "kernel", "kernelopt", "modules", "build", "updated",
  ]
}

/// A value a loader option holds.
public enum LoaderValue: Hashable, Sendable {
  /// A string option; `nil` is the C `NULL` (never set, or set by an empty value).
  case string([UInt8]?)
  /// An integer option (a C `int`).
  case integer(Int32)

  /// The string value decoded as UTF-8 (invalid bytes replaced), or `nil`.
  public var text: String? {
    if case .string(let bytes?) = self { return String(decoding: bytes, as: UTF8.self) }
    return nil
  }

  /// The integer value, or `nil` for a string option.
  public var integer: Int32? {
    if case .integer(let value) = self { return value }
    return nil
  }
}
