//! The hub client: enrolment, and the kiosk API over mutual TLS.
//!
//! TLS is rustls with the ring provider, TLS 1.3 only, and the **school CA
//! pinned**: no web PKI roots are ever trusted for hub traffic. After
//! enrolment every request carries the device's client certificate.
//!
//! Enrolment needs a first anchor before the school CA is known: either the
//! school CA file ([`Bootstrap::CaPem`]) or its SHA-256 fingerprint
//! ([`Bootstrap::CaSha256`], printed by `exam-hub init` and
//! `exam-hub enrol-token`). The CA the hub returns must match it.
//!
//! The enrolment directory holds `hub.json` ([`HubIdentity`]),
//! `school-ca.pem`, `device.pem`, `device.key` (mode 0600) and, when the hub
//! has one, `policy.signed`.

use exam_protocol::*;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use serde::{Deserialize, Serialize};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// File names in the enrolment directory.
pub mod files {
    /// The identity: hub URL, device id, room, hub signing key.
    pub const IDENTITY: &str = "hub.json";
    /// The pinned school CA.
    pub const SCHOOL_CA: &str = "school-ca.pem";
    /// The device's client certificate.
    pub const DEVICE_CERT: &str = "device.pem";
    /// The device's TLS private key (mode 0600).
    pub const DEVICE_KEY: &str = "device.key";
    /// The signed policy from the hub, when it has one.
    pub const POLICY: &str = "policy.signed";
}

/// Request timeout for ordinary calls.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long an instrument download waits for the next bytes.
pub const DOWNLOAD_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Connect timeout.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Errors of the hub client.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// A local file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// TLS or certificate material is unusable.
    #[error("TLS: {0}")]
    Tls(String),
    /// The hub could not be reached or the connection failed.
    #[error("hub unreachable: {0}")]
    Unreachable(String),
    /// The hub answered with an error.
    #[error("hub refused ({status}): {} — {}", .body.error, .body.message)]
    Refused {
        /// HTTP status.
        status: u16,
        /// The hub's error body.
        body: ErrorBody,
    },
    /// The hub's answer was not what the protocol says.
    #[error("unexpected answer from the hub: {0}")]
    Protocol(String),
    /// The enrolment directory is already in use.
    #[error("{0} already holds an enrolment; refusing to overwrite it")]
    AlreadyEnrolled(PathBuf),
}

/// The first trust anchor for enrolment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bootstrap {
    /// The school CA certificate, PEM.
    CaPem(String),
    /// SHA-256 of the school CA certificate (DER), hex.
    CaSha256(String),
}

/// What the kiosk keeps about its enrolment (`hub.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HubIdentity {
    /// Base URL of the hub, e.g. `https://hub.school.example:8443`.
    pub hub_url: String,
    /// Device id the hub assigned.
    pub device_id: String,
    /// Room the device is enrolled to.
    pub room: String,
    /// Hub signing key (Ed25519, hex) for echoes and receipts.
    pub hub_signing_public_key: String,
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn parse_certs(pem: &str) -> Result<Vec<CertificateDer<'static>>, HubError> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| HubError::Tls(format!("certificate PEM: {e}")))?;
    if certs.is_empty() {
        return Err(HubError::Tls("no certificate in PEM".into()));
    }
    Ok(certs)
}

pub use exam_protocol::cert_sha256;

/// A rustls client configuration: TLS 1.3, ring, only `school_ca_pem`
/// trusted, with the client certificate when given.
pub fn tls_config(school_ca_pem: &str, identity: Option<(&str, &str)>) -> Result<rustls::ClientConfig, HubError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in parse_certs(school_ca_pem)? {
        roots.add(cert).map_err(|e| HubError::Tls(format!("school CA: {e}")))?;
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| HubError::Tls(e.to_string()))?
        .with_root_certificates(roots);
    match identity {
        Some((cert, key)) => {
            let key = PrivateKeyDer::from_pem_slice(key.as_bytes()).map_err(|e| HubError::Tls(format!("device key: {e}")))?;
            builder.with_client_auth_cert(parse_certs(cert)?, key).map_err(|e| HubError::Tls(e.to_string()))
        }
        None => Ok(builder.with_no_client_auth()),
    }
}

/// Accepts the hub only if its chain contains the pinned CA (by
/// fingerprint) and the leaf verifies against that CA.
#[derive(Debug)]
struct FingerprintVerifier {
    sha256: String,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for FingerprintVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let anchor = intermediates
            .iter()
            .find(|c| cert_sha256(c.as_ref()).eq_ignore_ascii_case(&self.sha256))
            .ok_or_else(|| rustls::Error::General("the hub did not present the pinned school CA".into()))?;
        let mut roots = rustls::RootCertStore::empty();
        roots.add(anchor.clone().into_owned()).map_err(|e| rustls::Error::General(e.to_string()))?;
        let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), self.provider.clone())
            .build()
            .map_err(|e| rustls::Error::General(e.to_string()))?;
        inner.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::General("TLS 1.2 is not used".into()))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

fn http_client(config: rustls::ClientConfig) -> Result<reqwest::Client, HubError> {
    reqwest::Client::builder()
        .use_preconfigured_tls(config)
        .connect_timeout(CONNECT_TIMEOUT)
        .build()
        .map_err(|e| HubError::Tls(e.to_string()))
}

async fn answer<T: serde::de::DeserializeOwned>(resp: Result<reqwest::Response, reqwest::Error>) -> Result<T, HubError> {
    let resp = resp.map_err(|e| HubError::Unreachable(error_chain(&e)))?;
    let status = resp.status();
    let bytes = resp.bytes().await.map_err(|e| HubError::Unreachable(error_chain(&e)))?;
    if status.is_success() {
        serde_json::from_slice(&bytes).map_err(|e| HubError::Protocol(e.to_string()))
    } else {
        let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| ErrorBody {
            error: "http_error".into(),
            message: String::from_utf8_lossy(&bytes).chars().take(200).collect(),
            remaining_attempts: None,
            expected_seq: None,
            starts_at_ms: None,
        });
        Err(HubError::Refused { status: status.as_u16(), body })
    }
}

/// An error with its sources, `a: b: c` (TLS failures hide the reason in a source).
pub(crate) fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// Writes an enrolment file atomically and durably (`exam_secure::FileWrite`),
/// replacing an earlier enrolment's; the device key readable by its owner only.
fn write_file(path: &Path, bytes: &[u8], private: bool) -> Result<(), HubError> {
    let how = if private { exam_secure::FileWrite::PRIVATE } else { exam_secure::FileWrite::PUBLIC };
    how.write(path, bytes).map_err(|source| HubError::Io { path: path.to_owned(), source })
}

/// What to enrol with.
#[derive(Debug, Clone)]
pub struct EnrolOptions {
    /// Hub base URL.
    pub hub_url: String,
    /// One-time enrolment token.
    pub token: String,
    /// First trust anchor.
    pub bootstrap: Bootstrap,
    /// The journal device key: the hub pins its public half (the device id
    /// derives from it), and it signs the enrolment's proof of possession.
    pub device_key: Arc<exam_journal::SigningKey>,
    /// Host name to report.
    pub hostname: Option<String>,
}

/// Enrols this device: makes a P-256 key pair and CSR, asks the hub for a
/// challenge, sends the CSR with the token and the device key's signature
/// over challenge, token, CSR and key (proof of possession), checks the returned school CA against the bootstrap anchor, and
/// stores the identity in `dir`.
pub async fn enrol(options: &EnrolOptions, dir: &Path) -> Result<HubIdentity, HubError> {
    if dir.join(files::IDENTITY).exists() {
        return Err(HubError::AlreadyEnrolled(dir.to_owned()));
    }
    let config = match &options.bootstrap {
        Bootstrap::CaPem(pem) => tls_config(pem, None)?,
        Bootstrap::CaSha256(sha) => {
            let provider = provider();
            rustls::ClientConfig::builder_with_provider(provider.clone())
                .with_protocol_versions(&[&rustls::version::TLS13])
                .map_err(|e| HubError::Tls(e.to_string()))?
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(FingerprintVerifier { sha256: sha.trim().to_lowercase(), provider }))
                .with_no_client_auth()
        }
    };
    let key = rcgen::KeyPair::generate().map_err(|e| HubError::Tls(e.to_string()))?;
    let csr = rcgen::CertificateParams::default()
        .serialize_request(&key)
        .and_then(|c| c.pem())
        .map_err(|e| HubError::Tls(e.to_string()))?;
    let token = options.token.trim().to_string();
    let base = options.hub_url.trim_end_matches('/').to_string();
    let client = http_client(config)?;
    // Proof of possession: the device key signs the hub's single-use
    // challenge together with the token, the CSR and its own public half.
    let challenge: EnrolChallenge = answer(
        client
            .post(format!("{base}{}", paths::ENROL_CHALLENGE))
            .timeout(REQUEST_TIMEOUT)
            .json(&EnrolChallengeRequest { token: token.clone() })
            .send()
            .await,
    )
    .await?;
    let public_hex = options.device_key.public_key().to_hex();
    let message = enrol_proof_message(&challenge.challenge, &token, &csr, &public_hex).map_err(HubError::Protocol)?;
    let proof = hex::encode(options.device_key.sign(&message));
    let request = EnrolRequest {
        token,
        csr_pem: csr,
        device_public_key: Some(public_hex),
        hostname: options.hostname.clone(),
        challenge: Some(challenge.challenge),
        proof: Some(proof),
    };
    let response: EnrolResponse =
        answer(client.post(format!("{base}{}", paths::ENROL)).timeout(REQUEST_TIMEOUT).json(&request).send().await).await?;
    let returned_ca = parse_certs(&response.school_ca_pem)?;
    let matches = match &options.bootstrap {
        Bootstrap::CaPem(pem) => parse_certs(pem)? == returned_ca,
        Bootstrap::CaSha256(sha) => returned_ca.iter().any(|c| cert_sha256(c.as_ref()).eq_ignore_ascii_case(sha.trim())),
    };
    if !matches {
        return Err(HubError::Tls("the hub returned another school CA than the one given for enrolment".into()));
    }
    // The issued certificate must work with the key we hold.
    tls_config(&response.school_ca_pem, Some((&response.client_certificate_pem, &key.serialize_pem())))?;
    std::fs::create_dir_all(dir).map_err(|source| HubError::Io { path: dir.to_owned(), source })?;
    let identity = HubIdentity {
        hub_url: base,
        device_id: response.device_id.clone(),
        room: response.room.clone(),
        hub_signing_public_key: response.hub_signing_public_key.clone(),
    };
    write_file(&dir.join(files::DEVICE_KEY), key.serialize_pem().as_bytes(), true)?;
    let chain = format!("{}{}", response.client_certificate_pem, response.device_ca_pem);
    write_file(&dir.join(files::DEVICE_CERT), chain.as_bytes(), false)?;
    write_file(&dir.join(files::SCHOOL_CA), response.school_ca_pem.as_bytes(), false)?;
    if let Some(policy) = &response.signed_policy {
        write_file(&dir.join(files::POLICY), policy.as_bytes(), false)?;
    }
    let json = serde_json::to_vec_pretty(&identity).map_err(|e| HubError::Protocol(e.to_string()))?;
    write_file(&dir.join(files::IDENTITY), &json, false)?;
    Ok(identity)
}

/// [`enrol`] on a private single-threaded runtime, for synchronous callers (kioskctl).
pub fn enrol_blocking(options: &EnrolOptions, dir: &Path) -> Result<HubIdentity, HubError> {
    block_on(enrol(options, dir))?
}

/// Runs one hub call to its end on a private single-threaded runtime, for
/// synchronous callers (kioskctl): `block_on(client.upload_journal(&frames))`.
pub fn block_on<F: std::future::Future>(call: F) -> Result<F::Output, HubError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| HubError::Unreachable(format!("cannot start the network runtime: {e}")))?;
    Ok(runtime.block_on(call))
}

/// A client for the kiosk API over mutual TLS.
#[derive(Debug, Clone)]
pub struct HubClient {
    http: reqwest::Client,
    /// The enrolment.
    pub identity: HubIdentity,
    token: Option<String>,
    /// Says in every request that the policy lets a WebDriver drive this
    /// kiosk ([`exam_protocol::TEST_AUTOMATION_HEADER`]).
    test_automation: bool,
}

impl HubClient {
    /// Loads the enrolment from `dir`.
    pub fn from_dir(dir: &Path) -> Result<Self, HubError> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read_to_string(&path).map_err(|source| HubError::Io { path, source })
        };
        let identity: HubIdentity =
            serde_json::from_str(&read(files::IDENTITY)?).map_err(|e| HubError::Protocol(format!("{}: {e}", files::IDENTITY)))?;
        let config = tls_config(&read(files::SCHOOL_CA)?, Some((&read(files::DEVICE_CERT)?, &read(files::DEVICE_KEY)?)))?;
        Ok(Self { http: http_client(config)?, identity, token: None, test_automation: false })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.identity.hub_url)
    }

    /// The same client, telling the hub in every request whether the
    /// policy lets a WebDriver drive this kiosk (a hub refuses such a kiosk
    /// unless it accepts test kiosks).
    pub fn in_test_automation(mut self, on: bool) -> Self {
        self.test_automation = on;
        self
    }

    fn marked(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        if self.test_automation {
            req.header(exam_protocol::TEST_AUTOMATION_HEADER, "1")
        } else {
            req
        }
    }

    fn authed(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let req = self.marked(req);
        match &self.token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    async fn post<B: Serialize, T: serde::de::DeserializeOwned>(&self, path: &str, body: &B) -> Result<T, HubError> {
        answer(self.authed(self.http.post(self.url(path)).timeout(REQUEST_TIMEOUT).json(body)).send().await).await
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, HubError> {
        answer(self.authed(self.http.get(self.url(path)).timeout(REQUEST_TIMEOUT)).send().await).await
    }

    /// `GET /healthz`.
    pub async fn health(&self) -> Result<Health, HubError> {
        self.get(paths::HEALTHZ).await
    }

    /// Asks for the signed echo of our source address and checks it.
    pub async fn echo(&self, nonce_hex: &str) -> Result<SignedHubEcho, HubError> {
        let echo: SignedHubEcho = self.post(paths::ECHO, &EchoRequest { nonce: nonce_hex.to_string() }).await?;
        echo.verify(&self.identity.hub_signing_public_key, &self.identity.device_id, nonce_hex).map_err(HubError::Protocol)?;
        Ok(echo)
    }

    /// Logs a student in; keeps the session token for later calls.
    pub async fn login(&mut self, student_number: &str, access_code: &str) -> Result<LoginResponse, HubError> {
        let login: LoginResponse = self
            .post(paths::LOGIN, &LoginRequest { student_number: student_number.into(), access_code: access_code.into() })
            .await?;
        self.token = Some(login.session_token.clone());
        Ok(login)
    }

    /// Uses a session token obtained earlier (after a restart).
    pub fn set_session_token(&mut self, token: Option<String>) {
        self.token = token;
    }

    /// The current assignment.
    pub async fn assignment(&self) -> Result<Assignment, HubError> {
        self.get(paths::ASSIGNMENT).await
    }

    /// Downloads the instrument to `path`, resuming from what is already
    /// there, and checks size and SHA-256.
    pub async fn download_instrument(&self, instrument: &InstrumentRef, path: &Path) -> Result<(), HubError> {
        self.download_instrument_with_progress(instrument, path, &|_| {}).await
    }

    /// [`HubClient::download_instrument`], calling `progress` with the bytes
    /// on disk as they come. A hub that stops sending for
    /// [`DOWNLOAD_READ_TIMEOUT`] (before the answer or between two parts of
    /// it) is given up on: the partial file stays for the next attempt.
    pub async fn download_instrument_with_progress(
        &self,
        instrument: &InstrumentRef,
        path: &Path,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<(), HubError> {
        let io = |source| HubError::Io { path: path.to_owned(), source };
        let stalled = |_| HubError::Unreachable(format!("de examenserver stuurde {} s niets", DOWNLOAD_READ_TIMEOUT.as_secs()));
        let have = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        if have < instrument.size {
            let mut req = self.authed(self.http.get(self.url(&instrument.path)));
            if have > 0 {
                req = req.header(reqwest::header::RANGE, format!("bytes={have}-")).header(reqwest::header::IF_RANGE, format!("\"{}\"", instrument.sha256));
            }
            let mut resp = tokio::time::timeout(DOWNLOAD_READ_TIMEOUT, req.send())
                .await
                .map_err(stalled)?
                .map_err(|e| HubError::Unreachable(error_chain(&e)))?;
            let append = match resp.status().as_u16() {
                206 => true,
                200 => false,
                status => {
                    let body = resp.json().await.map_err(|e| HubError::Protocol(e.to_string()))?;
                    return Err(HubError::Refused { status, body });
                }
            };
            let mut file = std::fs::OpenOptions::new().create(true).append(append).write(true).truncate(!append).open(path).map_err(io)?;
            let mut done = if append { have } else { 0 };
            while let Some(chunk) = tokio::time::timeout(DOWNLOAD_READ_TIMEOUT, resp.chunk())
                .await
                .map_err(stalled)?
                .map_err(|e| HubError::Unreachable(error_chain(&e)))?
            {
                file.write_all(&chunk).map_err(io)?;
                done += chunk.len() as u64;
                progress(done);
            }
            file.sync_all().map_err(io)?;
        }
        let bytes = std::fs::read(path).map_err(io)?;
        let sha = hex::encode(ring::digest::digest(&ring::digest::SHA256, &bytes));
        if bytes.len() as u64 != instrument.size || sha != instrument.sha256 {
            // Start over next time.
            let _ = std::fs::remove_file(path);
            return Err(HubError::Protocol("the downloaded instrument does not match its hash".into()));
        }
        Ok(())
    }

    /// Asks for the content key (refused with `not_started` before the start).
    pub async fn start(&self) -> Result<StartResponse, HubError> {
        self.post(paths::START, &serde_json::json!({})).await
    }

    /// Uploads journal record frames (consecutive) and checks the signed receipt.
    pub async fn upload_journal(&self, frames: &[Vec<u8>]) -> Result<JournalReceipt, HubError> {
        use base64::Engine as _;
        let batch = JournalBatch { records: frames.iter().map(|f| base64::engine::general_purpose::STANDARD.encode(f)).collect() };
        let receipt: JournalReceipt = self.post(paths::JOURNAL, &batch).await?;
        receipt.verify(&self.identity.hub_signing_public_key).map_err(HubError::Protocol)?;
        Ok(receipt)
    }

    /// Uploads answers and checks the signed receipt.
    pub async fn upload_answers(&self, upload: &AnswerUpload) -> Result<AnswerReceipt, HubError> {
        let receipt: AnswerReceipt = self.post(paths::ANSWERS, upload).await?;
        receipt.verify(&self.identity.hub_signing_public_key).map_err(HubError::Protocol)?;
        Ok(receipt)
    }

    /// The hub's copy of this student's answers (for a move to another PC),
    /// checked: the hub's signature on the receipt, and that the answers are
    /// the ones it signed for this sitting and save.
    pub async fn latest_answers(&self) -> Result<LatestAnswers, HubError> {
        let latest: LatestAnswers = self.get(paths::ANSWERS_LATEST).await?;
        let Some(receipt) = &latest.receipt else {
            return match latest.answers.is_null() {
                true => Ok(latest),
                false => Err(HubError::Protocol("the hub sent answers without its receipt".into())),
            };
        };
        receipt.verify(&self.identity.hub_signing_public_key).map_err(HubError::Protocol)?;
        let text = serde_json::to_string(&latest.answers).map_err(|e| HubError::Protocol(e.to_string()))?;
        let sha = hex::encode(ring::digest::digest(&ring::digest::SHA256, text.as_bytes()));
        if sha != receipt.answers_sha256 || receipt.seq != latest.seq || receipt.sitting_id != latest.sitting_id {
            return Err(HubError::Protocol("the hub's answers do not match its signed receipt".into()));
        }
        Ok(latest)
    }

    /// The session nonce that keys the exam key header of a web instrument
    /// (refused with `not_started` before the start).
    pub async fn web_session(&self) -> Result<WebSession, HubError> {
        self.post(paths::WEB_SESSION, &serde_json::json!({})).await
    }

    /// Sends a heartbeat.
    pub async fn heartbeat(&self, beat: &Heartbeat) -> Result<HeartbeatAck, HubError> {
        self.post(paths::HEARTBEAT, beat).await
    }

    /// Acknowledges an instruction.
    pub async fn acknowledge(&self, id: &str) -> Result<(), HubError> {
        let _: serde_json::Value = self.post(paths::INSTRUCTIONS_ACK, &InstructionAck { id: id.to_string() }).await?;
        Ok(())
    }

    /// Opens the instruction stream; read it with [`InstructionStream::next`].
    pub async fn instructions(&self) -> Result<InstructionStream, HubError> {
        let resp = self.marked(self.http.get(self.url(paths::INSTRUCTIONS))).send().await.map_err(|e| HubError::Unreachable(error_chain(&e)))?;
        if !resp.status().is_success() {
            let status = resp.status().as_u16();
            let body = resp.json().await.map_err(|e| HubError::Protocol(e.to_string()))?;
            return Err(HubError::Refused { status, body });
        }
        Ok(InstructionStream { resp, buffer: String::new() })
    }
}

/// The server-sent event stream of instructions.
#[derive(Debug)]
pub struct InstructionStream {
    resp: reqwest::Response,
    buffer: String,
}

impl InstructionStream {
    /// The next instruction; `None` when the hub closed the stream. The same
    /// instruction arrives again until acknowledged: apply each id once.
    pub async fn next(&mut self) -> Result<Option<Instruction>, HubError> {
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let event: String = self.buffer.drain(..end + 2).collect();
                if event.lines().any(|l| l == "event: instruction") {
                    let data: String = event.lines().filter_map(|l| l.strip_prefix("data: ")).collect();
                    return serde_json::from_str(&data).map(Some).map_err(|e| HubError::Protocol(e.to_string()));
                }
            }
            match self.resp.chunk().await.map_err(|e| HubError::Unreachable(error_chain(&e)))? {
                Some(chunk) => self.buffer.push_str(&String::from_utf8_lossy(&chunk)),
                None => return Ok(None),
            }
        }
    }
}
