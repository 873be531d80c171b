//! The hub's keys and certificates: the school CA, the hub's TLS
//! certificate, the device CA that issues kiosk client certificates, the hub
//! signing key (Ed25519) and the secret that keys access-code and token HMACs.
//!
//! All X.509 work is done by `rcgen` on `ring`; TLS by `rustls` on `ring`,
//! TLS 1.3 only.
//!
//! Secrets the database must hold but a copy of it must not reveal (content
//! keys, room-code secrets) are wrapped with the [`WrapKey`] (AES-256-GCM,
//! `ring::aead`), kept in its own file outside the data directory
//! (`wrap-key-file` in hub.toml, default [`default_wrap_key_path`]).

use rcgen::{
    BasicConstraints, CertificateParams, CertificateSigningRequestParams, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, SerialNumber,
};
use ring::rand::{SecureRandom as _, SystemRandom};
use ring::signature::{Ed25519KeyPair, KeyPair as _};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

pub use crate::config::files;


/// Validity of the CAs.
const CA_VALIDITY_DAYS: i64 = 10 * 365;
/// Validity of the hub's TLS certificate.
const HUB_CERT_VALIDITY_DAYS: i64 = 2 * 365;
/// Validity of a kiosk client certificate.
pub const DEVICE_CERT_VALIDITY_DAYS: i64 = 400;

/// Errors while creating or loading keys.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Certificate generation or parsing failed.
    #[error("certificate: {0}")]
    Cert(#[from] rcgen::Error),
    /// TLS configuration failed.
    #[error("TLS: {0}")]
    Tls(String),
    /// A key or certificate file holds something unusable.
    #[error("{file}: {reason}")]
    Invalid {
        /// The file name.
        file: String,
        /// What is wrong.
        reason: String,
    },
    /// The data directory already holds a hub.
    #[error("{0} already holds a hub (found {1}); refusing to overwrite")]
    AlreadyInitialised(PathBuf, &'static str),
    /// The wrap key is missing, damaged, or does not open a stored secret.
    #[error("hub wrap key {path}: {reason}")]
    WrapKey {
        /// The key file.
        path: PathBuf,
        /// What is wrong and what to do.
        reason: String,
    },
}

fn read(dir: &Path, name: &str) -> Result<String, PkiError> {
    let path = dir.join(name);
    std::fs::read_to_string(&path).map_err(|source| PkiError::Io { path, source })
}

/// Writes a new file, atomically and durably, refusing to overwrite one
/// (`exam_secure::FileWrite`); private files get mode 0600.
pub fn write_file(path: &Path, bytes: &[u8], private: bool) -> Result<(), PkiError> {
    let how = if private { exam_secure::FileWrite::PRIVATE } else { exam_secure::FileWrite::PUBLIC };
    how.create_new().write(path, bytes).map_err(|source| PkiError::Io { path: path.to_owned(), source })
}

/// Makes `dir` (created when missing) readable by its owner only: 0700.
pub fn private_dir(dir: &Path) -> Result<(), PkiError> {
    let io = |source| PkiError::Io { path: dir.to_owned(), source };
    std::fs::create_dir_all(dir).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
    }
    Ok(())
}

/// Makes an existing file readable by its owner only (0600); a missing one is fine.
pub fn private_file(path: &Path) -> Result<(), PkiError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        match std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(PkiError::Io { path: path.to_owned(), source: e }),
            _ => {}
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

pub use crate::config::default_wrap_key_path;

/// Prefix of a wrapped value in the database (`wrap1:` + base64 of nonce and sealed bytes).
pub const WRAPPED_PREFIX: &str = "wrap1:";

/// The key that wraps secrets stored in the database. AES-256-GCM with a
/// random nonce per value; the associated data names the column and row, so
/// a wrapped value cannot be moved to another row.
pub struct WrapKey {
    key: ring::aead::LessSafeKey,
    /// The file it was read from.
    pub path: PathBuf,
}

impl std::fmt::Debug for WrapKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WrapKey").field("path", &self.path).finish_non_exhaustive()
    }
}

impl WrapKey {
    /// Creates a new key file at `path` (0600), in its own directory (0700)
    /// when that does not exist yet — an existing directory (a configured
    /// `/etc/exam-hub`, say) keeps its mode; refuses to overwrite a key.
    pub fn create(path: &Path) -> Result<Self, PkiError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
            private_dir(dir)?;
        }
        let mut secret = [0u8; 32];
        SystemRandom::new().fill(&mut secret).map_err(|_| PkiError::Tls("the system random number generator failed".into()))?;
        write_file(path, hex::encode(secret).as_bytes(), true)?;
        Self::load(path)
    }

    /// Reads the key file (64 hex digits), made 0600 first (a key restored
    /// from its backup with a looser mode is not left readable to others).
    pub fn load(path: &Path) -> Result<Self, PkiError> {
        private_file(path)?;
        let text = std::fs::read_to_string(path).map_err(|source| PkiError::Io { path: path.to_owned(), source })?;
        let bytes = hex::decode(text.trim())
            .ok()
            .filter(|b| b.len() == 32)
            .ok_or_else(|| PkiError::WrapKey { path: path.to_owned(), reason: "expected 64 hex digits".into() })?;
        let key = ring::aead::UnboundKey::new(&ring::aead::AES_256_GCM, &bytes)
            .map_err(|_| PkiError::WrapKey { path: path.to_owned(), reason: "unusable key".into() })?;
        Ok(Self { key: ring::aead::LessSafeKey::new(key), path: path.to_owned() })
    }

    /// True when `stored` is a wrapped value (not legacy plaintext).
    pub fn is_wrapped(stored: &str) -> bool {
        stored.starts_with(WRAPPED_PREFIX)
    }

    /// Wraps `secret` for the row named by `context` (e.g. `instruments.content_key/ID`).
    pub fn wrap(&self, context: &str, secret: &[u8]) -> String {
        let mut nonce = [0u8; ring::aead::NONCE_LEN];
        // SystemRandom fails only when the OS has no randomness at all.
        let _ = SystemRandom::new().fill(&mut nonce);
        let mut sealed = secret.to_vec();
        // Sealing only fails for inputs larger than AES-GCM allows (not secrets of bytes).
        let _ = self.key.seal_in_place_append_tag(
            ring::aead::Nonce::assume_unique_for_key(nonce),
            ring::aead::Aad::from(context.as_bytes()),
            &mut sealed,
        );
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{WRAPPED_PREFIX}{}", base64::Engine::encode(&base64::engine::general_purpose::STANDARD, out))
    }

    /// Opens a value [`WrapKey::wrap`] made for the same `context`.
    pub fn unwrap(&self, context: &str, stored: &str) -> Result<Vec<u8>, PkiError> {
        let fail = |reason: &str| PkiError::WrapKey { path: self.path.clone(), reason: format!("{context}: {reason}") };
        let body = stored.strip_prefix(WRAPPED_PREFIX).ok_or_else(|| fail("the stored value is not wrapped"))?;
        let raw = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, body).map_err(|_| fail("the stored value is damaged"))?;
        if raw.len() < ring::aead::NONCE_LEN + ring::aead::AES_256_GCM.tag_len() {
            return Err(fail("the stored value is damaged"));
        }
        let (nonce, sealed) = raw.split_at(ring::aead::NONCE_LEN);
        let nonce = ring::aead::Nonce::try_assume_unique_for_key(nonce).map_err(|_| fail("the stored value is damaged"))?;
        let mut sealed = sealed.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, ring::aead::Aad::from(context.as_bytes()), &mut sealed)
            .map_err(|_| fail("this key does not open the stored secret (another hub's key, or the value was changed); restore the key file from its backup"))?;
        Ok(plain.to_vec())
    }
}

fn dn(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "exam-kiosk");
    dn.push(DnType::CommonName, common_name);
    dn
}

fn random_serial() -> SerialNumber {
    let mut bytes = [0u8; 16];
    // SystemRandom only fails when the OS has no randomness at all.
    let _ = SystemRandom::new().fill(&mut bytes);
    bytes[0] &= 0x7f;
    SerialNumber::from_slice(&bytes)
}

fn ca_params(common_name: &str, now: OffsetDateTime) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = dn(common_name);
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    params.not_before = now - Duration::hours(1);
    params.not_after = now + Duration::days(CA_VALIDITY_DAYS);
    params.serial_number = Some(random_serial());
    params
}

/// What `exam-hub init` created.
#[derive(Debug, Clone)]
pub struct InitSummary {
    /// The hub signing public key, hex (put it in the policy as the hub echo key).
    pub signing_public_key: String,
    /// SHA-256 of the school CA certificate (DER), hex.
    pub school_ca_sha256: String,
}

/// Creates the school CA, the hub certificate for `names` (DNS names or IP
/// addresses), the device CA, the signing key and the secret in `dir` (0700,
/// private files 0600), and the wrap key in its own directory beside it
/// ([`default_wrap_key_path`]).
pub fn init(dir: &Path, names: &[String], school: &str) -> Result<InitSummary, PkiError> {
    private_dir(dir)?;
    for name in [files::SCHOOL_CA_KEY, files::DEVICE_CA_KEY, files::SIGNING_KEY, files::SECRET] {
        if dir.join(name).exists() {
            return Err(PkiError::AlreadyInitialised(dir.to_owned(), name));
        }
    }
    let wrap_path = default_wrap_key_path(dir);
    if wrap_path.exists() {
        return Err(PkiError::WrapKey {
            path: wrap_path,
            reason: "exists (from an earlier hub?); refusing to overwrite it: move it away, or keep the old data directory".into(),
        });
    }
    let now = OffsetDateTime::now_utc();
    let school_key = KeyPair::generate()?;
    let school_params = ca_params(&format!("{school} exam school CA"), now);
    let school_cert = school_params.self_signed(&school_key)?;
    let school_issuer = Issuer::new(school_params, &school_key);

    let hub_key = KeyPair::generate()?;
    let mut hub_params = CertificateParams::new(names.to_vec())?;
    hub_params.distinguished_name = dn(&format!("{school} exam hub"));
    hub_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    hub_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    hub_params.not_before = now - Duration::hours(1);
    hub_params.not_after = now + Duration::days(HUB_CERT_VALIDITY_DAYS);
    hub_params.serial_number = Some(random_serial());
    hub_params.use_authority_key_identifier_extension = true;
    let hub_cert = hub_params.signed_by(&hub_key, &school_issuer)?;

    let device_key = KeyPair::generate()?;
    let mut device_params = ca_params(&format!("{school} exam device CA"), now);
    device_params.use_authority_key_identifier_extension = true;
    let device_cert = device_params.signed_by(&device_key, &school_issuer)?;

    let signing = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
        .map_err(|_| PkiError::Tls("the system random number generator failed".into()))?;
    let signing_public = Ed25519KeyPair::from_pkcs8(signing.as_ref())
        .map_err(|e| PkiError::Tls(e.to_string()))?
        .public_key()
        .as_ref()
        .to_vec();
    let mut secret = [0u8; 32];
    SystemRandom::new().fill(&mut secret).map_err(|_| PkiError::Tls("the system random number generator failed".into()))?;

    write_file(&dir.join(files::SCHOOL_CA_CERT), school_cert.pem().as_bytes(), false)?;
    write_file(&dir.join(files::SCHOOL_CA_KEY), school_key.serialize_pem().as_bytes(), true)?;
    // The chain includes the school CA, so a kiosk that knows only its
    // fingerprint can enrol (kioskctl enrol --ca-sha256).
    write_file(&dir.join(files::HUB_CERT), format!("{}{}", hub_cert.pem(), school_cert.pem()).as_bytes(), false)?;
    write_file(&dir.join(files::HUB_KEY), hub_key.serialize_pem().as_bytes(), true)?;
    write_file(&dir.join(files::DEVICE_CA_CERT), device_cert.pem().as_bytes(), false)?;
    write_file(&dir.join(files::DEVICE_CA_KEY), device_key.serialize_pem().as_bytes(), true)?;
    write_file(&dir.join(files::SIGNING_KEY), signing.as_ref(), true)?;
    write_file(&dir.join(files::SECRET), hex::encode(secret).as_bytes(), true)?;
    WrapKey::create(&wrap_path)?;
    Ok(InitSummary {
        signing_public_key: hex::encode(signing_public),
        school_ca_sha256: hex::encode(ring::digest::digest(&ring::digest::SHA256, school_cert.der())),
    })
}

/// The hub's loaded keys.
pub struct Keys {
    /// TLS server configuration (TLS 1.3, optional client certificates from the device CA).
    pub tls: Arc<rustls::ServerConfig>,
    /// School CA certificate, PEM.
    pub school_ca_pem: String,
    /// Device CA certificate, PEM.
    pub device_ca_pem: String,
    device_ca: Issuer<'static, KeyPair>,
    signing: Ed25519KeyPair,
    /// Hub signing public key, hex.
    pub signing_public_hex: String,
    secret: ring::hmac::Key,
    /// The signed policy bundle, when one is configured.
    pub signed_policy: Option<String>,
    /// The wrap key, when its file exists (see [`Keys::wrap_key`]).
    pub wrap: Option<WrapKey>,
    /// Where the wrap key is (or is to be) kept.
    pub wrap_path: PathBuf,
    /// The data directory the keys were loaded from (hub.toml and the
    /// policy are there, whatever the database).
    pub data_dir: PathBuf,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print private material.
        f.debug_struct("Keys").field("signing_public_hex", &self.signing_public_hex).finish_non_exhaustive()
    }
}

/// The ring crypto provider, the only one used.
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn certs(dir: &Path, name: &str) -> Result<Vec<CertificateDer<'static>>, PkiError> {
    let pem = read(dir, name)?;
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| PkiError::Invalid { file: name.into(), reason: e.to_string() })?;
    if certs.is_empty() {
        return Err(PkiError::Invalid { file: name.into(), reason: "no certificate in the file".into() });
    }
    Ok(certs)
}

impl Keys {
    /// Loads everything `init` created.
    pub fn load(dir: &Path) -> Result<Self, PkiError> {
        let provider = provider();
        let hub_chain = certs(dir, files::HUB_CERT)?;
        let hub_key = PrivateKeyDer::from_pem_slice(read(dir, files::HUB_KEY)?.as_bytes())
            .map_err(|e| PkiError::Invalid { file: files::HUB_KEY.into(), reason: e.to_string() })?;
        let device_ca_pem = read(dir, files::DEVICE_CA_CERT)?;
        let mut roots = rustls::RootCertStore::empty();
        for cert in certs(dir, files::DEVICE_CA_CERT)? {
            roots.add(cert).map_err(|e| PkiError::Invalid { file: files::DEVICE_CA_CERT.into(), reason: e.to_string() })?;
        }
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .allow_unauthenticated()
            .build()
            .map_err(|e| PkiError::Tls(e.to_string()))?;
        let mut tls = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|e| PkiError::Tls(e.to_string()))?
            .with_client_cert_verifier(verifier)
            .with_single_cert(hub_chain, hub_key)
            .map_err(|e| PkiError::Tls(e.to_string()))?;
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];

        let device_key = KeyPair::from_pem(&read(dir, files::DEVICE_CA_KEY)?)?;
        let device_ca = Issuer::from_ca_cert_pem(&device_ca_pem, device_key)?;
        let signing_path = dir.join(files::SIGNING_KEY);
        let signing_bytes = std::fs::read(&signing_path).map_err(|source| PkiError::Io { path: signing_path, source })?;
        let signing = Ed25519KeyPair::from_pkcs8(&signing_bytes)
            .map_err(|e| PkiError::Invalid { file: files::SIGNING_KEY.into(), reason: e.to_string() })?;
        let secret = hex::decode(read(dir, files::SECRET)?.trim())
            .ok()
            .filter(|s| s.len() == 32)
            .ok_or_else(|| PkiError::Invalid { file: files::SECRET.into(), reason: "expected 64 hex digits".into() })?;
        let signed_policy = match std::fs::read_to_string(dir.join(files::POLICY)) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => return Err(PkiError::Io { path: dir.join(files::POLICY), source }),
        };
        let wrap_path = crate::config::wrap_key_path(dir);
        let wrap = match WrapKey::load(&wrap_path) {
            Ok(key) => Some(key),
            Err(PkiError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        Ok(Self {
            wrap,
            wrap_path,
            data_dir: dir.to_owned(),
            tls: Arc::new(tls),
            school_ca_pem: read(dir, files::SCHOOL_CA_CERT)?,
            device_ca_pem,
            device_ca,
            signing_public_hex: hex::encode(signing.public_key().as_ref()),
            signing,
            secret: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &secret),
            signed_policy,
        })
    }

    /// The wrap key, or a clear error saying where it was looked for.
    pub fn wrap_key(&self) -> Result<&WrapKey, PkiError> {
        self.wrap.as_ref().ok_or_else(|| PkiError::WrapKey {
            path: self.wrap_path.clone(),
            reason: "missing: `exam-hub serve` creates it on an existing hub; if the hub had one, restore it from its backup".into(),
        })
    }

    /// Signs `message` with the hub signing key; hex.
    pub fn sign_hex(&self, message: &[u8]) -> String {
        hex::encode(self.signing.sign(message).as_ref())
    }

    /// Signs `message` with the hub signing key; raw bytes.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.signing.sign(message).as_ref().to_vec()
    }

    /// HMAC-SHA256 under the hub secret, over length-prefixed parts; hex.
    pub fn hmac_hex(&self, domain: &str, parts: &[&str]) -> String {
        let mut ctx = ring::hmac::Context::with_key(&self.secret);
        ctx.update(domain.as_bytes());
        for part in parts {
            ctx.update(&(part.len() as u32).to_be_bytes());
            ctx.update(part.as_bytes());
        }
        hex::encode(ctx.sign().as_ref())
    }

    /// Issues a client certificate for `device_id` from a PKCS#10 request.
    /// Only the request's public key is used; subject, usages and validity are the hub's.
    pub fn issue_device_certificate(&self, csr_pem: &str, device_id: &str) -> Result<(String, String), PkiError> {
        let mut csr = CertificateSigningRequestParams::from_pem(csr_pem)?;
        let now = OffsetDateTime::now_utc();
        let mut params = CertificateParams::default();
        params.distinguished_name = dn(device_id);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.not_before = now - Duration::hours(1);
        params.not_after = now + Duration::days(DEVICE_CERT_VALIDITY_DAYS);
        params.serial_number = Some(random_serial());
        params.use_authority_key_identifier_extension = true;
        csr.params = params;
        let cert = csr.signed_by(&self.device_ca)?;
        Ok((cert.pem(), cert_sha256(cert.der())))
    }
}

/// SHA-256 (hex) of the school CA certificate in `dir`: what kiosks pin at enrolment.
pub fn school_ca_sha256(dir: &Path) -> Result<String, PkiError> {
    let certs = certs(dir, files::SCHOOL_CA_CERT)?;
    Ok(cert_sha256(certs[0].as_ref()))
}

pub use exam_protocol::cert_sha256;

/// SHA-256 of the public key inside a CSR (hex), used as device id when the
/// kiosk sends no journal device key.
pub fn csr_key_id(csr_pem: &str) -> Result<String, PkiError> {
    let csr = CertificateSigningRequestParams::from_pem(csr_pem)?;
    use rcgen::PublicKeyData as _;
    let digest = ring::digest::digest(&ring::digest::SHA256, csr.public_key.der_bytes());
    Ok(hex::encode(&digest.as_ref()[..16]))
}
