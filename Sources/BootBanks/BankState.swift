/// The bank states of `safeboot/bootbank.c`.
public enum BankState {
  public static let valid: Int32 = 0
  public static let upgrading: Int32 = 1
  public static let dirty: Int32 = 2
  public static let invalid: Int32 = 3

  /// The loader's name for a state (`bootstate_to_str`); 4 is esximage's "staged",
  /// which the loader calls CORRUPTED like any other value.
  public static func name(_ state: Int32?) -> String {
    switch state {
    case nil: "missing"
    case 0: "VALID"
    case 1: "UPGRADING"
    case 2: "DIRTY"
    case 3: "INVALID"
    case 4: "CORRUPTED (4: staged by esximage)"
    default: "CORRUPTED"
    }
  }
}
