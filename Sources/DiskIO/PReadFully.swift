#if canImport(Glibc)
  import Glibc
#endif

/// Reads with `pread` until `raw` is full, the file ends or the medium fails; EINTR is retried.
///
/// - Returns: How many bytes were read, and the errno of the read that failed (`nil` when the
///   buffer was filled, or when the file ended: then `done < raw.count`).
func preadFully(_ fd: Int32, into raw: UnsafeMutableRawBufferPointer, at offset: Int64) -> (done: Int, errno: Int32?) {
  var done = 0
  while done < raw.count {
    let n = unsafe pread(fd, raw.baseAddress! + done, raw.count - done, off_t(offset + Int64(done)))
    if n > 0 {
      done += n
      continue
    }
    if n == 0 { return (done, nil) }
    let err = Glibc.errno
    if err == EINTR { continue }
    return (done, err)
  }
  return (done, nil)
}
