//! Why a package was refused.

use super::qti::QtiError;

/// Why an instrument package was refused. Every variant is a refusal of the
/// whole package: nothing of it is returned.
///
/// The text of every variant is the whole message, and no variant has an
/// [`std::error::Error::source`]: a wrapped error that is both shown in the
/// text and returned as the source is printed twice by every error-chain
/// printer (`anyhow`'s `{:#}`, kioskctl's `error:` line) — issue 18 saw
/// each refusal of `kioskctl instrument pack` twice.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// Reading or writing a file failed.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: String,
        /// The OS error (in the text, not a `source`).
        error: std::io::Error,
    },
    /// The bytes are not an instrument package.
    #[error("not an exam instrument package (wrong magic bytes)")]
    NotAPackage,
    /// A package of a format version this kiosk does not know.
    #[error("unsupported package format: {0}")]
    UnsupportedFormat(String),
    /// Something is larger than the limits allow (refused before allocating).
    #[error("{what} is too large: {size} bytes, the limit is {limit}")]
    TooLarge {
        /// What.
        what: &'static str,
        /// Its (declared) size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// One file is larger than a package may hold (checked before it is read).
    #[error("{path}: {size} bytes, larger than the limit of {limit} bytes for one file in a package")]
    FileTooLarge {
        /// The file (package path, or the path on disk when packing).
        path: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The container ends early or has bytes after its end.
    #[error("package is truncated or has trailing bytes: {0}")]
    Truncated(String),
    /// The signed header is malformed.
    #[error("malformed package header: {0}")]
    MalformedHeader(String),
    /// The approval key is not among the policy's trusted instrument keys.
    #[error("package approved with key {key_id}, which is not a trusted instrument key of this policy")]
    UntrustedKey {
        /// The key id in the header.
        key_id: String,
    },
    /// The approval signature does not verify.
    #[error("BAD SIGNATURE: the package header does not match its approval signature (changed after approval, or forged)")]
    BadSignature,
    /// The encrypted content does not match the signed header (changed or incomplete download).
    #[error("the encrypted content does not match the signed header: {0} (changed, or an incomplete download)")]
    ContentMismatch(String),
    /// Decryption failed: a wrong content key, or changed ciphertext.
    #[error("cannot decrypt the instrument: wrong content key, or the content was changed")]
    WrongKey,
    /// A content key is malformed.
    #[error("invalid content key: {0}")]
    BadKey(String),
    /// The decrypted payload is malformed.
    #[error("malformed package payload: {0}")]
    MalformedPayload(String),
    /// A file path in the package is not acceptable.
    #[error("refused path {path:?}: {reason}")]
    BadPath {
        /// The path as found.
        path: String,
        /// Why.
        reason: String,
    },
    /// A file does not match its hash in the signed manifest.
    #[error("file {path} does not match its hash in the signed manifest")]
    FileChanged {
        /// The file.
        path: String,
    },
    /// Packing input problems (empty directory, symbolic links, ...).
    #[error("cannot pack: {0}")]
    Pack(String),
    /// The system random generator failed.
    #[error("the system random number generator failed")]
    Random,
    /// The QTI content is not acceptable.
    #[error("QTI: {0}")]
    Qti(QtiError),
}

impl From<QtiError> for PackageError {
    fn from(error: QtiError) -> Self {
        PackageError::Qti(error)
    }
}

impl PackageError {
    /// An I/O error on `path`.
    pub fn io(path: &std::path::Path, error: std::io::Error) -> Self {
        PackageError::Io { path: path.display().to_string(), error }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    /// The whole chain as error-chain printers show it (`anyhow`'s `{:#}`).
    fn chain(e: &PackageError) -> String {
        let mut parts = vec![e.to_string()];
        let mut cause = e.source();
        while let Some(c) = cause {
            parts.push(c.to_string());
            cause = c.source();
        }
        parts.join(": ")
    }

    #[test]
    fn a_refusal_is_said_once_in_its_chain() {
        // Issue 18: every refusal of `instrument pack` was printed twice —
        // PackageError::Qti showed its QtiError in its text *and* returned it
        // as its source, so a chain printer printed it again.
        let qti = QtiError::Invalid { file: "items/a.xml".into(), line: 3, column: 5, message: "x".into() };
        let e = PackageError::from(qti.clone());
        assert!(e.source().is_none());
        assert_eq!(chain(&e).matches(&qti.to_string()).count(), 1, "{}", chain(&e));
        let io = PackageError::io(Path::new("pk/a.png"), std::io::Error::other("disk on fire"));
        assert!(io.source().is_none());
        assert_eq!(chain(&io), "pk/a.png: disk on fire");
    }

    use std::path::Path;
}
