import SystemPackage

#if canImport(Glibc)
  import Glibc
#endif

/// Replaces a small file atomically: a reader sees the old content or the new, never a part.
///
/// The content goes to a temporary file in the same folder (so `rename` stays on one file
/// system), which is synced and then renamed over `path`; the folder is synced last so the
/// rename survives a power cut. This is what node_exporter's textfile collector asks of a
/// writer: it may read the folder at any moment.
public enum AtomicFile {
  /// Writes `bytes` to `path`, replacing it.
  ///
  /// - Parameter mode: Permissions of the new file (0644: the collector runs as another user).
  /// - Throws: `DiskIOError` naming the path and the step that failed; the temporary file is
  ///   removed and `path` is left as it was.
  public static func write(
    _ bytes: [UInt8], to path: String, mode: FilePermissions = [.ownerReadWrite, .groupRead, .otherRead]
  )
    throws(DiskIOError)
  {
    let target = FilePath(path)
    let folder = target.removingLastComponent()
    let directory = folder.isEmpty ? FilePath(".") : folder
    guard let name = target.lastComponent?.string, !name.isEmpty else {
      throw DiskIOError(.open, path: path, detail: "not a file name")
    }
    let temporary = directory.appending(".\(name).\(getpid()).tmp")
    let descriptor: FileDescriptor
    do {
      descriptor = try FileDescriptor.open(
        temporary, .writeOnly, options: [.create, .exclusiveCreate, .closeOnExec], permissions: mode)
    } catch let error as Errno {
      throw DiskIOError(.open, path: temporary.string, errno: error)
    } catch {
      throw DiskIOError(.open, path: temporary.string, detail: "\(error)")
    }
    func abandon(_ error: DiskIOError) -> DiskIOError {
      try? descriptor.close()
      _ = unsafe temporary.withPlatformString { unsafe unlink($0) }
      return error
    }
    do {
      _ = try unsafe bytes.withUnsafeBytes { unsafe try descriptor.writeAll($0) }
    } catch let error as Errno {
      throw abandon(DiskIOError(.write, path: temporary.string, errno: error))
    } catch {
      throw abandon(DiskIOError(.write, path: temporary.string, detail: "\(error)"))
    }
    guard fsync(descriptor.rawValue) == 0 else {
      throw abandon(DiskIOError(.sync, path: temporary.string, errno: Errno(rawValue: Glibc.errno)))
    }
    do { try descriptor.close() } catch {
      throw abandon(DiskIOError(.write, path: temporary.string, detail: "close: \(error)"))
    }
    let renamed = unsafe temporary.withPlatformString { from in
      unsafe target.withPlatformString { to in unsafe rename(from, to) }
    }
    guard renamed == 0 else {
      let err = Errno(rawValue: Glibc.errno)
      _ = unsafe temporary.withPlatformString { unsafe unlink($0) }
      throw DiskIOError(.write, path: path, errno: err, detail: "rename from \(temporary.string)")
    }
    // The rename lives in the folder: sync it too (a folder that cannot be opened is left).
    if let folderDescriptor = try? FileDescriptor.open(directory, .readOnly, options: [.directory, .closeOnExec]) {
      _ = fsync(folderDescriptor.rawValue)
      try? folderDescriptor.close()
    }
  }
}
