//! `kioskctl guard watch` end to end: offenders are ended and journalled; a
//! process the guard may not end leads to a lock request in the journal; an
//! allow-list is never enforced on the invoking user's own session.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const NOBODY: u32 = 65534;

fn kioskctl() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kioskctl"))
}

fn policy(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../policies").join(name)
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0).unwrap_or(false)
}

/// A shell whose child is the offender.
struct Offenders {
    parent: Child,
}

impl Offenders {
    /// Starts `name` (a copy of sleep) as a child of a fresh shell.
    fn start(dir: &Path, name: &str) -> (Self, u32) {
        let exe = dir.join(name);
        std::fs::copy("/bin/sleep", &exe).unwrap();
        let parent = Command::new("/bin/sh")
            .arg("-c")
            .arg(format!("'{}' 300 & echo $!; wait", exe.display()))
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut offenders = Self { parent };
        let mut line = String::new();
        use std::io::BufRead as _;
        std::io::BufReader::new(offenders.parent.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
        let pid: u32 = line.trim().parse().unwrap();
        (offenders, pid)
    }

    fn root(&self) -> u32 {
        self.parent.id()
    }
}

impl Drop for Offenders {
    fn drop(&mut self) {
        let _ = Command::new("pkill").arg("-KILL").arg("-P").arg(self.parent.id().to_string()).status();
        let _ = self.parent.kill();
        let _ = self.parent.wait();
    }
}

fn alive(pid: u32) -> bool {
    // A zombie (ended, not yet reaped by its parent) counts as gone.
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'))
}

fn journal_kinds(dir: &Path) -> Vec<String> {
    let out = kioskctl().args(["journal", "show", "--json"]).arg(dir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["kind"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn watch_ends_an_offender_and_journals_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (offenders, pid) = Offenders::start(tmp.path(), "AnyDesk");
    let store = format!("file:{}", tmp.path().join("key").display());
    assert!(kioskctl().args(["device", "init", "--store", &store]).status().unwrap().success());
    let journal = tmp.path().join("journal");
    let started = Instant::now();
    let status = kioskctl()
        .args(["guard", "watch", "--policy"])
        .arg(policy("byod.toml"))
        .arg("--journal")
        .arg(&journal)
        .args(["--store", &store, "--scope", &format!("tree:{}", offenders.root()), "--enforce", "--duration", "1"])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(!alive(pid), "the offender must be gone");
    assert!(started.elapsed() < Duration::from_secs(10));
    let kinds = journal_kinds(&journal);
    assert!(kinds.contains(&"guard.started".into()) && kinds.contains(&"guard.stopped".into()), "{kinds:?}");
    assert!(kinds.contains(&"guard.process_ended".into()), "{kinds:?}");
    assert!(kioskctl().args(["journal", "verify"]).arg(&journal).status().unwrap().success());
}

#[test]
fn a_process_the_guard_cannot_end_requests_a_lock() {
    if !is_root() {
        eprintln!("SKIPPED: needs root (runs the guard as nobody against a root-owned offender)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let work = tmp.path().join("nobody");
    std::fs::create_dir(&work).unwrap();
    std::os::unix::fs::chown(&work, Some(NOBODY), Some(NOBODY)).unwrap();
    let (offenders, pid) = Offenders::start(tmp.path(), "AnyDesk");
    let as_nobody = |args: &[&str]| {
        let mut cmd = Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"]).arg(env!("CARGO_BIN_EXE_kioskctl")).args(args);
        cmd
    };
    let store = format!("file:{}", work.join("key").display());
    let journal = work.join("journal");
    assert!(as_nobody(&["device", "init", "--store", &store]).status().unwrap().success());
    let scope = format!("tree:{}", offenders.root());
    let policy = policy("byod.toml");
    let journal_arg = journal.display().to_string();
    let status = as_nobody(&[
        "guard", "watch", "--policy", policy.to_str().unwrap(), "--journal", &journal_arg, "--store", &store,
        "--scope", &scope, "--enforce", "--duration", "3",
    ])
    .status()
    .unwrap();
    assert!(status.success());
    assert!(alive(pid), "nobody cannot end root's process");
    let kinds = journal_kinds(&journal);
    let not_ended = kinds.iter().filter(|k| *k == "guard.process_not_ended").count();
    assert_eq!(not_ended, 1, "reported once, not at every sweep: {kinds:?}");
    assert!(kinds.contains(&"session.lock_requested".into()), "{kinds:?}");
}

#[test]
fn an_allow_list_is_never_enforced_on_the_invoking_users_session() {
    refused_on_own_session("school-pc.toml");
}

/// The byod policy ends unlisted display clients by behaviour: enforced on
/// one's own session it would end the developer's desktop programs.
#[test]
fn display_client_rules_are_never_enforced_on_the_invoking_users_session() {
    refused_on_own_session("byod.toml");
}

fn refused_on_own_session(policy_file: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let store = format!("file:{}", tmp.path().join("key").display());
    assert!(kioskctl().args(["device", "init", "--store", &store]).status().unwrap().success());
    let uid = std::fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m)).unwrap();
    let out = kioskctl()
        .args(["guard", "watch", "--policy"])
        .arg(policy(policy_file))
        .arg("--journal")
        .arg(tmp.path().join("journal"))
        .args(["--store", &store, "--scope", &format!("user:{uid}"), "--enforce", "--duration", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("refusing"), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!tmp.path().join("journal").exists(), "nothing may be journalled or ended");
}

#[test]
fn scan_and_env_report_without_acting() {
    let out = kioskctl().args(["guard", "scan", "--json", "--policy"]).arg(policy("byod.toml")).output().unwrap();
    assert!(out.status.success());
    let _: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let out = kioskctl().args(["guard", "env", "--json", "--policy"]).arg(policy("byod.toml")).output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["findings"].as_array().unwrap().len(), 4);
    let bad = kioskctl().args(["guard", "scan", "--policy", "/nonexistent.toml"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn a_closed_stdout_never_keeps_an_event_out_of_the_journal() {
    let tmp = tempfile::tempdir().unwrap();
    let (offenders, pid) = Offenders::start(tmp.path(), "AnyDesk");
    let store = format!("file:{}", tmp.path().join("key").display());
    assert!(kioskctl().args(["device", "init", "--store", &store]).status().unwrap().success());
    let journal = tmp.path().join("journal");
    let mut child = kioskctl()
        .args(["guard", "watch", "--policy"])
        .arg(policy("byod.toml"))
        .arg("--journal")
        .arg(&journal)
        .args(["--store", &store, "--scope", &format!("tree:{}", offenders.root()), "--enforce", "--duration", "5"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The reader is gone before the guard prints anything (`| head -0`).
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!alive(pid), "the offender must be gone");
    let kinds = journal_kinds(&journal);
    assert!(kinds.contains(&"guard.process_ended".into()), "the event is journalled although it could not be printed: {kinds:?}");
    assert!(kinds.contains(&"guard.stopped".into()), "{kinds:?}");
    assert_eq!(kinds.last().map(String::as_str), Some("journal.checkpoint"), "closed with a checkpoint: {kinds:?}");
    assert!(kioskctl().args(["journal", "verify"]).arg(&journal).status().unwrap().success());
}
