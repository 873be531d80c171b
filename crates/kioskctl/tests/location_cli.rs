//! `kioskctl location probe` and `beacon` without root: loopback only.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn kioskctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kioskctl")).args(args).output().unwrap()
}

fn policies() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn demo_policy_is_approved_on_loopback() {
    let policy = policies().join("demo.toml");
    let o = kioskctl(&["location", "probe", "--policy", policy.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["decision"]["decision"], "approved");
    assert!(v["evidence"]["interfaces"]["ok"].is_array());
}

#[test]
fn room_code_once_and_rate_limited() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("room.secret"), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n").unwrap();
    let ca = policies().join("example-school-ca.pem");
    let policy = dir.path().join("p.toml");
    std::fs::write(
        &policy,
        format!(
            r#"version = 1
name = "room code test"
profile = "byod"
[hub]
url = "https://hub.example"
ca-file = "{}"
ca-sha256 = "a41e01a5be2641429a5be3c9aa22de6bccfc15a034273319c83a729333f5c541"
[[location]]
name = "R1"
evidence = [ {{ room-code = {{ room = "R1", secret = "file:room.secret", step-secs = 60 }} }} ]
"#,
            ca.display()
        ),
    )
    .unwrap();
    let state = dir.path().join("state.json");
    let probe = |code: &str| {
        kioskctl(&[
            "location", "probe", "--policy", policy.to_str().unwrap(), "--room-code", code,
            "--room-code-state", state.to_str().unwrap(), "--device-id", "kiosk-t",
        ])
    };
    let secret = kiosk_core::location::totp::base32_decode("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").unwrap();
    let now = kiosk_core::location::beacon::unix_ms() / 1000;
    let code = kiosk_core::location::totp::totp(&secret, exam_policy::TotpAlgorithm::Sha1, now, 60, 6);
    let o = probe(&code);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("APPROVED: location R1"));
    let o = probe(&code);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("already used"), "{}", text(&o));
    // Wrong codes until rate limited (the reuse above counted as one failure).
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..4 {
        let o = probe(wrong);
        assert_eq!(o.status.code(), Some(1));
        assert!(text(&o).contains("wrong or expired room code"), "{}", text(&o));
    }
    let o = probe(wrong);
    assert!(text(&o).contains("too many wrong room codes"), "{}", text(&o));
}

#[test]
fn beacon_serve_and_probe_on_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("b.key");
    assert_eq!(kioskctl(&["policy", "keygen", "--out", key.to_str().unwrap()]).status.code(), Some(0));
    let public = std::fs::read_to_string(dir.path().join("b.key.pub")).unwrap();
    let public = public.split_whitespace().next().unwrap().to_string();
    // Find a free port, then serve on it.
    let port = std::net::UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_kioskctl"))
        .args(["beacon", "serve", "--key", key.to_str().unwrap(), "--listen", &addr, "--id", "b1"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut ok = None;
    for _ in 0..50 {
        let o = kioskctl(&["beacon", "probe", "--address", &addr, "--public-key", &public, "--timeout-ms", "200"]);
        if o.status.code() == Some(0) {
            ok = Some(o);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let wrong = kioskctl(&["beacon", "probe", "--address", &addr, "--public-key", &"ab".repeat(32)]);
    let _ = child.kill();
    let _ = child.wait();
    assert!(text(&ok.expect("beacon never answered")).contains("b1 answered"));
    assert_eq!(wrong.status.code(), Some(1));
    assert!(text(&wrong).contains("bad signature"), "{}", text(&wrong));
}
