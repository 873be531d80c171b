//! The guard's Linux platform as an unprivileged kiosk, with the real
//! privileged helper: the helper serves as root on a test-only socket (in
//! this test process), and this test binary is run again as `nobody` — the
//! kiosk side — which must end a process of a third user it has no right to
//! signal, receive exec events it could not subscribe to, read DMI and
//! switch SysRq off for the exam and back, all through the helper. Root only (it switches users); otherwise SKIPPED.

#![cfg(target_os = "linux")]

use exam_privhelper::process::start_ticks;
use exam_privhelper::server::{serve, ServerConfig, DEFAULT_MIN_TARGET_UID};
use kiosk_core::guard::platform::{ExecWait, NativePlatform, ProcessPlatform};
use kiosk_core::guard::Outcome;
use kiosk_core::helper::{Helper, SOCKET_ENV};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `nobody`: the unprivileged kiosk in this test.
const KIOSK_UID: u32 = 65534;
/// A user with no account: the owner of the process the kiosk must end
/// (at or above the helper's minimum target uid, and not the kiosk's).
const STUDENT_UID: u32 = 60_123;
/// Tells the re-run binary which process to end.
const TARGET_ENV: &str = "EXAM_KIOSK_HELPER_TEST_TARGET";

#[test]
fn an_unprivileged_kiosk_ends_another_users_process_through_the_helper() {
    if !rustix::process::geteuid().is_root() {
        println!("SKIPPED: needs root (the helper runs as root, the kiosk side as nobody)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // nobody must reach the socket; the helper decides by peer uid, not file modes.
    std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    std::fs::create_dir(dir.path().join("dmi")).unwrap();
    std::fs::write(dir.path().join("dmi/sys_vendor"), "Exam PCs B.V.\n").unwrap();
    std::fs::write(dir.path().join("dmi/product_serial"), "SN-0042\n").unwrap();
    std::fs::write(dir.path().join("sysrq"), "438\n").unwrap();
    let socket = dir.path().join("helper.sock");
    let config = ServerConfig {
        socket: socket.clone(),
        allowed_uid: KIOSK_UID,
        min_target_uid: DEFAULT_MIN_TARGET_UID,
        state_dir: dir.path().join("state"),
        sysrq_file: dir.path().join("sysrq"),
        dmi_dir: dir.path().join("dmi"),
    };
    // The helper serves from a thread of this (root) process until the test ends.
    std::thread::spawn(move || serve(config));
    let deadline = Instant::now() + Duration::from_secs(10);
    while !socket.exists() {
        assert!(Instant::now() < deadline, "the helper did not create its socket");
        std::thread::sleep(Duration::from_millis(10));
    }

    // The student's process, started by this test.
    let mut target = Command::new("setpriv")
        .args([format!("--reuid={STUDENT_UID}"), format!("--regid={STUDENT_UID}"), "--clear-groups".into()])
        .args(["sleep", "60"])
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let pid = target.id();
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default().trim() != "sleep" {
        assert!(Instant::now() < deadline, "setpriv did not exec sleep");
        std::thread::sleep(Duration::from_millis(5));
    }

    // The kiosk side: this binary again, as nobody.
    let kiosk = Command::new("setpriv")
        .args([format!("--reuid={KIOSK_UID}"), format!("--regid={KIOSK_UID}"), "--clear-groups".into()])
        .arg(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "kiosk_side_as_nobody", "--nocapture", "--test-threads=1"])
        .env(SOCKET_ENV, &socket)
        .env(TARGET_ENV, pid.to_string())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&kiosk.stdout);
    let stderr = String::from_utf8_lossy(&kiosk.stderr);
    println!("kiosk side (as nobody):\n{stdout}");
    let ended = target.try_wait().unwrap();
    if ended.is_none() {
        let _ = target.kill();
    }
    let _ = target.wait();
    assert!(kiosk.status.success() && stdout.contains("1 passed"), "kiosk side failed:\n{stdout}\n{stderr}");
    assert!(ended.is_some(), "the student's process still runs");
}

/// The unprivileged half of the test above; run by it as nobody.
#[test]
#[ignore = "run as nobody by an_unprivileged_kiosk_ends_another_users_process_through_the_helper"]
fn kiosk_side_as_nobody() {
    let pid: u32 = std::env::var(TARGET_ENV).expect("run by the root test").parse().unwrap();
    assert_eq!(rustix::process::getuid().as_raw(), KIOSK_UID);

    // The kiosk itself may not signal the student's process...
    let direct = rustix::process::test_kill_process(rustix::process::Pid::from_raw(pid as i32).unwrap());
    assert_eq!(direct, Err(rustix::io::Errno::PERM), "nobody could signal it; the test proves nothing");

    // ...so the platform found the helper and ends it through it.
    let mut platform = NativePlatform::new().unwrap();
    let socket = std::env::var_os(SOCKET_ENV).unwrap();
    assert_eq!(platform.helper().map(Helper::socket), Some(std::path::Path::new(&socket)));

    // Exec events come through the helper (nobody cannot subscribe to the connector).
    let mut events = platform.exec_events().expect("exec events through the helper");
    let mut child = Command::new("true").spawn().unwrap();
    let exec_pid = child.id();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        assert!(Instant::now() < deadline, "no exec event for pid {exec_pid}");
        match events.next(Duration::from_millis(500)) {
            ExecWait::Exec(p) if p == exec_pid => break,
            ExecWait::Failed(e) => panic!("exec stream failed: {e}"),
            _ => {}
        }
    }
    let _ = child.wait();

    let info = platform.inspect(pid).expect("the student's process is visible");
    assert_eq!(info.uid, Some(STUDENT_UID));
    assert_eq!(info.start_ticks, start_ticks(pid));
    let outcome = platform.terminate(&info, Duration::from_millis(500), Duration::from_secs(1));
    assert_eq!(outcome, Outcome::Ended { signal: "SIGTERM".into() });

    // A recycled PID (another start time) is never hit: it is "already gone".
    let stale = kiosk_core::guard::ProcessInfo { start_ticks: info.start_ticks.map(|t| t + 1), ..info };
    assert_eq!(platform.terminate(&stale, Duration::ZERO, Duration::ZERO), Outcome::AlreadyGone);

    // DMI, serials included, through the helper (scratch files here).
    let dmi = platform.helper().unwrap().read_dmi().unwrap();
    assert_eq!(dmi.get("product_serial").map(String::as_str), Some("SN-0042"));
    // The environment checks read DMI the same way (the helper's scratch vendor, not this machine's).
    assert_eq!(kiosk_core::environment::gather().dmi, ["Exam PCs B.V."]);

    // The exam's lockdown switches SysRq off through the helper and back on
    // (the helper's SysRq file is a scratch file holding 438 here).
    let lockdown = kiosk_core::lockdown::Lockdown::engage(|_| {}).unwrap();
    assert_eq!(lockdown.applied(), ["SysRq 438 -> 0 (privileged helper)"]);
    let released = lockdown.release().unwrap();
    assert_eq!(released, ["SysRq 0 -> 438 (privileged helper)"]);
}
