import Archive
import Checksum
import DiskFormat

extension PayloadManifest {
  /// Checks one bank file against its manifest entry, from the file's bytes pushed in chunks.
  ///
  /// ESXi's rule (§5): gunzip the payload and compare the SHA-256 of the decompressed bytes
  /// with the `sha-256` `verify-process="gunzip"` digest, and the SHA-1 with the `sha-1` one.
  /// SHA-256 of the same bytes proves what SHA-1 proves: the SHA-1 is computed only where the
  /// descriptor has no SHA-256 (gunzip) digest, or when `checkSHA1` asks for both.
  /// Per-host payloads (useropts, features, jumpstrt) are only checked for gzip integrity.
  /// A payload with only a digest of the file as shipped is compared raw, and a mismatch
  /// is a warning (installers may recompress). Every problem is a `Finding`; nothing throws.
  public final class FileCheck {
    /// The digests of the decompressed output.
    struct OutputHashes: Sendable {
      var sha256 = SHA256Hasher()
      var sha1: SHA1Hasher?
    }

    public let entry: Entry
    public let checksSHA1: Bool
    private let decoder: GzipDecoder?
    private var gzipError: GzipError?
    /// Hashing on the caller's thread, or on a second one (`overlapHashing`).
    private var inline: OutputHashes?
    private let background: BackgroundConsumer<OutputHashes>?
    private var sha256Raw: SHA256Hasher?
    private var finished: CheckResult?

    /// - Parameters:
    ///   - entry: What the file should hold.
    ///   - backend: The inflate library.
    ///   - checkSHA1: Also compute and compare the SHA-1 where a SHA-256 (gunzip) digest is
    ///     given too (ESXi 6.7's own check). Without a SHA-256 the SHA-1 is always checked.
    ///   - overlapHashing: Hash the decompressed bytes on a second thread while inflating
    ///     continues on this one (two cores: the SHA-1 and SHA-256 come almost free).
    ///   - maxOutput: Most bytes one payload may decompress to.
    public init(
      entry: Entry, backend: InflateBackend = .default, checkSHA1: Bool = true, overlapHashing: Bool = true,
      maxOutput: Int64? = 4 << 30
    ) {
      self.entry = entry
      self.checksSHA1 = entry.sha1Gunzip != nil && (checkSHA1 || entry.sha256Gunzip == nil)
      let gunzip =
        entry.verifiesByGunzip || entry.skip == .perHost
        || (entry.skip == nil && PayloadManifest.gzipTypes.contains(entry.payloadType ?? ""))
      decoder = gunzip ? GzipDecoder(backend: backend, maxOutput: maxOutput) : nil
      let hashes = OutputHashes(sha1: checksSHA1 ? SHA1Hasher() : nil)
      if gunzip && entry.verifiesByGunzip && overlapHashing {
        background = BackgroundConsumer(state: hashes) { hashes, bytes in
          hashes.sha256.update(bytes)
          hashes.sha1?.update(bytes)
        }
      } else {
        background = nil
        if entry.verifiesByGunzip { inline = hashes }
      }
      if entry.skip == nil, entry.sha256 != nil, !entry.verifiesByGunzip { sha256Raw = SHA256Hasher() }
    }

    deinit {
      // Release the hashing thread of a check abandoned before finish().
      if finished == nil { _ = background?.finish() }
    }

    /// The next bytes of the file.
    public func feed(_ bytes: Span<UInt8>) {
      guard finished == nil else { return }
      sha256Raw?.update(bytes)
      guard let decoder, gzipError == nil else { return }
      do {
        try decoder.feed(bytes) { chunk in
          if let background = self.background {
            background.send(chunk)
          } else if self.inline != nil {
            self.inline?.sha256.update(chunk)
            self.inline?.sha1?.update(chunk)
          }
        }
      } catch let error as GzipError {
        gzipError = error
      } catch {
        gzipError = GzipError(.corruptDeflate("\(error)"), member: 0, field: "deflate data", offset: 0)
      }
    }

    /// The next bytes of the file.
    public func feed(_ bytes: [UInt8]) {
      feed(bytes.span)
    }

    /// The verdict, once every byte of the file has been fed.
    public func finish() -> CheckResult {
      if let finished { return finished }
      var result = CheckResult(fileName: entry.fileName)
      let file = entry.fileName
      if let decoder, gzipError == nil {
        do {
          result.gzip = try decoder.finish()
        } catch let error as GzipError {
          gzipError = error
        } catch {}
      }
      if let gzipError {
        result.gzipError = gzipError
        result.findings.append(
          .error("payloadGzipInvalid", "\(file): \(gzipError)", offset: gzipError.offset, path: file))
      }
      let hashes = background?.finish() ?? inline
      if entry.verifiesByGunzip, gzipError == nil, let hashes {
        let sha256 = hexString(hashes.sha256.finalize())
        result.sha256Gunzip = sha256
        if let expected = entry.sha256Gunzip, expected != sha256 {
          result.findings.append(
            .error(
              "payloadDigestMismatch",
              "\(file): SHA-256 of the decompressed payload is \(sha256), the image database (VIB \(entry.vibID)) says \(expected)",
              path: file))
        }
        if let sha1Hasher = hashes.sha1 {
          let sha1 = hexString(sha1Hasher.finalize())
          result.sha1Gunzip = sha1
          if let expected = entry.sha1Gunzip, expected != sha1 {
            result.findings.append(
              .error(
                "payloadSHA1Mismatch",
                "\(file): SHA-1 of the decompressed payload is \(sha1), the image database (VIB \(entry.vibID)) says \(expected)",
                path: file))
          }
        }
      }
      if let raw = sha256Raw {
        let sha256 = hexString(raw.finalize())
        result.sha256 = sha256
        if let expected = entry.sha256, expected != sha256 {
          result.findings.append(
            .warning(
              "payloadShippedDigestDiffers",
              "\(file): SHA-256 is \(sha256), the image database (VIB \(entry.vibID)) says \(expected) for the payload as shipped",
              path: file))
        }
      }
      finished = result
      return result
    }
  }

  /// The verdict on one bank file.
  public struct CheckResult: Hashable, Sendable {
    public var fileName: String
    /// The gzip layer's summary, when the file was decompressed without error.
    public var gzip: GzipSummary?
    public var gzipError: GzipError?
    /// Digests computed (lower-case hex), where they were.
    public var sha256Gunzip: String?
    public var sha1Gunzip: String?
    public var sha256: String?
    /// Empty when the file is sound.
    public var findings: [Finding] = []

    public init(fileName: String) {
      self.fileName = fileName
    }
  }
}
