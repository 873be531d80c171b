//! The `.exam` container: signed header, encrypted payload. The byte layout
//! is specified in `docs/instrument-package.md`; this file is its reference
//! implementation.

use super::keys::{ContentKey, InstrumentTrust, TrustedSigner};
use super::paths;
use super::grants::InstrumentTools;
use super::qti::{self, Instrument};
use super::PackageError;
use exam_policy::{SigningKey, Sha256Hex};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::digest::{digest, SHA256};
use ring::rand::{SecureRandom as _, SystemRandom};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::io::Read as _;
use std::ops::Range;
use std::path::Path;

pub use super::paths::MAX_PATH_BYTES;

/// First 8 bytes of every package.
pub const MAGIC: &[u8; 8] = b"EXAMPKG1";
/// First 8 bytes of every decrypted payload.
pub const PAYLOAD_MAGIC: &[u8; 8] = b"EXAMPAY1";
/// The `format` field of the header.
pub const FORMAT_VERSION: u32 = 1;
/// The `cipher` field of the header.
pub const CIPHER: &str = "AES-256-GCM";
/// Domain separator of the approval signature.
pub const HEADER_SIGN_DOMAIN: &[u8] = b"exam-kiosk/instrument-header/v1\0";
/// Domain separator of the AEAD associated data.
pub const PAYLOAD_AAD_DOMAIN: &[u8] = b"exam-kiosk/instrument-payload/v1\0";
/// Largest accepted signed header.
pub const MAX_HEADER_BYTES: u64 = 64 * 1024;
/// Largest accepted package file (and so payload).
pub const MAX_PACKAGE_BYTES: u64 = 512 * 1024 * 1024;
/// Largest accepted single file inside a package.
pub const MAX_FILE_BYTES: u64 = 128 * 1024 * 1024;
/// Most files in one package.
pub const MAX_FILES: usize = 10_000;
/// Largest accepted file manifest (inside the payload).
pub const MAX_MANIFEST_BYTES: u64 = 4 * 1024 * 1024;
const SIGNATURE_LEN: usize = 64;
const TAG_LEN: usize = 16;
const PREFIX_LEN: usize = 12; // magic + u32 length

/// The signed header: readable without the content key, so a kiosk can check
/// approval and completeness of a download before the start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageHeader {
    /// Always [`FORMAT_VERSION`].
    pub format: u32,
    /// The instrument's id (as the hub's planning refers to it).
    pub instrument_id: String,
    /// Title for people.
    pub title: String,
    /// The approved version, e.g. `2025.1`.
    pub version: String,
    /// When it was packed, unix ms.
    pub created_ms: i64,
    /// SHA-256 of the approval key's raw public key, hex.
    pub approval_key_id: String,
    /// Always [`CIPHER`].
    pub cipher: String,
    /// AES-GCM nonce, 24 hex digits.
    pub nonce: String,
    /// SHA-256 of the file manifest (JSON bytes inside the payload), hex.
    pub manifest_sha256: String,
    /// Number of files.
    pub file_count: u64,
    /// Sum of the file sizes.
    pub content_bytes: u64,
    /// Size of the plaintext payload.
    pub payload_bytes: u64,
    /// Size of the ciphertext (payload + 16-byte tag).
    pub ciphertext_bytes: u64,
    /// SHA-256 of the ciphertext, hex.
    pub ciphertext_sha256: String,
    /// What the instrument allows everyone (read-aloud, spell-check) and
    /// where the spell-check is off (issue 19); left out when nothing is
    /// set, so older packages read as before.
    #[serde(default, skip_serializing_if = "InstrumentTools::is_empty")]
    pub tools: InstrumentTools,
}

impl PackageHeader {
    fn check(&self) -> Result<(), PackageError> {
        let bad = |m: &str| Err(PackageError::MalformedHeader(m.into()));
        if self.format != FORMAT_VERSION {
            return Err(PackageError::UnsupportedFormat(format!("header format {}", self.format)));
        }
        if self.cipher != CIPHER {
            return Err(PackageError::UnsupportedFormat(format!("cipher {:?}", self.cipher)));
        }
        if self.instrument_id.is_empty() || self.instrument_id.len() > 128 || self.instrument_id.chars().any(char::is_control) {
            return bad("instrument_id must be 1..128 characters without control characters");
        }
        if self.title.len() > 1024 || self.version.len() > 128 {
            return bad("title or version too long");
        }
        for (name, value, len) in [
            ("approval_key_id", &self.approval_key_id, 64),
            ("manifest_sha256", &self.manifest_sha256, 64),
            ("ciphertext_sha256", &self.ciphertext_sha256, 64),
            ("nonce", &self.nonce, 24),
        ] {
            if value.len() != len || !value.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
                return Err(PackageError::MalformedHeader(format!("{name} must be {len} lower-case hex digits")));
            }
        }
        if self.ciphertext_bytes != self.payload_bytes + TAG_LEN as u64 {
            return bad("ciphertext_bytes is not payload_bytes + 16");
        }
        if self.file_count == 0 || self.file_count > MAX_FILES as u64 {
            return bad("file_count out of range");
        }
        if self.payload_bytes > MAX_PACKAGE_BYTES {
            return Err(PackageError::TooLarge { what: "declared payload", size: self.payload_bytes, limit: MAX_PACKAGE_BYTES });
        }
        if self.content_bytes > self.payload_bytes {
            return bad("content_bytes exceeds payload_bytes");
        }
        self.tools.check().map_err(PackageError::MalformedHeader)
    }

    fn nonce(&self) -> [u8; NONCE_LEN] {
        let mut n = [0u8; NONCE_LEN];
        // `check` guaranteed 24 hex digits.
        if let Ok(bytes) = hex::decode(&self.nonce) {
            n.copy_from_slice(&bytes[..NONCE_LEN.min(bytes.len())]);
        }
        n
    }
}

fn signed_message(header_bytes: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(HEADER_SIGN_DOMAIN.len() + 4 + header_bytes.len());
    m.extend_from_slice(HEADER_SIGN_DOMAIN);
    m.extend_from_slice(&(header_bytes.len() as u32).to_be_bytes());
    m.extend_from_slice(header_bytes);
    m
}

fn payload_aad(instrument_id: &str, manifest_sha256: &[u8; 32]) -> Vec<u8> {
    let mut m = PAYLOAD_AAD_DOMAIN.to_vec();
    m.extend_from_slice(&(instrument_id.len() as u32).to_be_bytes());
    m.extend_from_slice(instrument_id.as_bytes());
    m.extend_from_slice(manifest_sha256);
    m
}

fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, data).as_ref());
    out
}

fn hex32(text: &str) -> Result<[u8; 32], PackageError> {
    let bytes = hex::decode(text).map_err(|_| PackageError::MalformedHeader("hash is not hex".into()))?;
    bytes.try_into().map_err(|_| PackageError::MalformedHeader("hash is not 32 bytes".into()))
}

/// A package as read from disk or the network: structure checked, nothing
/// verified or decrypted yet.
#[derive(Debug, Clone)]
pub struct SealedPackage {
    bytes: Vec<u8>,
    header: PackageHeader,
    header_range: Range<usize>,
    signature: [u8; SIGNATURE_LEN],
    ciphertext_start: usize,
}

impl SealedPackage {
    /// Reads a package file; its size is checked before it is read.
    pub fn read(path: &Path) -> Result<Self, PackageError> {
        let file = std::fs::File::open(path).map_err(|e| PackageError::io(path, e))?;
        let len = file.metadata().map_err(|e| PackageError::io(path, e))?.len();
        if len > MAX_PACKAGE_BYTES + MAX_HEADER_BYTES + 1024 {
            return Err(PackageError::TooLarge { what: "package file", size: len, limit: MAX_PACKAGE_BYTES });
        }
        let mut bytes = Vec::with_capacity(len as usize);
        file.take(len + 1).read_to_end(&mut bytes).map_err(|e| PackageError::io(path, e))?;
        Self::parse(bytes)
    }

    /// Parses package bytes: magic, header (bounded), signature, and that the
    /// ciphertext has exactly the length the header declares.
    pub fn parse(bytes: Vec<u8>) -> Result<Self, PackageError> {
        if bytes.len() < PREFIX_LEN || &bytes[..8] != MAGIC {
            if bytes.len() >= 7 && &bytes[..7] == b"EXAMPKG" {
                return Err(PackageError::UnsupportedFormat(format!("container version byte {:?}", bytes.get(7).map(|b| *b as char))));
            }
            return Err(PackageError::NotAPackage);
        }
        let header_len = u32::from_be_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as u64;
        if header_len == 0 || header_len > MAX_HEADER_BYTES {
            return Err(PackageError::TooLarge { what: "package header", size: header_len, limit: MAX_HEADER_BYTES });
        }
        let header_end = PREFIX_LEN + header_len as usize;
        let sig_end = header_end + SIGNATURE_LEN;
        if bytes.len() < sig_end {
            return Err(PackageError::Truncated("the file ends inside the header or signature".into()));
        }
        let header: PackageHeader = serde_json::from_slice(&bytes[PREFIX_LEN..header_end])
            .map_err(|e| PackageError::MalformedHeader(e.to_string()))?;
        header.check()?;
        let mut signature = [0u8; SIGNATURE_LEN];
        signature.copy_from_slice(&bytes[header_end..sig_end]);
        let actual = (bytes.len() - sig_end) as u64;
        if actual != header.ciphertext_bytes {
            return Err(PackageError::Truncated(format!(
                "the header declares {} bytes of ciphertext, the file has {actual}",
                header.ciphertext_bytes
            )));
        }
        Ok(SealedPackage { bytes, header, header_range: PREFIX_LEN..header_end, signature, ciphertext_start: sig_end })
    }

    /// The signed header (not yet verified!).
    pub fn header(&self) -> &PackageHeader {
        &self.header
    }

    /// SHA-256 of the whole package file, hex (what the hub's assignment names).
    pub fn file_sha256(&self) -> String {
        hex::encode(sha256(&self.bytes))
    }

    /// The package bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Checks the approval signature against the trusted keys and that the
    /// ciphertext is complete and unchanged. Needs no content key.
    pub fn verify(self, trust: &InstrumentTrust) -> Result<VerifiedPackage, PackageError> {
        let key_id: Sha256Hex = self
            .header
            .approval_key_id
            .parse()
            .map_err(|e: String| PackageError::MalformedHeader(e))?;
        let signer = trust
            .find(&key_id)
            .ok_or_else(|| PackageError::UntrustedKey { key_id: self.header.approval_key_id.clone() })?
            .clone();
        let msg = signed_message(&self.bytes[self.header_range.clone()]);
        if !exam_policy::verify_signature(&signer.public_key, &msg, &self.signature) {
            return Err(PackageError::BadSignature);
        }
        let ciphertext = &self.bytes[self.ciphertext_start..];
        if hex::encode(sha256(ciphertext)) != self.header.ciphertext_sha256 {
            return Err(PackageError::ContentMismatch("SHA-256 of the ciphertext differs".into()));
        }
        Ok(VerifiedPackage { sealed: self, signer })
    }
}

/// A package whose approval signature and ciphertext hash verified.
#[derive(Debug, Clone)]
pub struct VerifiedPackage {
    sealed: SealedPackage,
    signer: TrustedSigner,
}

/// One entry of the file manifest inside the payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestEntry {
    path: String,
    size: u64,
    sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileManifest {
    files: Vec<ManifestEntry>,
}

impl VerifiedPackage {
    /// The verified header.
    pub fn header(&self) -> &PackageHeader {
        &self.sealed.header
    }

    /// Who approved it.
    pub fn signer(&self) -> &TrustedSigner {
        &self.signer
    }

    /// SHA-256 of the whole package file, hex.
    pub fn file_sha256(&self) -> String {
        self.sealed.file_sha256()
    }

    /// Decrypts with the content key and checks every file against the
    /// signed manifest. All or nothing.
    pub fn decrypt(self, key: &ContentKey) -> Result<PackageContents, PackageError> {
        let header = self.sealed.header;
        let manifest_hash = hex32(&header.manifest_sha256)?;
        let mut buf = self.sealed.bytes;
        buf.drain(..self.sealed.ciphertext_start);
        let unbound = UnboundKey::new(&AES_256_GCM, key.as_bytes()).map_err(|_| PackageError::WrongKey)?;
        let aead = LessSafeKey::new(unbound);
        let aad = payload_aad(&header.instrument_id, &manifest_hash);
        let plain_len = aead
            .open_in_place(Nonce::assume_unique_for_key(header.nonce()), Aad::from(aad), &mut buf)
            .map_err(|_| PackageError::WrongKey)?
            .len();
        buf.truncate(plain_len);
        let files = parse_payload(&buf, &header, &manifest_hash)?;
        Ok(PackageContents { header, signer: self.signer, payload: buf, files })
    }
}

/// Parses and checks a decrypted payload; returns path -> byte range.
fn parse_payload(buf: &[u8], header: &PackageHeader, manifest_hash: &[u8; 32]) -> Result<BTreeMap<String, Range<usize>>, PackageError> {
    let bad = |m: String| PackageError::MalformedPayload(m);
    if buf.len() as u64 != header.payload_bytes {
        return Err(bad(format!("{} bytes, the header says {}", buf.len(), header.payload_bytes)));
    }
    if buf.len() < PREFIX_LEN || &buf[..8] != PAYLOAD_MAGIC {
        return Err(bad("wrong payload magic".into()));
    }
    let manifest_len = u32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]]) as u64;
    if manifest_len > MAX_MANIFEST_BYTES {
        return Err(PackageError::TooLarge { what: "file manifest", size: manifest_len, limit: MAX_MANIFEST_BYTES });
    }
    let manifest_end = PREFIX_LEN as u64 + manifest_len;
    if manifest_end > buf.len() as u64 {
        return Err(bad("the manifest runs past the end of the payload".into()));
    }
    let manifest_bytes = &buf[PREFIX_LEN..manifest_end as usize];
    if sha256(manifest_bytes) != *manifest_hash {
        return Err(PackageError::ContentMismatch("SHA-256 of the file manifest differs".into()));
    }
    let manifest: FileManifest = serde_json::from_slice(manifest_bytes).map_err(|e| bad(format!("file manifest: {e}")))?;
    if manifest.files.len() as u64 != header.file_count {
        return Err(bad(format!("{} files, the header says {}", manifest.files.len(), header.file_count)));
    }
    let mut offset = manifest_end;
    let mut seen = HashSet::new();
    let mut files = BTreeMap::new();
    let mut content = 0u64;
    for entry in &manifest.files {
        paths::validate(&entry.path).map_err(|reason| PackageError::BadPath { path: entry.path.clone(), reason })?;
        if !seen.insert(paths::collision_key(&entry.path)) {
            return Err(PackageError::BadPath { path: entry.path.clone(), reason: "listed twice (ignoring case)".into() });
        }
        if entry.size > MAX_FILE_BYTES {
            return Err(PackageError::FileTooLarge { path: entry.path.clone(), size: entry.size, limit: MAX_FILE_BYTES });
        }
        let end = offset.checked_add(entry.size).filter(|e| *e <= buf.len() as u64).ok_or_else(|| {
            bad(format!("file {} runs past the end of the payload", entry.path))
        })?;
        let range = offset as usize..end as usize;
        if hex::encode(sha256(&buf[range.clone()])) != entry.sha256 {
            return Err(PackageError::FileChanged { path: entry.path.clone() });
        }
        content += entry.size;
        files.insert(entry.path.clone(), range);
        offset = end;
    }
    if offset != buf.len() as u64 {
        return Err(bad(format!("{} bytes after the last file", buf.len() as u64 - offset)));
    }
    if content != header.content_bytes {
        return Err(bad(format!("files hold {content} bytes, the header says {}", header.content_bytes)));
    }
    // Prefix collisions: `a` as a file and `a/b` as a file cannot both exist on a disk.
    for path in files.keys() {
        let mut prefix = String::new();
        for component in path.split('/').take(path.split('/').count() - 1) {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(component);
            if seen.contains(&paths::collision_key(&prefix)) {
                return Err(PackageError::BadPath { path: path.clone(), reason: format!("{prefix} is both a file and a directory") });
            }
        }
    }
    Ok(files)
}

/// A decrypted, verified package: every file matched the signed manifest.
#[derive(Debug, Clone)]
pub struct PackageContents {
    header: PackageHeader,
    signer: TrustedSigner,
    payload: Vec<u8>,
    files: BTreeMap<String, Range<usize>>,
}

impl PackageContents {
    /// The verified header.
    pub fn header(&self) -> &PackageHeader {
        &self.header
    }

    /// Who approved it.
    pub fn signer(&self) -> &TrustedSigner {
        &self.signer
    }

    /// A file's bytes (for media served to the web view).
    pub fn file(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(|r| &self.payload[r.clone()])
    }

    /// A file's bytes with its media type, for the web view's
    /// `exammedia:` handler (`exammedia://localhost/media/schap.png`).
    pub fn media(&self, path: &str) -> Option<(&[u8], &'static str)> {
        self.file(path).map(|bytes| (bytes, media_type(path)))
    }

    /// All paths, sorted.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    /// Imports the QTI 3.0 content package, with what the signed header
    /// grants ([`PackageHeader::tools`]) in the test.
    pub fn import(&self) -> Result<Instrument, PackageError> {
        let mut instrument = qti::import(&|p: &str| self.file(p))?;
        with_tools(&mut instrument, &self.header.tools, PackageError::MalformedHeader)?;
        Ok(instrument)
    }
}

/// What to pack.
#[derive(Debug, Clone, Default)]
pub struct PackInput {
    /// Instrument id.
    pub instrument_id: String,
    /// Title.
    pub title: String,
    /// Approved version.
    pub version: String,
    /// Files (package path, bytes).
    pub files: Vec<(String, Vec<u8>)>,
    /// What the instrument allows everyone (into the signed header).
    pub tools: InstrumentTools,
}

impl PackInput {
    /// Reads every regular file under `dir` (sorted); refuses symbolic links
    /// and other special files, and paths that would not be accepted.
    pub fn from_dir(dir: &Path) -> Result<Vec<(String, Vec<u8>)>, PackageError> {
        let mut files = Vec::new();
        let mut total = 0u64;
        walk(dir, "", &mut files, &mut total)?;
        if files.is_empty() {
            return Err(PackageError::Pack(format!("{} holds no files", dir.display())));
        }
        files.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(files)
    }
}

fn walk(dir: &Path, prefix: &str, out: &mut Vec<(String, Vec<u8>)>, total: &mut u64) -> Result<(), PackageError> {
    let entries = std::fs::read_dir(dir).map_err(|e| PackageError::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| PackageError::io(dir, e))?;
        let path = entry.path();
        let name = entry
            .file_name()
            .into_string()
            .map_err(|n| PackageError::Pack(format!("{}: file name {n:?} is not UTF-8", dir.display())))?;
        let rel = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
        let kind = entry.file_type().map_err(|e| PackageError::io(&path, e))?;
        if kind.is_symlink() {
            return Err(PackageError::Pack(format!("{}: symbolic links are not packed", path.display())));
        } else if kind.is_dir() {
            walk(&path, &rel, out, total)?;
        } else if kind.is_file() {
            paths::validate(&rel).map_err(|reason| PackageError::BadPath { path: rel.clone(), reason })?;
            let bytes = read_file(&path, total)?;
            *total += bytes.len() as u64;
            out.push((rel, bytes));
        } else {
            return Err(PackageError::Pack(format!("{}: not a regular file", path.display())));
        }
    }
    Ok(())
}

/// Reads one file to pack. Its size is checked before it is read (issue 18:
/// a 1 GiB file was read whole — 1.06 GB resident — before the size check),
/// and the read stops one byte past the limit, in case the file grows or its
/// size was not what the file system said.
fn read_file(path: &Path, total: &u64) -> Result<Vec<u8>, PackageError> {
    let file = std::fs::File::open(path).map_err(|e| PackageError::io(path, e))?;
    let size = file.metadata().map_err(|e| PackageError::io(path, e))?.len();
    let name = path.display().to_string();
    if size > MAX_FILE_BYTES {
        return Err(PackageError::FileTooLarge { path: name, size, limit: MAX_FILE_BYTES });
    }
    if total + size > MAX_PACKAGE_BYTES {
        return Err(PackageError::TooLarge { what: "package content", size: total + size, limit: MAX_PACKAGE_BYTES });
    }
    read_capped(file, size, &name, MAX_FILE_BYTES.min(MAX_PACKAGE_BYTES - total))
}

/// Reads at most `limit` bytes from `reader` (`expected`: the size to reserve
/// room for); more is refused after reading `limit + 1` bytes, never all.
fn read_capped(reader: impl std::io::Read, expected: u64, name: &str, limit: u64) -> Result<Vec<u8>, PackageError> {
    let mut bytes = Vec::with_capacity(expected.min(limit) as usize);
    reader
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| PackageError::Io { path: name.to_string(), error })?;
    if bytes.len() as u64 > limit {
        return Err(PackageError::FileTooLarge { path: name.to_string(), size: bytes.len() as u64, limit });
    }
    Ok(bytes)
}

/// Builds a plaintext payload from files; returns the payload and the
/// SHA-256 of its manifest. Paths are validated.
pub fn build_payload(files: &[(String, Vec<u8>)]) -> Result<(Vec<u8>, [u8; 32]), PackageError> {
    if files.is_empty() || files.len() > MAX_FILES {
        return Err(PackageError::Pack(format!("{} files; 1..={MAX_FILES} allowed", files.len())));
    }
    let mut seen = HashSet::new();
    let mut entries = Vec::with_capacity(files.len());
    for (path, bytes) in files {
        paths::validate(path).map_err(|reason| PackageError::BadPath { path: path.clone(), reason })?;
        if !seen.insert(paths::collision_key(path)) {
            return Err(PackageError::BadPath { path: path.clone(), reason: "listed twice (ignoring case)".into() });
        }
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(PackageError::FileTooLarge { path: path.clone(), size: bytes.len() as u64, limit: MAX_FILE_BYTES });
        }
        entries.push(ManifestEntry { path: path.clone(), size: bytes.len() as u64, sha256: hex::encode(sha256(bytes)) });
    }
    let manifest = serde_json::to_vec(&FileManifest { files: entries }).map_err(|e| PackageError::Pack(e.to_string()))?;
    let total: usize = files.iter().map(|(_, b)| b.len()).sum();
    let mut payload = Vec::with_capacity(PREFIX_LEN + manifest.len() + total + TAG_LEN);
    payload.extend_from_slice(PAYLOAD_MAGIC);
    payload.extend_from_slice(&(manifest.len() as u32).to_be_bytes());
    payload.extend_from_slice(&manifest);
    for (_, bytes) in files {
        payload.extend_from_slice(bytes);
    }
    Ok((payload, sha256(&manifest)))
}

/// Low level: encrypts and signs an already built payload. The kiosk
/// validates every payload in full on decryption, so this is also how tests
/// build hostile (but signed) packages. Use [`pack`] normally.
#[allow(clippy::too_many_arguments)]
pub fn seal_payload(
    instrument_id: &str,
    title: &str,
    version: &str,
    created_ms: i64,
    payload: Vec<u8>,
    manifest_sha256: [u8; 32],
    file_count: u64,
    content_bytes: u64,
    signing_key: &SigningKey,
    content_key: &ContentKey,
) -> Result<Vec<u8>, PackageError> {
    let contents = Sealing { file_count, content_bytes, tools: InstrumentTools::default() };
    seal(instrument_id, title, version, created_ms, payload, manifest_sha256, contents, signing_key, content_key)
}

/// What the header says about the payload besides its identity.
struct Sealing {
    file_count: u64,
    content_bytes: u64,
    tools: InstrumentTools,
}

#[allow(clippy::too_many_arguments)]
fn seal(
    instrument_id: &str,
    title: &str,
    version: &str,
    created_ms: i64,
    mut payload: Vec<u8>,
    manifest_sha256: [u8; 32],
    Sealing { file_count, content_bytes, tools }: Sealing,
    signing_key: &SigningKey,
    content_key: &ContentKey,
) -> Result<Vec<u8>, PackageError> {
    tools.check().map_err(PackageError::Pack)?;
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new().fill(&mut nonce).map_err(|_| PackageError::Random)?;
    let payload_bytes = payload.len() as u64;
    let unbound = UnboundKey::new(&AES_256_GCM, content_key.as_bytes()).map_err(|_| PackageError::Random)?;
    LessSafeKey::new(unbound)
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(payload_aad(instrument_id, &manifest_sha256)),
            &mut payload,
        )
        .map_err(|_| PackageError::Pack("encryption failed".into()))?;
    let header = PackageHeader {
        format: FORMAT_VERSION,
        instrument_id: instrument_id.to_string(),
        title: title.to_string(),
        version: version.to_string(),
        created_ms,
        approval_key_id: signing_key.public_key().key_id().to_string(),
        cipher: CIPHER.to_string(),
        nonce: hex::encode(nonce),
        manifest_sha256: hex::encode(manifest_sha256),
        file_count,
        content_bytes,
        payload_bytes,
        ciphertext_bytes: payload.len() as u64,
        ciphertext_sha256: hex::encode(sha256(&payload)),
        tools,
    };
    let header_bytes = serde_json::to_vec(&header).map_err(|e| PackageError::Pack(e.to_string()))?;
    if header_bytes.len() as u64 > MAX_HEADER_BYTES {
        return Err(PackageError::TooLarge { what: "package header", size: header_bytes.len() as u64, limit: MAX_HEADER_BYTES });
    }
    let signature = signing_key.sign(&signed_message(&header_bytes));
    let mut out = Vec::with_capacity(PREFIX_LEN + header_bytes.len() + SIGNATURE_LEN + payload.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(header_bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(&header_bytes);
    out.extend_from_slice(&signature);
    out.extend_from_slice(&payload);
    Ok(out)
}

/// Packs files into a signed, encrypted package. The QTI content is imported
/// first: nobody approves a package the kiosk would refuse. Returns the
/// package bytes and the imported instrument (for reports).
pub fn pack(input: &PackInput, signing_key: &SigningKey, content_key: &ContentKey) -> Result<(Vec<u8>, Instrument), PackageError> {
    let by_path: BTreeMap<&str, &[u8]> = input.files.iter().map(|(p, b)| (p.as_str(), b.as_slice())).collect();
    let mut instrument = qti::import(&|p: &str| by_path.get(p).copied())?;
    with_tools(&mut instrument, &input.tools, PackageError::Pack)?;
    let bytes = seal_files(input, &instrument.test.identifier, &instrument.test.title, signing_key, content_key)?;
    Ok((bytes, instrument))
}

/// Packs the QTI 3.0 content in `dir` (plus `extra` files, e.g. filler for
/// a package of a given size) as instrument `id`, signed with the approval
/// key in `signing_key_file`, under a new content key — what `kioskctl
/// instrument pack` does, for tests, demos and benchmarks that need a real
/// package (the hub checks every package at import).
pub fn pack_dir(
    dir: &Path,
    id: &str,
    signing_key_file: &Path,
    extra: Vec<(String, Vec<u8>)>,
) -> Result<(Vec<u8>, ContentKey), PackageError> {
    let signing_key = SigningKey::load(signing_key_file).map_err(|e| PackageError::Pack(format!("{}: {e}", signing_key_file.display())))?;
    let mut files = PackInput::from_dir(dir)?;
    files.extend(extra);
    let input = PackInput { instrument_id: id.to_owned(), title: String::new(), version: "1".into(), files, ..Default::default() };
    let content_key = ContentKey::generate()?;
    let (bytes, _) = pack(&input, &signing_key, &content_key)?;
    Ok((bytes, content_key))
}

/// Builds, encrypts and signs the payload of `input`'s files, now; the id and
/// title default to `default_id` and `default_title` when `input` has none.
pub fn seal_files(
    input: &PackInput,
    default_id: &str,
    default_title: &str,
    signing_key: &SigningKey,
    content_key: &ContentKey,
) -> Result<Vec<u8>, PackageError> {
    let (payload, manifest_hash) = build_payload(&input.files)?;
    let content: u64 = input.files.iter().map(|(_, b)| b.len() as u64).sum();
    let id = if input.instrument_id.is_empty() { default_id } else { &input.instrument_id };
    let title = if input.title.is_empty() { default_title } else { &input.title };
    let created_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let contents = Sealing { file_count: input.files.len() as u64, content_bytes: content, tools: input.tools.clone() };
    seal(id, title, &input.version, created_ms, payload, manifest_hash, contents, signing_key, content_key)
}

/// Puts what the instrument grants into its test, once every item the
/// spell-check is switched off on is known to be one of the test's.
fn with_tools(instrument: &mut Instrument, tools: &InstrumentTools, error: fn(String) -> PackageError) -> Result<(), PackageError> {
    let refs: Vec<String> = instrument.items().into_iter().map(|i| i.ref_identifier.clone()).collect();
    tools.check_items(refs.iter().map(String::as_str)).map_err(error)?;
    instrument.test.tools = tools.clone();
    Ok(())
}

/// The media type the kiosk serves a package file with (by extension).
pub fn media_type(path: &str) -> &'static str {
    match path.rsplit('.').next().map(str::to_ascii_lowercase).as_deref() {
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("svg") => "image/svg+xml",
        Some("webp") => "image/webp",
        Some("mp3") => "audio/mpeg",
        Some("m4a") => "audio/mp4",
        Some("ogg" | "oga") => "audio/ogg",
        Some("wav") => "audio/wav",
        Some("flac") => "audio/flac",
        Some("mp4" | "m4v") => "video/mp4",
        Some("ogv") => "video/ogg",
        Some("webm") => "video/webm",
        Some("vtt") => "text/vtt",
        Some("css") => "text/css",
        Some("xml") => "application/xml",
        // Reference material (naslag): the kiosk shows it with pdf.js.
        Some("pdf") => "application/pdf",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::io::Read;

    /// An endless stream of zeros that counts what was read from it.
    struct Counting<'c>(&'c Cell<u64>);

    impl Read for Counting<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            buf.fill(0);
            self.0.set(self.0.get() + buf.len() as u64);
            Ok(buf.len())
        }
    }

    #[test]
    fn a_file_larger_than_the_limit_is_never_read_whole() {
        // The read stops one byte past the limit (plus whatever one read()
        // call of the standard library asks for), not at the end of the file.
        let read = Cell::new(0);
        let limit = 1 << 20;
        let err = read_capped(Counting(&read), 0, "pk/endless.png", limit).unwrap_err();
        assert!(matches!(&err, PackageError::FileTooLarge { path, .. } if path == "pk/endless.png"), "{err}");
        assert!(err.to_string().starts_with("pk/endless.png: "), "{err}");
        assert!(read.get() <= limit + 1 + 64 * 1024, "read {} bytes for a limit of {limit}", read.get());
        // At the limit: accepted, every byte.
        let ok = read_capped(std::io::repeat(7).take(limit), limit, "a", limit).unwrap();
        assert_eq!(ok.len() as u64, limit);
    }

    #[test]
    fn sizes_are_checked_before_reading_and_name_the_file() {
        // Issue 18: a 1 GiB file was read whole (1.06 GB resident) before the
        // size check, and a 200 MB image was refused without its name. Sparse
        // files: nothing is written to disk, and reading them would take
        // seconds and a GiB of memory.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("imsmanifest.xml"), "<manifest/>").unwrap();
        std::fs::create_dir(dir.path().join("img")).unwrap();
        for (name, size) in [("big.png", 200_000_000u64), ("huge.png", 1 << 30)] {
            let file = dir.path().join("img").join(name);
            std::fs::File::create(&file).unwrap().set_len(size).unwrap();
            let started = std::time::Instant::now();
            let err = PackInput::from_dir(dir.path()).unwrap_err();
            assert!(
                matches!(&err, PackageError::FileTooLarge { path, size: s, limit } if path.ends_with(name) && *s == size && *limit == MAX_FILE_BYTES),
                "{err}"
            );
            assert!(err.to_string().contains(&file.display().to_string()), "{err}");
            // Generous: reading 200 MB from the page cache would still be fast,
            // the counting test above is the real check; this one catches a
            // read of the whole GiB on a slow machine.
            assert!(started.elapsed() < std::time::Duration::from_secs(20));
            std::fs::remove_file(&file).unwrap();
        }
    }
}
