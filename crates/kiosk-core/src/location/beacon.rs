//! The location beacon: a small UDP service on the exam LAN that answers a
//! fresh nonce with an Ed25519 signature, and the kiosk's client for it.
//!
//! Wire format (all integers big endian):
//!
//! ```text
//! request:  "EKB1" 0x01 nonce[32] len:u8 device_id[len]
//! response: "EKB1" 0x02 nonce[32] len:u8 device_id[len] len:u8 beacon_id[len] time_ms:u64 signature[64]
//! signed:   "exam-kiosk/beacon/v1\0" nonce[32] len:u8 device_id len:u8 beacon_id time_ms:u64
//! ```

use exam_policy::{verify_signature, BeaconReq, PublicKeyHex, SigningKey};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Domain separator of beacon signatures.
pub const BEACON_DOMAIN: &[u8] = b"exam-kiosk/beacon/v1\0";
/// Protocol magic.
pub const MAGIC: &[u8; 4] = b"EKB1";
/// The default UDP port of a beacon.
pub const DEFAULT_PORT: u16 = 7207;
/// Longest device or beacon id on the wire, bytes.
pub const MAX_ID_LEN: usize = 255;
/// How often the server checks its stop flag, ms.
const SERVER_POLL_MS: u64 = 100;

const REQ: u8 = 0x01;
const RESP: u8 = 0x02;

/// A beacon's signed answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BeaconResponse {
    /// The nonce it answers.
    pub nonce: [u8; 32],
    /// The requesting device as the beacon understood it.
    pub device_id: Vec<u8>,
    /// The beacon's identity.
    pub beacon_id: Vec<u8>,
    /// The beacon's clock, unix ms.
    pub time_ms: u64,
    /// Ed25519 signature over [`signed_message`].
    pub signature: [u8; 64],
}

/// The bytes a beacon signs.
pub fn signed_message(nonce: &[u8; 32], device_id: &[u8], beacon_id: &[u8], time_ms: u64) -> Vec<u8> {
    let mut m = Vec::with_capacity(BEACON_DOMAIN.len() + 32 + 2 + device_id.len() + beacon_id.len() + 8);
    m.extend_from_slice(BEACON_DOMAIN);
    m.extend_from_slice(nonce);
    m.push(device_id.len() as u8);
    m.extend_from_slice(device_id);
    m.push(beacon_id.len() as u8);
    m.extend_from_slice(beacon_id);
    m.extend_from_slice(&time_ms.to_be_bytes());
    m
}

/// Encodes a request.
pub fn encode_request(nonce: &[u8; 32], device_id: &[u8]) -> Vec<u8> {
    let id = &device_id[..device_id.len().min(MAX_ID_LEN)];
    let mut m = Vec::with_capacity(38 + id.len());
    m.extend_from_slice(MAGIC);
    m.push(REQ);
    m.extend_from_slice(nonce);
    m.push(id.len() as u8);
    m.extend_from_slice(id);
    m
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn byte(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N).and_then(|b| b.try_into().ok())
    }
    fn short(&mut self) -> Option<&'a [u8]> {
        let n = usize::from(self.byte()?);
        self.take(n)
    }
}

/// Decodes a request: (nonce, device id).
pub fn decode_request(buf: &[u8]) -> Option<([u8; 32], Vec<u8>)> {
    let mut r = Reader(buf);
    if r.take(4)? != MAGIC || r.byte()? != REQ {
        return None;
    }
    let nonce = r.array::<32>()?;
    let id = r.short()?.to_vec();
    r.0.is_empty().then_some((nonce, id))
}

/// Encodes a response.
pub fn encode_response(resp: &BeaconResponse) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(MAGIC);
    m.push(RESP);
    m.extend_from_slice(&resp.nonce);
    m.push(resp.device_id.len() as u8);
    m.extend_from_slice(&resp.device_id);
    m.push(resp.beacon_id.len() as u8);
    m.extend_from_slice(&resp.beacon_id);
    m.extend_from_slice(&resp.time_ms.to_be_bytes());
    m.extend_from_slice(&resp.signature);
    m
}

/// Decodes a response.
pub fn decode_response(buf: &[u8]) -> Option<BeaconResponse> {
    let mut r = Reader(buf);
    if r.take(4)? != MAGIC || r.byte()? != RESP {
        return None;
    }
    let nonce = r.array::<32>()?;
    let device_id = r.short()?.to_vec();
    let beacon_id = r.short()?.to_vec();
    let time_ms = u64::from_be_bytes(r.array::<8>()?);
    let signature = r.array::<64>()?;
    r.0.is_empty().then_some(BeaconResponse {
        nonce,
        device_id,
        beacon_id,
        time_ms,
        signature,
    })
}

/// Signs an answer to a request (what the beacon does).
pub fn answer(key: &SigningKey, beacon_id: &[u8], nonce: [u8; 32], device_id: Vec<u8>, time_ms: u64) -> BeaconResponse {
    let beacon_id = beacon_id[..beacon_id.len().min(MAX_ID_LEN)].to_vec();
    let signature = key.sign(&signed_message(&nonce, &device_id, &beacon_id, time_ms));
    BeaconResponse {
        nonce,
        device_id,
        beacon_id,
        time_ms,
        signature,
    }
}

/// The current unix time in ms.
pub fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// A running beacon.
pub struct BeaconServer {
    socket: UdpSocket,
    key: SigningKey,
    beacon_id: Vec<u8>,
    /// Added to the clock in answers (testing a beacon with a wrong clock).
    pub time_offset_ms: i64,
    answered: AtomicU64,
}

impl BeaconServer {
    /// Binds the UDP socket.
    pub fn bind(addr: SocketAddr, key: SigningKey, beacon_id: &str) -> std::io::Result<Self> {
        let socket = UdpSocket::bind(addr)?;
        socket.set_read_timeout(Some(Duration::from_millis(SERVER_POLL_MS)))?;
        Ok(BeaconServer {
            socket,
            key,
            beacon_id: beacon_id.as_bytes().to_vec(),
            time_offset_ms: 0,
            answered: AtomicU64::new(0),
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// Number of requests answered so far.
    pub fn answered(&self) -> u64 {
        self.answered.load(Ordering::Relaxed)
    }

    /// Answers one datagram if one arrives within the poll interval.
    pub fn serve_one(&self) -> std::io::Result<()> {
        let mut buf = [0u8; 512];
        let (n, peer) = match self.socket.recv_from(&mut buf) {
            Ok(x) => x,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut | std::io::ErrorKind::Interrupted
                ) =>
            {
                return Ok(())
            }
            Err(e) => return Err(e),
        };
        // Malformed datagrams are dropped silently: no amplification, no oracle.
        let Some((nonce, device_id)) = decode_request(&buf[..n]) else {
            return Ok(());
        };
        let now = unix_ms().saturating_add_signed(self.time_offset_ms);
        let resp = answer(&self.key, &self.beacon_id, nonce, device_id, now);
        // A send error (peer gone) must not stop the beacon.
        let _ = self.socket.send_to(&encode_response(&resp), peer);
        self.answered.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Serves until `stop` is set.
    pub fn serve(&self, stop: &AtomicBool) -> std::io::Result<()> {
        while !stop.load(Ordering::Relaxed) {
            if let Err(e) = self.serve_one() {
                // Transient errors (e.g. ICMP feedback on Linux) are not fatal.
                if e.kind() != std::io::ErrorKind::ConnectionRefused {
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// Serves on a background thread until the handle is dropped.
    pub fn spawn(self) -> BeaconHandle {
        let stop = Arc::new(AtomicBool::new(false));
        let addr = self.local_addr().ok();
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let _ = self.serve(&flag);
        });
        BeaconHandle {
            stop,
            thread: Some(thread),
            addr,
        }
    }
}

/// A beacon serving on a background thread; stops when dropped.
pub struct BeaconHandle {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    addr: Option<SocketAddr>,
}

impl BeaconHandle {
    /// The address it serves on.
    pub fn addr(&self) -> Option<SocketAddr> {
        self.addr
    }
}

impl Drop for BeaconHandle {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A beacon check that held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct BeaconProof {
    /// The beacon's identity.
    pub beacon_id: String,
    /// Round trip, µs.
    pub rtt_us: u64,
    /// Beacon clock minus kiosk clock, ms.
    pub clock_skew_ms: i64,
    /// The nonce (hex), for the journal.
    pub nonce: String,
    /// The signature (hex), so the journal can be re-verified later.
    pub signature: String,
    /// The beacon's timestamp.
    pub beacon_time_ms: u64,
}

/// Why a beacon check failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "reason", content = "detail")]
pub enum BeaconFailure {
    /// No valid answer within the timeout.
    #[error("no answer within {0} ms (beacon not reachable from here)")]
    Timeout(u32),
    /// The network refused (no route, port closed).
    #[error("beacon unreachable: {0}")]
    Unreachable(String),
    /// An answer whose signature does not verify with the policy's key.
    #[error("bad signature: the answer was not signed by the beacon's key")]
    BadSignature,
    /// An answer to another nonce: a replayed or foreign answer.
    #[error("answer carries another nonce (replayed or foreign answer)")]
    NonceMismatch,
    /// An answer for another device.
    #[error("answer is for another device id")]
    DeviceMismatch,
    /// Signed by the right key but another beacon id.
    #[error("answer from beacon `{0}`, expected another id")]
    WrongBeacon(String),
    /// The beacon's timestamp is too far from the kiosk's clock.
    #[error("stale answer: beacon time differs {skew_ms} ms from ours (max {max_ms} ms)")]
    Stale {
        /// Beacon minus kiosk, ms.
        skew_ms: i64,
        /// The policy's maximum.
        max_ms: u32,
    },
    /// A datagram that is not a beacon answer.
    #[error("malformed answer")]
    Malformed,
    /// Not challenged: other evidence of every location using this beacon
    /// already failed, so no packet was sent to it.
    #[error("not challenged: the other evidence for this location already failed")]
    NotChallenged,
    /// Local failure (socket, randomness).
    #[error("local error: {0}")]
    Local(String),
}

/// Checks one answer against what we sent; `Ok` when it proves presence.
pub fn check_response(
    resp: &BeaconResponse,
    nonce: &[u8; 32],
    device_id: &[u8],
    public_key: &PublicKeyHex,
    expected_id: Option<&str>,
    max_age_ms: u32,
    now_ms: u64,
) -> Result<(), BeaconFailure> {
    let msg = signed_message(&resp.nonce, &resp.device_id, &resp.beacon_id, resp.time_ms);
    if !verify_signature(public_key, &msg, &resp.signature) {
        return Err(BeaconFailure::BadSignature);
    }
    if resp.nonce != *nonce {
        return Err(BeaconFailure::NonceMismatch);
    }
    let sent_id = &device_id[..device_id.len().min(MAX_ID_LEN)];
    if resp.device_id != sent_id {
        return Err(BeaconFailure::DeviceMismatch);
    }
    if let Some(id) = expected_id {
        if resp.beacon_id != id.as_bytes() {
            return Err(BeaconFailure::WrongBeacon(String::from_utf8_lossy(&resp.beacon_id).into_owned()));
        }
    }
    let skew = resp.time_ms as i128 - now_ms as i128;
    if skew.unsigned_abs() > u128::from(max_age_ms) {
        return Err(BeaconFailure::Stale {
            skew_ms: skew.clamp(i64::MIN as i128, i64::MAX as i128) as i64,
            max_ms: max_age_ms,
        });
    }
    Ok(())
}

/// Challenges the beacon of `req` with a fresh random nonce and checks the
/// answer. Invalid answers do not end the wait (an attacker cannot cut a
/// valid answer short by racing a bad one); the most telling failure is
/// reported when no valid answer comes in time.
pub fn probe(req: &BeaconReq, device_id: &str) -> Result<BeaconProof, BeaconFailure> {
    let mut nonce = [0u8; 32];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| BeaconFailure::Local("no randomness".into()))?;
    probe_with_nonce(req, device_id, nonce)
}

/// [`probe`] with a given nonce (tests).
pub fn probe_with_nonce(req: &BeaconReq, device_id: &str, nonce: [u8; 32]) -> Result<BeaconProof, BeaconFailure> {
    let bind: SocketAddr = if req.address.is_ipv4() {
        "0.0.0.0:0".parse().map_err(|_| BeaconFailure::Local("bind".into()))?
    } else {
        "[::]:0".parse().map_err(|_| BeaconFailure::Local("bind".into()))?
    };
    let socket = UdpSocket::bind(bind).map_err(|e| BeaconFailure::Local(e.to_string()))?;
    socket
        .connect(req.address)
        .map_err(|e| BeaconFailure::Unreachable(e.to_string()))?;
    let timeout = Duration::from_millis(u64::from(req.timeout_ms.max(1)));
    let start = Instant::now();
    socket
        .send(&encode_request(&nonce, device_id.as_bytes()))
        .map_err(|e| BeaconFailure::Unreachable(e.to_string()))?;
    let mut last_bad: Option<BeaconFailure> = None;
    let mut buf = [0u8; 1024];
    loop {
        let elapsed = start.elapsed();
        if elapsed >= timeout {
            return Err(last_bad.unwrap_or(BeaconFailure::Timeout(req.timeout_ms)));
        }
        socket
            .set_read_timeout(Some(timeout - elapsed))
            .map_err(|e| BeaconFailure::Local(e.to_string()))?;
        let n = match socket.recv(&mut buf) {
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut | std::io::ErrorKind::Interrupted
                ) =>
            {
                continue
            }
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                return Err(last_bad.unwrap_or(BeaconFailure::Unreachable("port closed (connection refused)".into())))
            }
            Err(e) => return Err(BeaconFailure::Unreachable(e.to_string())),
        };
        let rtt = start.elapsed();
        let Some(resp) = decode_response(&buf[..n]) else {
            last_bad = Some(BeaconFailure::Malformed);
            continue;
        };
        let now = unix_ms();
        match check_response(&resp, &nonce, device_id.as_bytes(), &req.public_key, req.id.as_deref(), req.max_age_ms, now) {
            Ok(()) => {
                return Ok(BeaconProof {
                    beacon_id: String::from_utf8_lossy(&resp.beacon_id).into_owned(),
                    rtt_us: rtt.as_micros() as u64,
                    clock_skew_ms: resp.time_ms as i64 - now as i64,
                    nonce: hex::encode(resp.nonce),
                    signature: hex::encode(resp.signature),
                    beacon_time_ms: resp.time_ms,
                })
            }
            // A stale answer to our own nonce is final: the beacon's clock is off.
            Err(e @ BeaconFailure::Stale { .. }) => return Err(e),
            Err(e) => last_bad = Some(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(addr: SocketAddr, key: &SigningKey) -> BeaconReq {
        BeaconReq {
            address: addr,
            public_key: key.public_key(),
            id: Some("beacon-test".into()),
            max_age_ms: 2000,
            timeout_ms: 300,
        }
    }

    #[test]
    fn wire_roundtrip_and_garbage() {
        let key = SigningKey::generate().unwrap();
        let r = answer(&key, b"b", [3; 32], b"dev".to_vec(), 42);
        assert_eq!(decode_response(&encode_response(&r)), Some(r));
        assert_eq!(decode_request(&encode_request(&[1; 32], b"dev")), Some(([1; 32], b"dev".to_vec())));
        for junk in [&b""[..], b"EKB1", b"EKB1\x01", &[0xff; 300], b"EKB1\x02xxxx"] {
            assert!(decode_request(junk).is_none());
            assert!(decode_response(junk).is_none());
        }
        let mut long = encode_request(&[1; 32], b"dev");
        long.push(0);
        assert!(decode_request(&long).is_none(), "trailing bytes");
    }

    #[test]
    fn real_beacon_on_loopback() {
        let key = SigningKey::generate().unwrap();
        let pk = SigningKey::from_pem(&key.to_pem()).unwrap();
        let server = BeaconServer::bind("127.0.0.1:0".parse().unwrap(), key, "beacon-test").unwrap();
        let addr = server.local_addr().unwrap();
        let handle = server.spawn();
        let proof = probe(&req(addr, &pk), "kiosk-1").unwrap();
        assert_eq!(proof.beacon_id, "beacon-test");
        assert!(proof.rtt_us < 300_000);
        // Wrong key in the policy.
        let other = SigningKey::generate().unwrap();
        assert_eq!(probe(&req(addr, &other), "kiosk-1"), Err(BeaconFailure::BadSignature));
        // Wrong beacon id.
        let mut r = req(addr, &pk);
        r.id = Some("beacon-other".into());
        assert_eq!(probe(&r, "kiosk-1"), Err(BeaconFailure::WrongBeacon("beacon-test".into())));
        drop(handle);
    }

    #[test]
    fn stale_beacon_clock() {
        let key = SigningKey::generate().unwrap();
        let pk = SigningKey::from_pem(&key.to_pem()).unwrap();
        let mut server = BeaconServer::bind("127.0.0.1:0".parse().unwrap(), key, "beacon-test").unwrap();
        server.time_offset_ms = -60_000;
        let addr = server.local_addr().unwrap();
        let _h = server.spawn();
        let e = probe(&req(addr, &pk), "kiosk-1").unwrap_err();
        assert!(matches!(e, BeaconFailure::Stale { max_ms: 2000, .. }), "{e}");
        assert!(e.to_string().starts_with("stale answer"));
    }

    #[test]
    fn replayed_answer_fails() {
        // A "beacon" that replays an answer it recorded earlier.
        let key = SigningKey::generate().unwrap();
        let recorded = answer(&key, b"beacon-test", [9; 32], b"kiosk-1".to_vec(), unix_ms());
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = sock.local_addr().unwrap();
        let t = std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            if let Ok((_, peer)) = sock.recv_from(&mut buf) {
                let _ = sock.send_to(&encode_response(&recorded), peer);
            }
        });
        assert_eq!(probe(&req(addr, &key), "kiosk-1"), Err(BeaconFailure::NonceMismatch));
        t.join().unwrap();
    }

    #[test]
    fn nobody_listening() {
        let key = SigningKey::generate().unwrap();
        // Bind and drop to get a closed port.
        let addr = UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let e = probe(&req(addr, &key), "kiosk-1").unwrap_err();
        assert!(matches!(e, BeaconFailure::Unreachable(_) | BeaconFailure::Timeout(_)), "{e}");
    }

    #[test]
    fn check_response_rules() {
        let key = SigningKey::generate().unwrap();
        let pk = key.public_key();
        let now = 1_000_000;
        let good = answer(&key, b"b", [1; 32], b"d".to_vec(), now);
        assert!(check_response(&good, &[1; 32], b"d", &pk, Some("b"), 100, now).is_ok());
        assert_eq!(check_response(&good, &[1; 32], b"x", &pk, None, 100, now), Err(BeaconFailure::DeviceMismatch));
        let mut bad = good.clone();
        bad.time_ms += 1;
        assert_eq!(check_response(&bad, &[1; 32], b"d", &pk, None, 100, now), Err(BeaconFailure::BadSignature));
        assert!(matches!(check_response(&good, &[1; 32], b"d", &pk, None, 100, now + 101), Err(BeaconFailure::Stale { skew_ms: -101, .. })));
    }
}
