/// One step of raw inflation.
struct InflateStep {
  var consumed: Int
  var produced: Int
  var finished: Bool
}

/// A raw-deflate decoder that keeps state across input chunks.
protocol RawInflater: AnyObject {
  /// Inflates from `input` into `output`.
  ///
  /// - Throws: the backend's reason, when the data is not valid deflate.
  func inflate(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(InflateFailure)
    -> InflateStep
  /// After a step that finished: the bytes the backend read past the end of the deflate
  /// stream that are not part of the input's unconsumed rest (ISA-L's bit buffer).
  func takeOverread() -> [UInt8]
  /// Prepares for the next deflate stream.
  func reset()
}

struct InflateFailure: Error {
  var reason: String
  /// Input bytes the failing call consumed before it gave up.
  var consumed: Int
}

func makeInflater(_ backend: InflateBackend) -> RawInflater {
  switch backend {
  case .isal: return ISALInflater()
  case .zlib: return ZlibInflater()
  }
}
