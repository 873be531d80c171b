//! The state every handler shares ([`Hub`]): storage, keys, the
//! instruments in memory, the instruction snapshot, rate limits and the
//! settings of hub.toml; and [`build`], which opens them. The router
//! (`crate::server`) and the handlers depend on this module; it depends on
//! none of them.

use crate::config;
use crate::db::Db;
use crate::instructions::Pending;
use crate::pki::Keys;
use crate::ratelimit::RateLimiter;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::sync::{watch, Notify};

/// What the TLS layer established about a connection.
#[derive(Debug, Clone)]
pub struct ConnInfo {
    /// The peer's address as the hub sees it.
    pub remote: SocketAddr,
    /// SHA-256 (hex) of the verified client certificate, if one was presented.
    pub client_cert_sha256: Option<String>,
}

/// An instrument held in memory for fast ranged delivery.
#[derive(Debug)]
pub struct CachedInstrument {
    /// SHA-256 of the bytes, hex.
    pub sha256: String,
    /// The package bytes (shared; ranges are zero-copy slices).
    pub bytes: axum::body::Bytes,
}

/// Everything handlers share.
#[derive(Debug)]
pub struct Hub {
    /// Storage.
    pub db: Db,
    /// Keys and TLS configuration.
    pub keys: Keys,
    /// Instruments loaded so far, by id.
    pub instruments: Mutex<HashMap<String, Arc<CachedInstrument>>>,
    /// The latest snapshot of unacknowledged instructions.
    pub pending: watch::Receiver<Arc<Pending>>,
    /// Wakes the instruction poller early (after an acknowledgement).
    pub poll_now: Arc<Notify>,
    /// Journal batches processed at once; the others wait with their bodies
    /// unread, which bounds memory and keeps the cores busy with verification.
    pub journal_slots: Arc<tokio::sync::Semaphore>,
    /// Requests per device.
    pub device_requests: RateLimiter<String>,
    /// Login attempts per device.
    pub device_logins: RateLimiter<String>,
    /// `sitting-grace-minutes` of hub.toml, ms (the default without the file).
    pub sitting_grace_ms: i64,
    /// `accept-test-kiosks` of hub.toml (`false` without the file).
    pub accept_test_kiosks: bool,
}

/// Opens the database and keys of `data_dir` and builds the shared state,
/// starting the instruction poller.
pub async fn build(data_dir: &std::path::Path, database_url: &str) -> anyhow::Result<Arc<Hub>> {
    let mut keys = Keys::load(data_dir)?;
    let db = Db::connect(database_url).await?;
    crate::secrets::prepare(&db, &mut keys).await?;
    let (tx, rx) = watch::channel(Arc::new(Pending::default()));
    let poll_now = Arc::new(Notify::new());
    tokio::spawn(crate::instructions::poller(db.clone(), tx, poll_now.clone()));
    let journal_slots = Arc::new(tokio::sync::Semaphore::new(config::JOURNAL_CONCURRENCY));
    let limiter = |limit| RateLimiter::new(limit, config::DEVICE_RATE_WINDOW_MS, config::RATE_LIMITER_CAPACITY);
    let config = config::Config::load(data_dir).ok();
    Ok(Arc::new(Hub {
        db,
        keys,
        instruments: Mutex::new(HashMap::new()),
        pending: rx,
        poll_now,
        journal_slots,
        device_requests: limiter(config::DEVICE_REQUESTS_PER_WINDOW),
        device_logins: limiter(config::DEVICE_LOGINS_PER_WINDOW),
        // `serve` read hub.toml before (and stops on an invalid one).
        sitting_grace_ms: config
            .as_ref()
            .map_or(i64::from(config::DEFAULT_SITTING_GRACE_MINUTES) * 60_000, config::Config::sitting_grace_ms),
        accept_test_kiosks: config.as_ref().is_some_and(|c| c.accept_test_kiosks),
    }))
}

