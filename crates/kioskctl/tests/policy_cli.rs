//! `kioskctl policy ...` end to end: exit codes, messages, sign/verify.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn kioskctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kioskctl")).args(args).output().unwrap()
}

fn policies() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies")
}

fn p(name: &str) -> String {
    policies().join(name).display().to_string()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn shipped_policies_pass_check() {
    let o = kioskctl(&["policy", "check", &p("school-pc.toml"), &p("byod.toml"), &p("demo.toml"), &p("default-deny.toml")]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout).matches(": ok: ").count(), 4);
}

#[test]
fn invalid_policy_exit_1_with_place() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    let src = std::fs::read_to_string(policies().join("demo.toml")).unwrap();
    std::fs::write(&bad, src.replace("max-displays = 1", "max-displays = 1\nmax-dispalys = 2")).unwrap();
    std::fs::copy(policies().join("example-school-ca.pem"), dir.path().join("example-school-ca.pem")).unwrap();
    std::fs::copy(policies().join("demo-room.secret"), dir.path().join("demo-room.secret")).unwrap();
    let o = kioskctl(&["policy", "check", &p("demo.toml"), bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let line = src.lines().position(|l| l == "max-displays = 1").unwrap() + 2;
    let expected = format!("{}:{line}:1: unknown field `max-dispalys`", bad.display());
    assert!(text(&o).contains(&expected), "{}\nexpected {expected}", text(&o));
    // Unreadable file: exit 2.
    let o = kioskctl(&["policy", "check", "/nonexistent/policy.toml"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn schema_matches_checked_in_file() {
    let o = kioskctl(&["policy", "schema"]);
    assert_eq!(o.status.code(), Some(0));
    let file = std::fs::read(policies().join("policy.schema.json")).unwrap();
    assert!(o.stdout == file, "stale schema; run: cargo run -p kioskctl -- policy schema > policies/policy.schema.json");
}

#[test]
fn keygen_sign_verify_tamper() {
    let dir = tempfile::tempdir().unwrap();
    let d = |n: &str| dir.path().join(n).display().to_string();
    for f in ["demo.toml", "example-school-ca.pem", "demo-room.secret"] {
        std::fs::copy(policies().join(f), dir.path().join(f)).unwrap();
    }
    let o = kioskctl(&["policy", "keygen", "--out", &d("committee.key")]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(d("committee.key")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // No silent overwrite.
    assert_eq!(kioskctl(&["policy", "keygen", "--out", &d("committee.key")]).status.code(), Some(2));
    let o = kioskctl(&["policy", "sign", &d("demo.toml"), "--key", &d("committee.key")]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let bundle = d("demo.bundle");
    // The .pub file doubles as a trust file.
    let o = kioskctl(&["policy", "verify", &bundle, "--trust", &d("committee.key.pub")]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("signature OK"));
    let o = kioskctl(&["policy", "check", "--trust", &d("committee.key.pub"), &bundle]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // Tampered.
    let b = std::fs::read_to_string(&bundle).unwrap();
    std::fs::write(&bundle, b.replace("vm = \"allow\"", "vm = \"warn\"")).unwrap();
    let o = kioskctl(&["policy", "verify", &bundle, "--trust", &d("committee.key.pub")]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("BAD SIGNATURE"), "{}", text(&o));
    // Another key.
    assert_eq!(kioskctl(&["policy", "keygen", "--out", &d("other.key")]).status.code(), Some(0));
    std::fs::write(&bundle, &b).unwrap();
    let o = kioskctl(&["policy", "verify", &bundle, "--trust", &d("other.key.pub")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("not a trusted policy key"), "{}", text(&o));
    // Unsigned policy where a signed one is required.
    let o = kioskctl(&["policy", "verify", &d("demo.toml"), "--trust", &d("committee.key.pub")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("not a signed policy bundle"), "{}", text(&o));
    let o = kioskctl(&["location", "probe", "--policy", &d("demo.toml"), "--trust", &d("committee.key.pub")]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    // An invalid policy is not signed.
    std::fs::write(d("bad.toml"), "version = 1\n").unwrap();
    let o = kioskctl(&["policy", "sign", &d("bad.toml"), "--key", &d("committee.key")]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
}
