//! The real helper binary on a scratch socket: it serves the kiosk's uid,
//! refuses other peers (a real foreign uid via `setpriv` when run as root)
//! and malformed or oversized requests, logs every refusal, ends exactly the
//! process it is asked to (pid + start time), and works SysRq and DMI on
//! scratch files — never on this machine's real ones.

#![cfg(target_os = "linux")]

use exam_privhelper::client::{send, send_raw};
use exam_privhelper::protocol::{Request, MAX_REQUEST_BYTES};
use exam_privhelper::process::start_ticks;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const HELPER: &str = env!("CARGO_BIN_EXE_exam-kiosk-helper");
/// `nobody`: a uid that exists on every Debian machine.
const NOBODY: u32 = 65534;
/// `daemon`: the foreign peer in the root-only test.
const DAEMON: u32 = 1;

fn my_uid() -> u32 {
    rustix::process::getuid().as_raw()
}

fn is_root() -> bool {
    my_uid() == 0
}

struct Helper {
    child: Child,
    dir: tempfile::TempDir,
    socket: PathBuf,
    log: PathBuf,
}

impl Helper {
    /// The helper on scratch SysRq and DMI files.
    fn start(allowed_uid: u32) -> Self {
        Self::start_with_sysrq(allowed_uid, None)
    }

    /// The helper; `sysrq` overrides its scratch SysRq file.
    fn start_with_sysrq(allowed_uid: u32, sysrq: Option<&Path>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        // Other users must reach the socket to be refused by the helper (not by file modes).
        std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let socket = dir.path().join("helper.sock");
        let log = dir.path().join("helper.log");
        std::fs::write(dir.path().join("sysrq"), "438\n").unwrap();
        std::fs::create_dir(dir.path().join("dmi")).unwrap();
        std::fs::write(dir.path().join("dmi/sys_vendor"), "Exam PCs B.V.\n").unwrap();
        std::fs::write(dir.path().join("dmi/product_serial"), "SN-0042\n").unwrap();
        let child = Command::new(HELPER)
            .args(["serve", "--allow-uid", &allowed_uid.to_string(), "--socket"])
            .arg(&socket)
            .arg("--state-dir")
            .arg(dir.path().join("state"))
            .arg("--sysrq-file")
            .arg(sysrq.map_or_else(|| dir.path().join("sysrq"), Path::to_path_buf))
            .arg("--dmi-dir")
            .arg(dir.path().join("dmi"))
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !socket.exists() {
            assert!(Instant::now() < deadline, "helper did not create its socket");
            std::thread::sleep(Duration::from_millis(10));
        }
        Self { child, dir, socket, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `exam-kiosk-helper request JSON` as another user; returns (success, stdout).
fn request_as(uid: u32, socket: &Path, json: &str) -> (bool, String) {
    let out = Command::new("setpriv")
        .args([format!("--reuid={uid}"), format!("--regid={uid}"), "--clear-groups".into()])
        .arg(HELPER)
        .args(["request", json, "--socket"])
        .arg(socket)
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn serves_the_kiosk_uid_and_refuses_malformed_and_oversized_requests() {
    let helper = Helper::start(my_uid());
    let pong = send(&helper.socket, &Request::Ping).unwrap();
    assert!(pong.ok, "{pong:?}");
    assert_eq!(pong.version, Some(1));

    let oversized = format!("{{\"v\":1,\"op\":\"ping\",\"pad\":\"{}\"}}\n", "x".repeat(10 * MAX_REQUEST_BYTES));
    let no_newline_flood = vec![b'{'; 64 * 1024];
    let cases: Vec<(&[u8], &str)> = vec![
        (b"hello\n", "malformed"),
        (b"\n", "malformed"),
        (b"{\"op\":\"ping\"}\n", "version"),
        (b"{\"v\":2,\"op\":\"ping\"}\n", "version"),
        (b"{\"v\":1,\"op\":\"exec\",\"cmd\":\"/bin/sh\"}\n", "invalid"),
        (b"{\"v\":1,\"op\":\"end_process\",\"pid\":1}\n", "invalid"),
        (b"{\"v\":1,\"op\":\"read_dmi\",\"path\":\"/etc/shadow\"}\n", "unknown field"),
        (oversized.as_bytes(), "longer than"),
        (&no_newline_flood, "longer than"),
    ];
    for (bytes, expected) in &cases {
        let answer = send_raw(&helper.socket, bytes).unwrap();
        assert!(!answer.ok, "accepted {:?}", String::from_utf8_lossy(&bytes[..bytes.len().min(60)]));
        let error = answer.error.unwrap_or_default();
        assert!(error.contains(expected), "{error:?} should mention {expected:?}");
    }
    // The helper still serves after all that, and logged every refusal.
    assert!(send(&helper.socket, &Request::Ping).unwrap().ok);
    let log = helper.log();
    assert_eq!(log.matches("refused request").count(), cases.len(), "{log}");
}

#[test]
fn refuses_a_peer_that_is_not_the_kiosk_user() {
    // Without root: the helper serves some other uid, and we are the stranger.
    let other = if is_root() { NOBODY } else { my_uid() + 1 };
    let helper = Helper::start(other);
    let answer = send(&helper.socket, &Request::Ping).unwrap();
    assert!(!answer.ok);
    assert!(answer.error.unwrap().contains("is not served"));
    assert!(helper.log().contains(&format!("refused peer pid {} uid {}", std::process::id(), my_uid())), "{}", helper.log());

    if !is_root() {
        println!("SKIPPED: needs root (connecting as a real foreign uid with setpriv)");
        return;
    }
    // As root: a real foreign user (daemon) is refused, the kiosk user (nobody here) served.
    let (ok, out) = request_as(DAEMON, &helper.socket, r#"{"v":1,"op":"ping"}"#);
    assert!(!ok && out.contains("uid 1 is not served"), "{out}");
    let (ok, out) = request_as(DAEMON, &helper.socket, r#"{"v":1,"op":"sysrq_disable"}"#);
    assert!(!ok, "{out}");
    assert_eq!(std::fs::read_to_string(helper.path("sysrq")).unwrap(), "438\n", "a refused peer changed SysRq");
    let (ok, out) = request_as(NOBODY, &helper.socket, r#"{"v":1,"op":"ping"}"#);
    assert!(ok && out.contains("\"version\":1"), "{out}");
    assert!(helper.log().contains("uid 1: not the kiosk user"), "{}", helper.log());
}

/// A `sleep` owned by a user the helper may end: the kiosk user itself (us),
/// or `nobody` when the test runs as root.
fn target_process() -> Child {
    let mut cmd = if is_root() {
        let mut c = Command::new("setpriv");
        c.args([format!("--reuid={NOBODY}"), format!("--regid={NOBODY}"), "--clear-groups".into(), "sleep".into()]);
        c
    } else {
        Command::new("sleep")
    };
    let child = cmd.arg("30").stdin(Stdio::null()).spawn().unwrap();
    // setpriv execs sleep in place: wait until the exec happened.
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::fs::read_to_string(format!("/proc/{}/comm", child.id())).unwrap_or_default().trim() != "sleep" {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(5));
    }
    child
}

#[test]
fn ends_exactly_the_process_named_by_pid_and_start_time() {
    let helper = Helper::start(my_uid());
    let mut child = target_process();
    let pid = child.id();
    let ticks = start_ticks(pid).unwrap();

    // A recycled PID (other start time) is left alone.
    let answer = send(&helper.socket, &Request::EndProcess { pid, start_ticks: ticks + 1 }).unwrap();
    assert_eq!(answer.result.as_deref(), Some("already_gone"), "{answer:?}");
    assert!(child.try_wait().unwrap().is_none(), "the helper ended a process whose start time did not match");

    let answer = send(&helper.socket, &Request::EndProcess { pid, start_ticks: ticks }).unwrap();
    assert!(answer.ok, "{answer:?}");
    assert_eq!((answer.result.as_deref(), answer.signal.as_deref()), (Some("ended"), Some("SIGTERM")));
    let status = child.wait().unwrap();
    assert!(!status.success());

    // PID 1 and the helper itself are never ended.
    for pid in [1, helper.child.id()] {
        let ticks = start_ticks(pid).unwrap_or(0);
        let answer = send(&helper.socket, &Request::EndProcess { pid, start_ticks: ticks }).unwrap();
        assert!(!answer.ok, "pid {pid}: {answer:?}");
    }
    if is_root() {
        // Root's processes are never ended on the kiosk's behalf.
        let mut root_child = Command::new("sleep").arg("30").spawn().unwrap();
        let ticks = start_ticks(root_child.id()).unwrap();
        let answer = send(&helper.socket, &Request::EndProcess { pid: root_child.id(), start_ticks: ticks }).unwrap();
        assert!(!answer.ok && answer.error.as_deref().unwrap_or("").contains("root"), "{answer:?}");
        assert!(root_child.try_wait().unwrap().is_none());
        let _ = root_child.kill();
        let _ = root_child.wait();
    } else {
        println!("SKIPPED: needs root (a root-owned target process)");
    }
}

#[test]
fn sysrq_and_dmi_requests_work_on_the_configured_files_only() {
    let helper = Helper::start(my_uid());
    let answer = send(&helper.socket, &Request::SysrqDisable).unwrap();
    assert_eq!((answer.sysrq_before.as_deref(), answer.sysrq_now.as_deref()), (Some("438"), Some("0")), "{answer:?}");
    assert_eq!(std::fs::read_to_string(helper.path("state/sysrq.saved")).unwrap(), "438");
    // A crash of the helper between disable and restore: `restore-sysrq` (the
    // unit's ExecStopPost and the package's prerm) puts it back.
    let out = Command::new(HELPER)
        .arg("restore-sysrq")
        .arg("--state-dir")
        .arg(helper.path("state"))
        .arg("--sysrq-file")
        .arg(helper.path("sysrq"))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(std::fs::read_to_string(helper.path("sysrq")).unwrap(), "438\n");
    let answer = send(&helper.socket, &Request::SysrqRestore).unwrap();
    assert_eq!(answer.result.as_deref(), Some("nothing to restore"));

    let dmi = send(&helper.socket, &Request::ReadDmi).unwrap().dmi.unwrap();
    assert_eq!(dmi.get("sys_vendor").map(String::as_str), Some("Exam PCs B.V."));
    assert_eq!(dmi.get("product_serial").map(String::as_str), Some("SN-0042"));
}

#[test]
fn streams_exec_events_when_privileged() {
    if !is_root() {
        println!("SKIPPED: needs root (the process-event connector needs CAP_NET_ADMIN)");
        return;
    }
    use std::io::{BufRead as _, BufReader, Write as _};
    let helper = Helper::start(my_uid());
    let mut stream = std::os::unix::net::UnixStream::connect(&helper.socket).unwrap();
    stream.write_all(Request::WatchExec.to_line().as_bytes()).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut reader = BufReader::new(stream);
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    if first.contains("cannot subscribe") {
        println!("SKIPPED: the process-event connector is not available here: {}", first.trim());
        return;
    }
    assert!(first.contains("\"watching\":true"), "{first}");
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut line = String::new();
    loop {
        assert!(Instant::now() < deadline, "no exec event for pid {pid}");
        line.clear();
        reader.read_line(&mut line).unwrap();
        if line.trim() == format!("{{\"exec\":{pid}}}") {
            break;
        }
    }
    let _ = child.wait();
}

/// The real `/proc/sys/kernel/sysrq`, as the packaged helper uses it: off
/// for the exam, back to its value after. Root only; the value is restored
/// even when an assertion fails.
#[test]
fn switches_the_real_sysrq_off_and_restores_it() {
    const SYSRQ: &str = "/proc/sys/kernel/sysrq";
    if !is_root() {
        println!("SKIPPED: needs root (writes {SYSRQ})");
        return;
    }
    let Ok(original) = std::fs::read_to_string(SYSRQ) else {
        println!("SKIPPED: this kernel has no magic SysRq ({SYSRQ} is missing)");
        return;
    };
    if std::fs::write(SYSRQ, &original).is_err() {
        println!("SKIPPED: {SYSRQ} is read-only here (a container?)");
        return;
    }
    struct Restore(String);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = std::fs::write(SYSRQ, &self.0);
        }
    }
    let _restore = Restore(original.clone());
    let helper = Helper::start_with_sysrq(my_uid(), Some(Path::new(SYSRQ)));
    let off = send(&helper.socket, &Request::SysrqDisable).unwrap();
    let now = std::fs::read_to_string(SYSRQ).unwrap();
    let back = send(&helper.socket, &Request::SysrqRestore).unwrap();
    let after = std::fs::read_to_string(SYSRQ).unwrap();
    drop(helper);
    assert!(off.ok, "{off:?}");
    assert_eq!(off.sysrq_before.as_deref(), Some(original.trim()));
    assert_eq!(now.trim(), "0", "SysRq was not switched off");
    assert!(back.ok, "{back:?}");
    assert_eq!(after, original, "SysRq was not restored");
}
