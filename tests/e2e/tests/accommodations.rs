//! A student's granted tools reach the kiosk's process guard (found by an
//! independent review: the kiosk started its guard with no accommodations
//! and never gave it the student's, so a granted screen reader was ended
//! like any denied program). The kiosk core (no window) against the real
//! hub: the policy denies a tool for everyone and allows it for students
//! granted `read-aloud`, as Anna (1001) is in the planning. Before her
//! login a copy of the tool and a copy of a denied program start under the
//! guard's scope: both are reported (the deny rule works); after her login
//! both start again: the denied one is reported, her tool is not.

use exam_e2e::{steps, Stack};
use kiosk_core::kiosk::{Kiosk, KioskOptions};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// A process group of the test's own, ended whole when dropped.
struct Group(Child);

impl Drop for Group {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", self.0.id())]).status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A shell (the guard's scope) that starts the two programs once `go1`
/// exists, and again once `go2` exists.
fn scope_root(dir: &Path) -> Group {
    for name in ["voorlees-hulp", "verboden-hulp"] {
        std::fs::copy("/bin/sleep", dir.join(name)).unwrap();
    }
    let d = dir.display();
    let script = format!(
        "for go in go1 go2; do while [ ! -e '{d}/'$go ]; do sleep 0.05; done; '{d}/voorlees-hulp' 3600 & '{d}/verboden-hulp' 3600 & done; wait"
    );
    Group(Command::new("sh").arg("-c").arg(script).process_group(0).spawn().unwrap())
}

fn policy_with_tool(stack: &Stack) -> PathBuf {
    let mut text = std::fs::read_to_string(&stack.policy).unwrap();
    text.push_str(
        "\n[[processes.deny]]\nname = \"voorlees-hulp\"\ncategory = \"assistive\"\n\
         \n[[processes.deny]]\nname = \"verboden-hulp\"\ncategory = \"remote-control\"\n\
         \n[[processes.accommodation]]\nid = \"read-aloud\"\ndescription = \"Voorleessoftware\"\n\
         allow = [{ name = \"voorlees-hulp\", category = \"assistive\" }]\n",
    );
    let path = stack.dir.join("policy-with-tool.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Creates `go` and returns the names the guard reported from record
/// `from` on, once it reported the denied program.
async fn reported_after(journal: &Path, from: usize, go: &Path) -> Vec<String> {
    std::fs::write(go, b"").unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let records = steps::journal_records(journal).unwrap();
        let names: Vec<String> = records[from..]
            .iter()
            .filter(|r| r["kind"].as_str().is_some_and(|k| k.starts_with("guard.process_")))
            .filter_map(|r| r["payload"]["name"].as_str().map(str::to_owned))
            .collect();
        if names.iter().any(|n| n == "verboden-hulp") {
            return names;
        }
        assert!(Instant::now() < deadline, "the denied program was never reported: {names:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The kiosk core (DEMO mode) on `stack` with [`policy_with_tool`], its
/// guard watching only `root`'s process tree; startup must succeed.
fn start_kiosk(stack: &Stack, root: &Group) -> Kiosk {
    let options = KioskOptions {
        data_dir: stack.kiosk_data.clone(),
        policy: policy_with_tool(stack),
        key_store: stack.key_store.parse().unwrap(),
        demo: true,
        guard_scope: Some(kiosk_core::guard::Scope::Tree(root.0.id())),
    };
    std::thread::spawn(move || Kiosk::start(options, Box::new(|_| {}))).join().unwrap()
}

/// Waits (30 s at most) until the tool `voorlees-hulp` is among what the
/// guard reported from record `from` on, `go` starting the programs again
/// as long as it is not; fails saying `why` otherwise.
async fn tool_reported(journal: &Path, from: usize, go: &Path, why: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let reported = reported_after(journal, from, go).await;
        if reported.iter().any(|n| n == "voorlees-hulp") {
            return;
        }
        assert!(Instant::now() < deadline, "{why}: {reported:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_students_granted_tool_is_allowed_by_the_kiosks_guard() {
    let tmp = tempfile::tempdir().unwrap();
    let stack = Stack::start(tmp.path()).unwrap();
    let work = tempfile::tempdir().unwrap();
    let root = scope_root(work.path());
    let kiosk = start_kiosk(&stack, &root);
    let view = kiosk.view().await;
    assert!(view.startup_failure.is_none(), "{:?}", view.startup_failure);
    let journal = stack.kiosk_data.join("journal");

    // Before the login: the tool is denied like the other program.
    tool_reported(&journal, 0, &work.path().join("go1"), "the tool is denied for a student not (yet) granted it").await;

    // Anna logs in (granted read-aloud): her tool may run.
    let anna = stack.students[0].clone();
    kiosk.login(&anna.number, &anna.code, None).await.unwrap();
    let records = steps::journal_records(&journal).unwrap();
    let grant = records.iter().find(|r| r["kind"] == "guard.accommodations_granted").expect("the grant is journalled");
    assert_eq!(grant["payload"]["tools"], serde_json::json!(["read-aloud"]));
    let from = records.len();
    let after = reported_after(&journal, from, &work.path().join("go2")).await;
    assert!(!after.iter().any(|n| n == "voorlees-hulp"), "Anna is granted read-aloud, yet her tool was reported: {after:?}");
    kiosk.shutdown().await;
    drop(root);
}

/// Issue 19: an instrument packed with `--tool voorlezen` gives everyone
/// read-aloud. Bram (1002) has no accommodation: once his exam starts, the
/// guard is granted `kiosk-read-aloud` (the kiosk's own engine: without it
/// the guard would end espeak-ng and lock him out; policy.rs checks what it
/// allows), and the kiosk speaks for him — but not the accommodation's
/// third-party readers (here a copy of a tool the policy allows only with
/// `read-aloud`): it is still reported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_instruments_read_aloud_reaches_the_guard_and_the_kiosk() {
    let tmp = tempfile::tempdir().unwrap();
    let stack = Stack::start(tmp.path()).unwrap();
    // The sitting's instrument again, now giving everyone read-aloud.
    stack.repack_instrument(&["--tool", "voorlezen"]).unwrap();

    let work = tempfile::tempdir().unwrap();
    let root = scope_root(work.path());
    let kiosk = start_kiosk(&stack, &root);
    let journal = stack.kiosk_data.join("journal");
    let bram = stack.students.iter().find(|s| s.number == "1002").expect("1002 is planned").clone();
    kiosk.login(&bram.number, &bram.code, None).await.unwrap();
    // Not yet: his assignment grants nothing; the tool is reported.
    tool_reported(&journal, 0, &work.path().join("go1"), "the tool is denied before the exam's grant").await;
    let refused = kiosk.read_aloud("Nog niet.", "nl", 175).await.expect_err("not before the exam");
    assert!(refused.message.contains("alleen tijdens het examen"), "{}", refused.message);
    kiosk.confirm_assignment().await.unwrap();
    let view = kiosk.start_exam().await.unwrap();
    assert!(view.tools.read_aloud, "the view grants read-aloud from the instrument");
    let records = steps::journal_records(&journal).unwrap();
    let grant = records.iter().rev().find(|r| r["kind"] == "guard.accommodations_granted").expect("the instrument's grant is journalled");
    assert_eq!(grant["payload"]["tools"], serde_json::json!(["kiosk-read-aloud"]));
    let from = records.len();
    tool_reported(&journal, from, &work.path().join("go2"), "the accommodation's reader is still denied with only the instrument's grant").await;
    // And the kiosk speaks for him (espeak-ng, as cargo xtask installs it).
    let spoken = kiosk.read_aloud("De kassa geeft een bon.", "nl", 175).await.unwrap();
    assert!(spoken.audio.starts_with("data:audio/wav;base64,") && spoken.audio.len() > 10_000, "{} bytes", spoken.audio.len());
    assert_eq!(spoken.weights.map(|w| w.len()), Some(5), "a weight per word for the caption");
    kiosk.shutdown().await;
    drop(root);
}
