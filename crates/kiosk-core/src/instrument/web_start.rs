//! Starting a web instrument in the kiosk: the hub's session nonce for the
//! sitting, the kiosk's build and policy hashes, and the [`WebProxy`] the
//! shell's `examweb:` handler uses, kept in a [`WebSlot`] the shell can read
//! without waiting for the kiosk's other work.

use super::running::{OpenedInstrument, RunningInstrument};
use super::web_proxy::{ExamKeyContext, WebProxy};
use crate::hub::HubClient;
use std::path::Path;
use std::sync::{Arc, OnceLock, RwLock};

/// The running web instrument's proxy, if any.
pub type WebSlot = Arc<RwLock<Option<Arc<WebProxy>>>>;

/// `kind` of a started web instrument's render model (what the UI sees).
pub const WEB_KIND: &str = "web";

/// SHA-256 (hex) of the running kiosk executable, computed once.
pub fn build_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        std::env::current_exe()
            .and_then(std::fs::read)
            .map(|bytes| hex::encode(ring::digest::digest(&ring::digest::SHA256, &bytes)))
            .unwrap_or_default()
    })
}

/// SHA-256 (hex) of the policy file as signed and loaded.
pub fn policy_hash(path: &Path) -> String {
    std::fs::read(path).map(|bytes| hex::encode(ring::digest::digest(&ring::digest::SHA256, &bytes))).unwrap_or_default()
}

/// Passes a QTI test through (and empties the slot); for a web instrument
/// gets the sitting's session nonce from the hub, builds the proxy, puts it
/// in `slot` and returns what the UI shows.
pub async fn open(opened: OpenedInstrument, hub: &HubClient, policy_hash: &str, slot: &WebSlot) -> Result<RunningInstrument, String> {
    let web = match opened {
        OpenedInstrument::Qti(running) => {
            close(slot);
            return Ok(running);
        }
        OpenedInstrument::Web(web) => web,
    };
    let session = hub.web_session().await.map_err(|e| e.to_string())?;
    let session_nonce = hex::decode(&session.session_nonce).map_err(|_| "the hub's session nonce is not hex".to_string())?;
    let keys = ExamKeyContext { build_hash: build_hash().to_string(), policy_hash: policy_hash.to_string(), session_nonce };
    let proxy = WebProxy::new(web, keys).map_err(|e| e.to_string())?;
    let running = RunningInstrument::Web { title: proxy.instrument().title.clone(), url: proxy.start_url(), origins: proxy.kiosk_origins() };
    *slot.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(proxy));
    Ok(running)
}

/// Ends the web instrument (after hand-in): the shell's handler refuses from now on.
pub fn close(slot: &WebSlot) {
    *slot.write().unwrap_or_else(|p| p.into_inner()) = None;
}

/// The running proxy.
pub fn current(slot: &WebSlot) -> Option<Arc<WebProxy>> {
    slot.read().unwrap_or_else(|p| p.into_inner()).clone()
}
