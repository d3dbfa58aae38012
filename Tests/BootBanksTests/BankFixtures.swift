import BootBanks

/// Builds candidates for the replay tables.
enum Fixture {
  static func uuid(_ seed: UInt8) -> BankUUID? {
    BankUUID(bytes: (0..<16).map { seed &+ UInt8($0) })
  }

  /// A boot.cfg as ESXi writes it, with the bank-choice fields controlled.
  /// `bootstate: nil` leaves the line out.
  static func bootCfg(
    bootstate: String? = "0", updated: String = "1", build: String = "7.0.3-0.55.20328353", extra: String = ""
  ) -> String {
    var text = ""
    if let bootstate { text += "bootstate=\(bootstate)\n" }
    text += "title=Loading VMware ESXi\ntimeout=5\nprefix=\nkernel=b.b00\nkernelopt=\nmodules=k.b00 --- s.v00\n"
    text += "build=\(build)\nupdated=\(updated)\n" + extra
    return text
  }

  static func bank(
    _ partition: Int, _ bootstate: String? = "0", updated: String = "1", build: String = "7.0.3", extra: String = "",
    writesFail: Bool = false
  ) -> BankCandidate {
    BankCandidate(
      partition: partition, uuid: uuid(UInt8(partition) << 4),
      bootConfig: bootCfg(bootstate: bootstate, updated: updated, build: build, extra: extra), writesFail: writesFail)
  }

  static func esp(_ partition: Int = 1) -> BankCandidate {
    BankCandidate(partition: partition, uuid: uuid(0xE0), bootConfig: nil)
  }

  static func plain(_ partition: Int) -> BankCandidate {
    BankCandidate(partition: partition, uuid: nil, bootConfig: "bootstate=0\nbuild=x\nupdated=9\n")
  }
}
