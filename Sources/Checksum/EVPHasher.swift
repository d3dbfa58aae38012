import COpenSSL

/// A streaming OpenSSL digest (`EVP_DigestInit_ex`/`EVP_DigestUpdate`/`EVP_DigestFinal_ex`)
/// with value semantics: the context is copied (`EVP_MD_CTX_copy_ex`) before a shared one
/// is changed.
struct EVPHasher: Sendable {
  enum Kind: Sendable {
    case sha256, sha1
  }

  private var context: EVPContext

  init(_ kind: Kind) {
    context = EVPContext(kind)
  }

  mutating func update(_ buffer: UnsafeRawBufferPointer) {
    guard let base = buffer.baseAddress, buffer.count > 0 else { return }
    if !isKnownUniquelyReferenced(&context) {
      context = context.copy()
    }
    // EVP_DigestUpdate fails only on a context that was never initialised.
    _ = EVP_DigestUpdate(context.pointer, base, buffer.count)
  }

  /// The digest of everything added so far; the running state is not changed.
  func finalize() -> [UInt8] {
    let finished = context.copy()
    var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
    var length: UInt32 = 0
    let ok = out.withUnsafeMutableBufferPointer { EVP_DigestFinal_ex(finished.pointer, $0.baseAddress, &length) }
    precondition(ok == 1, "EVP_DigestFinal_ex failed")
    return Array(out.prefix(Int(length)))
  }
}

/// Owns one `EVP_MD_CTX`.
private final class EVPContext: @unchecked Sendable {
  // Only touched by the EVPHasher that owns it uniquely, or read (copied) while shared.
  let pointer: OpaquePointer

  init(_ kind: EVPHasher.Kind) {
    guard let context = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new: out of memory") }
    let md: OpaquePointer? =
      switch kind {
      case .sha256: EVP_sha256()
      case .sha1: EVP_sha1()
      }
    precondition(EVP_DigestInit_ex(context, md, nil) == 1, "EVP_DigestInit_ex failed")
    pointer = context
  }

  private init(pointer: OpaquePointer) {
    self.pointer = pointer
  }

  func copy() -> EVPContext {
    guard let context = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new: out of memory") }
    precondition(EVP_MD_CTX_copy_ex(context, pointer) == 1, "EVP_MD_CTX_copy_ex failed")
    return EVPContext(pointer: context)
  }

  deinit {
    EVP_MD_CTX_free(pointer)
  }
}
