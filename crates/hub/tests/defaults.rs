//! Safe defaults (issue 17), against the real `exam-hub` binary: `init`
//! without `--listen` makes a hub that listens on this machine only (it
//! listened on every interface), the generated hub.toml shows the settings
//! left at their default — `retention-days` above all: without the line
//! nobody noticed that nothing is ever deleted — and still parses; log
//! lines written to a file carry no terminal colour codes; a password typed
//! at a terminal is not shown.
#![allow(missing_docs)]

mod common;

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn init_listens_on_this_machine_only_and_shows_the_defaults() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("hub");
    let out = Command::new(common::exe()).args(["init", "--data"]).arg(&data).args(["--name", "hub.example"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("127.0.0.1:8443 (this machine only"), "{said}");
    let config = exam_hub::config::Config::load(&data).unwrap();
    assert_eq!(config.listen, "127.0.0.1:8443");
    assert!(config.retention_days.is_none());
    let text = std::fs::read_to_string(data.join("hub.toml")).unwrap();
    assert!(text.contains("# retention-days = 365"), "{text}");
    assert!(text.contains("nothing is ever deleted"), "{text}");
    assert!(text.contains("# sitting-grace-minutes = 15"), "{text}");
}

#[test]
fn log_lines_in_a_file_have_no_colour_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("hub");
    let init = Command::new(common::exe()).args(["init", "--data"]).arg(&data).args(["--listen", "127.0.0.1:0"]).output().unwrap();
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    // stderr is a pipe here, as it is a file or the service journal in use.
    let mut serve = Child(
        Command::new(common::exe())
            .args(["serve", "--data"])
            .arg(&data)
            .env("EXAM_HUB_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let stderr = serve.0.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let serving = loop {
        let line = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())).expect("a 'serving' log line");
        if line.contains("serving") {
            break line;
        }
    };
    assert!(!serving.contains('\u{1b}'), "a colour code in the log: {serving:?}");
    assert!(serving.contains("INFO"), "{serving:?}");
}

/// Ends the hub the test started, however the test ends.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn enrol_tokens_for_a_room_at_once_with_the_real_address() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("hub");
    let init = Command::new(common::exe())
        .args(["init", "--data"])
        .arg(&data)
        .args(["--name", "hub.roc-voorbeeld.nl", "--listen", "10.20.0.5:8443"])
        .output()
        .unwrap();
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    let out = Command::new(common::exe()).args(["enrol-token", "--room", "B1.12", "--count", "24", "--data"]).arg(&data).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let tokens: Vec<String> = String::from_utf8(out.stdout).unwrap().lines().map(str::to_owned).collect();
    assert_eq!(tokens.len(), 24);
    let mut unique = tokens.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 24, "every PC its own token");
    let hint = String::from_utf8(out.stderr).unwrap();
    assert!(hint.contains("--hub https://hub.roc-voorbeeld.nl:8443 "), "{hint}");
    assert!(!hint.contains("HUB:PORT"), "{hint}");
    for token in &tokens {
        assert!(hint.contains(token.as_str()), "{hint}");
    }
    let refused = Command::new(common::exe()).args(["enrol-token", "--room", "B1.12", "--count", "0", "--data"]).arg(&data).output().unwrap();
    assert!(!refused.status.success());
}

#[test]
fn a_backup_into_a_missing_directory_says_so_once() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("hub");
    let init = Command::new(common::exe()).args(["init", "--data"]).arg(&data).output().unwrap();
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    let out = Command::new(common::exe()).args(["backup", "--data"]).arg(&data).arg("--out").arg(tmp.path().join("nope/backup.db")).output().unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("does not exist"), "{said}");
    assert!(!said.contains("unable to open database"), "{said}");
    assert_eq!(said.matches("nope").count(), 1, "one clear error: {said}");
}

/// Issue 17: `account add` showed the password as it was typed at a
/// terminal. Now it asks for it without echo: through a real terminal
/// (util-linux `script` gives the command a pseudo-terminal, whose line
/// discipline echoes what is typed unless the program turns that off),
/// the password typed after the prompt is nowhere in what the terminal
/// shows, and the account is made.
#[test]
fn a_password_typed_at_a_terminal_is_not_shown() {
    const PASSWORD: &str = "geheim-wachtwoord-voor-bureau-2026";
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("hub");
    let init = Command::new(common::exe()).args(["init", "--data"]).arg(&data).args(["--listen", "127.0.0.1:0"]).output().unwrap();
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let command = format!(
        "{} account add --username bureau --name Bureau --role admin --data {}",
        quote(common::exe()),
        quote(&data.display().to_string())
    );
    let mut child = Child(
        Command::new("script")
            .args(["--quiet", "--return", "--command", &command, "/dev/null"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("script (util-linux) runs the command at a terminal"),
    );
    let mut stdout = child.0.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut chunk = [0u8; 256];
        while let Ok(n) = std::io::Read::read(&mut stdout, &mut chunk) {
            if n == 0 || tx.send(chunk[..n].to_vec()).is_err() {
                return;
            }
        }
    });
    // Typed only once the prompt is there (what arrives before it would be
    // echoed by any terminal); without a prompt the password is typed after 10 s.
    let mut shown = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !String::from_utf8_lossy(&shown).contains("password for bureau") {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(bytes) => shown.extend(bytes),
            Err(_) => break,
        }
    }
    let mut stdin = child.0.stdin.take().unwrap();
    std::io::Write::write_all(&mut stdin, format!("{PASSWORD}\n").as_bytes()).unwrap();
    let status = child.0.wait().unwrap();
    drop(stdin);
    while let Ok(bytes) = rx.recv_timeout(Duration::from_secs(5)) {
        shown.extend(bytes);
    }
    let shown = String::from_utf8_lossy(&shown);
    assert!(status.success(), "account add at a terminal: {shown}");
    assert!(shown.contains("password for bureau"), "the password is asked for: {shown:?}");
    assert!(!shown.contains(PASSWORD), "the typed password is shown: {shown:?}");
}
