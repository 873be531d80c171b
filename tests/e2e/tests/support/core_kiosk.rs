//! The kiosk's core (no window) on a [`Stack`], for tests of what needs no
//! web view: it runs the real startup checklist, hub client and journal.

use exam_e2e::Stack;
use kiosk_core::kiosk::{Kiosk, KioskOptions};

/// Starts the kiosk core in DEMO mode (no display to clear a clipboard on;
/// login, download and instructions are the same), its guard watching only
/// the process tree of `scope` (an idle process of the test's own).
pub fn start(stack: &Stack, scope: u32) -> Kiosk {
    let options = KioskOptions {
        data_dir: stack.kiosk_data.clone(),
        policy: stack.policy.clone(),
        key_store: stack.key_store.parse().unwrap(),
        demo: true,
        guard_scope: Some(kiosk_core::guard::Scope::Tree(scope)),
    };
    // The startup steps block (as in the shell, where they run before the async runtime).
    std::thread::spawn(move || Kiosk::start(options, Box::new(|_| {}))).join().unwrap()
}
