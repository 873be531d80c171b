//! The kiosk's startup checklist against real files: a failing step is
//! named, the steps before it are undone in reverse, and the journal holds
//! what happened.

use exam_journal::{read_records, verify_journal, KeyStore, VerifyOptions};
use kiosk_core::kiosk::{Kiosk, KioskOptions};
use kiosk_core::session::Phase;
use std::path::PathBuf;

fn demo_policy() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../policies/demo.toml")
}

#[tokio::test]
async fn without_an_enrolment_startup_stops_at_the_hub_and_reverts() {
    let tmp = tempfile::tempdir().unwrap();
    let store = KeyStore::File(tmp.path().join("device.key"));
    store.create().unwrap();
    let options = KioskOptions {
        data_dir: tmp.path().join("data"),
        policy: demo_policy(),
        key_store: store,
        demo: true,
        guard_scope: Some(kiosk_core::guard::Scope::Tree(std::process::id())),
    };
    let kiosk = Kiosk::start(options, Box::new(|_| {}));
    let view = kiosk.view().await;
    let failure = view.startup_failure.expect("startup must fail without a hub enrolment");
    assert_eq!(failure.step, "examenserver bereikt");
    let undone: Vec<String> = failure
        .reverted
        .iter()
        .filter_map(|e| match e {
            kiosk_core::session::checklist::StepEvent::Reverted { step, error: None } => Some(step.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(undone, ["procesbewaking gestart", "logboek geopend"], "reverted last first");
    assert_eq!(view.phase, Phase::Boot, "a failed startup shows the failure, not a phase");
    assert!(view.startup.iter().any(|s| s.step == "examenserver bereikt" && s.state == "failed"));
    // The shell still reports (a refused close, a focus change) after the
    // steps were undone; the journal must still end with its closing checkpoint.
    kiosk.record(kiosk_core::events::KioskEvent::KioskCloseRefused(Default::default())).await;
    kiosk.shutdown().await;
    let journal = tmp.path().join("data/journal");
    verify_journal(&journal, &VerifyOptions::default()).unwrap();
    let kinds: Vec<String> = read_records(&journal).unwrap().into_iter().map(|(_, r)| r.body.kind).collect();
    assert_eq!(kinds.last().map(String::as_str), Some("journal.checkpoint"), "the journal ends with a checkpoint: {kinds:?}");
    assert!(kinds.iter().any(|k| k == "environment.checked"), "{kinds:?}");
    assert!(kinds.iter().any(|k| k == "location.approved"), "{kinds:?}");
    assert!(kinds.iter().any(|k| k == "journal.checkpoint"), "reverting the journal step leaves a checkpoint: {kinds:?}");
}

#[tokio::test]
async fn a_policy_with_a_typo_fails_the_first_step_with_its_place() {
    let tmp = tempfile::tempdir().unwrap();
    let policy = tmp.path().join("policy.toml");
    std::fs::write(&policy, "version = 1\nname = \"x\"\nprofile = \"school-pc\"\nhubb = 1\n").unwrap();
    let options = KioskOptions {
        data_dir: tmp.path().join("data"),
        policy: policy.clone(),
        key_store: KeyStore::File(tmp.path().join("missing.key")),
        demo: true,
        guard_scope: None,
    };
    let kiosk = Kiosk::start(options, Box::new(|_| {}));
    let failure = kiosk.view().await.startup_failure.unwrap();
    assert_eq!(failure.step, "beleid gecontroleerd");
    assert!(failure.reason.contains("policy.toml:4:1"), "{}", failure.reason);
    assert!(!tmp.path().join("data").exists(), "nothing was created");
}
