//! The guard against real processes: copies of `sleep` named like
//! prohibited tools, started under a shell this test owns. The guard's scope
//! is that shell's descendants, so nothing else on the machine is touched.

use exam_policy::{load_policy_file, Policy, ProcessRule};
use kiosk_core::guard::platform::NativePlatform;
use kiosk_core::guard::{Detection, Enforcement, Guard, GuardConfig, GuardEvent, Outcome, Scope};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn policies() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../policies")
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0).unwrap_or(false)
}

/// A shell whose children are the processes under test; killed on drop.
struct Room {
    shell: Child,
    bin: tempfile::TempDir,
}

impl Room {
    fn new(tools: &[&str]) -> Self {
        let bin = tempfile::tempdir().unwrap();
        let sleep = which("sleep");
        for tool in tools {
            std::fs::copy(&sleep, bin.path().join(tool)).unwrap();
        }
        let shell = Command::new("/bin/sh").arg("-s").stdin(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
        Self { shell, bin }
    }

    fn pid(&self) -> u32 {
        self.shell.id()
    }

    /// Runs a shell line (in the background unless it says otherwise).
    fn run(&mut self, line: &str) {
        let stdin = self.shell.stdin.as_mut().unwrap();
        writeln!(stdin, "cd '{}' && {line}", self.bin.path().display()).unwrap();
        stdin.flush().unwrap();
    }

    fn start(&mut self, tool: &str) {
        self.run(&format!("./'{tool}' 300 &"));
    }

    fn running(&self, tool: &str) -> Vec<u32> {
        let me = self.pid();
        let mut out = Vec::new();
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
            let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok();
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let ppid = stat.rsplit(')').next().and_then(|r| r.split_whitespace().nth(1)).and_then(|p| p.parse().ok());
            if ppid == Some(me) && exe.is_some_and(|e| e == self.bin.path().join(tool)) {
                out.push(pid);
            }
        }
        out
    }

    fn wait_running(&self, tool: &str, count: usize) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.running(tool).len() < count {
            assert!(Instant::now() < deadline, "{tool} did not start");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Room {
    fn drop(&mut self) {
        // Our own shell and whatever it still runs.
        let _ = Command::new("pkill").arg("-KILL").arg("-P").arg(self.pid().to_string()).status();
        let _ = self.shell.kill();
        let _ = self.shell.wait();
    }
}

fn which(tool: &str) -> PathBuf {
    ["/usr/bin", "/bin"].iter().map(|d| Path::new(d).join(tool)).find(|p| p.exists()).unwrap()
}

fn policy(name: &str) -> Policy {
    let mut policy = load_policy_file(&policies().join(name)).unwrap();
    // The shell that starts the processes forks copies of itself.
    policy.processes.allow.push(ProcessRule { name: Some("sh".into()), ..ProcessRule::default() });
    policy.processes.allow.push(ProcessRule { name: Some("dash".into()), ..ProcessRule::default() });
    policy
}

fn guard(policy: Policy, room: &Room, enforcement: Enforcement, accommodations: &[&str]) -> Guard<NativePlatform> {
    let config = GuardConfig::from_policy(
        &policy,
        Scope::Tree(room.pid()),
        enforcement,
        accommodations.iter().map(|a| a.to_string()).collect(),
    );
    Guard::new(policy, config, NativePlatform::new().unwrap())
}

/// Runs a guard in the background, collecting its events.
struct Running {
    stop: Arc<AtomicBool>,
    events: Arc<Mutex<Vec<GuardEvent>>>,
    thread: Option<std::thread::JoinHandle<kiosk_core::guard::RunSummary>>,
}

impl Running {
    fn start(mut guard: Guard<NativePlatform>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let events = Arc::new(Mutex::new(Vec::new()));
        let (s, e) = (stop.clone(), events.clone());
        let thread = std::thread::spawn(move || guard.run(&s, None, |ev| e.lock().unwrap().push(ev)));
        // Let the initial sweep and the subscription happen.
        std::thread::sleep(Duration::from_millis(200));
        Self { stop, events, thread: Some(thread) }
    }

    fn wait_for(&self, what: &str, pred: impl Fn(&[GuardEvent]) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !pred(&self.events.lock().unwrap()) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}: {:?}", self.events.lock().unwrap());
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn stop(mut self) -> (kiosk_core::guard::RunSummary, Vec<GuardEvent>) {
        self.stop.store(true, Ordering::Relaxed);
        let summary = self.thread.take().unwrap().join().unwrap();
        let events = self.events.lock().unwrap().clone();
        (summary, events)
    }
}

fn ended(events: &[GuardEvent], name: &str) -> usize {
    events.iter().filter(|e| e.name == name && matches!(e.outcome, Outcome::Ended { .. })).count()
}

#[test]
fn scan_reports_prohibited_processes_and_touches_nothing() {
    let mut room = Room::new(&["AnyDesk", "discord", "obs", "harmless-tool"]);
    for tool in ["AnyDesk", "discord", "obs", "harmless-tool"] {
        room.start(tool);
        room.wait_running(tool, 1);
    }
    let mut guard = guard(policy("byod.toml"), &room, Enforcement::ReportOnly, &[]);
    let mut names: Vec<String> = guard.scan().into_iter().map(|f| f.process.name).collect();
    names.sort();
    assert_eq!(names, ["AnyDesk", "discord", "obs"]);
    for tool in ["AnyDesk", "discord", "obs", "harmless-tool"] {
        assert_eq!(room.running(tool).len(), 1, "{tool} must still run after a scan");
    }
}

#[test]
fn processes_from_before_the_exam_and_new_ones_are_ended_and_reported() {
    let mut room = Room::new(&["AnyDesk", "discord", "obs", "harmless-tool"]);
    room.start("AnyDesk");
    room.start("harmless-tool");
    room.wait_running("AnyDesk", 1);
    room.wait_running("harmless-tool", 1);
    let running = Running::start(guard(policy("byod.toml"), &room, Enforcement::Enforce, &[]));
    running.wait_for("AnyDesk ended", |e| ended(e, "AnyDesk") == 1);
    room.start("discord");
    room.start("obs");
    running.wait_for("discord and obs ended", |e| ended(e, "discord") == 1 && ended(e, "obs") == 1);
    let (summary, events) = running.stop();
    assert!(room.running("AnyDesk").is_empty() && room.running("discord").is_empty() && room.running("obs").is_empty());
    assert_eq!(room.running("harmless-tool").len(), 1, "an unlisted process must survive on byod");
    let first = events.iter().find(|e| e.name == "AnyDesk").unwrap();
    assert_eq!(first.detected_by, Detection::InitialSweep);
    assert!(first.rule.contains("AnyDesk"), "{}", first.rule);
    assert_eq!(first.outcome, Outcome::Ended { signal: "SIGTERM".into() });
    if is_root() {
        assert!(summary.event_driven, "as root the guard must use exec events");
        let later = events.iter().find(|e| e.name == "discord").unwrap();
        assert_eq!(later.detected_by, Detection::ExecEvent);
    } else {
        eprintln!("NOTE: not root: exec events unavailable, only sweeps were tested");
    }
}

#[test]
fn accommodation_keeps_the_students_assistive_tool_on_an_allow_list() {
    let mut room = Room::new(&["orca", "some-app"]);
    room.start("orca");
    room.start("some-app");
    room.wait_running("orca", 1);
    room.wait_running("some-app", 1);
    // school-pc: an allow-list; orca is allowed only with the screen-reader accommodation.
    let running = Running::start(guard(policy("school-pc.toml"), &room, Enforcement::Enforce, &["screen-reader"]));
    running.wait_for("some-app ended", |e| ended(e, "some-app") == 1);
    let (_, events) = running.stop();
    assert_eq!(room.running("orca").len(), 1, "the accommodated screen reader must survive");
    assert!(events.iter().all(|e| e.name != "orca"), "{events:?}");

    // Without the accommodation the same tool is ended.
    let running = Running::start(guard(policy("school-pc.toml"), &room, Enforcement::Enforce, &[]));
    running.wait_for("orca ended", |e| ended(e, "orca") == 1);
    running.stop();
    assert!(room.running("orca").is_empty());
}

#[test]
fn a_respawning_offender_is_ended_every_time() {
    let mut room = Room::new(&["TeamViewer"]);
    let running = Running::start(guard(policy("byod.toml"), &room, Enforcement::Enforce, &[]));
    room.run("(i=0; while [ $i -lt 5 ]; do ./TeamViewer 300; i=$((i+1)); done) &");
    running.wait_for("five ends", |e| ended(e, "TeamViewer") == 5);
    let (_, events) = running.stop();
    assert_eq!(ended(&events, "TeamViewer"), 5);
    assert!(room.running("TeamViewer").is_empty());
}

#[test]
fn a_burst_of_prohibited_processes_and_odd_names_never_stop_the_guard() {
    let odd = "we)ird (name\twith\u{e9}";
    let mut room = Room::new(&["rustdesk", odd]);
    let running = Running::start(guard(policy("byod.toml"), &room, Enforcement::Enforce, &[]));
    room.run("for i in $(seq 60); do ./rustdesk 300 & done");
    room.start(odd);
    running.wait_for("60 ends", |e| ended(e, "rustdesk") == 60);
    room.wait_running(odd, 1);
    let (_, events) = running.stop();
    assert!(room.running("rustdesk").is_empty());
    assert_eq!(room.running(odd).len(), 1, "an unlisted process with an odd name must survive");
    assert!(events.iter().all(|e| e.name != odd));
}

#[test]
fn report_only_mode_ends_nothing() {
    let mut room = Room::new(&["AnyDesk"]);
    room.start("AnyDesk");
    room.wait_running("AnyDesk", 1);
    let running = Running::start(guard(policy("byod.toml"), &room, Enforcement::ReportOnly, &[]));
    running.wait_for("a report", |e| e.iter().any(|e| e.outcome == Outcome::WouldEnd));
    let (_, events) = running.stop();
    assert_eq!(events[0].journal_kind(), "guard.process_would_end");
    assert_eq!(room.running("AnyDesk").len(), 1);
}
