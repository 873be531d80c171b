//! The kiosk's core (no window) on a [`Stack`], for tests of what needs no
//! web view: it runs the real startup checklist, hub client and journal.

use exam_e2e::Stack;
use kiosk_core::kiosk::{Kiosk, KioskOptions};

/// Starts the kiosk core in DEMO mode (no display to clear a clipboard on;
/// login, download and instructions are the same), its guard watching only
/// the process tree of `scope` (an idle process of the test's own).
pub fn start(stack: &Stack, scope: u32) -> Kiosk {
    start_with_policy(stack, scope, &stack.policy)
}

/// [`start`] with another policy file (e.g. a BYOD one).
#[allow(dead_code)] // not every test file that starts a kiosk needs another policy
pub fn start_with_policy(stack: &Stack, scope: u32, policy: &std::path::Path) -> Kiosk {
    let options = KioskOptions {
        data_dir: stack.kiosk_data.clone(),
        policy: policy.to_owned(),
        key_store: stack.key_store.parse().unwrap(),
        demo: true,
        guard_scope: Some(kiosk_core::guard::Scope::Tree(scope)),
    };
    // The startup steps block (as in the shell, where they run before the async runtime).
    std::thread::spawn(move || Kiosk::start(options, Box::new(|_| {}))).join().unwrap()
}

/// Waits up to 30 s until `done` holds for the kiosk's view, and fails the
/// test naming `what` and the phase otherwise. With `sync`, every round runs
/// the background sync once (for a test that runs no sync task of its own).
#[allow(dead_code)] // not every test file that starts a kiosk waits on it
pub async fn wait_for(kiosk: &Kiosk, what: &str, sync: bool, done: impl Fn(&kiosk_core::kiosk::KioskView) -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let view = kiosk.view().await;
        if done(&view) {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "waited 30 s for {what}; phase {:?}", view.phase);
        if sync {
            kiosk.background_sync().await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(if sync { 100 } else { 50 })).await;
    }
}
