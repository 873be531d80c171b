//! The process guard: ends processes that may not run during an exam.
//!
//! Detection is event-driven where the platform allows it (on Linux the
//! kernel's process-event connector reports every `exec` as it happens, when
//! the guard is privileged), with a periodic full sweep as the fallback and
//! the safety net. Processes that already ran before the exam started are
//! caught by the first sweep.
//!
//! What counts as "may not run" comes from the signed policy
//! ([`exam_policy::Policy::judge_process`]); *which* processes the guard may
//! touch at all is its [`Scope`]: the exam user's session in production, or
//! the process tree a test started. The guard never touches PID 1, kernel
//! threads or itself, and never ends one of its own ancestors: an ancestor
//! that may not run is reported as not ended (which locks the session).
//!
//! On top of the names, when the policy asks for it (`[processes.display]`,
//! on by default for `byod`), the guard ends programs by **behaviour**
//! ([`display`]): a process of its scope that is a client of the display
//! server (X11 through X-Resource, Wayland, X11 and PipeWire through socket
//! diagnostics), holds a video device or `/dev/uinput`, and is not one of the
//! desktop's own programs from a root-owned executable
//! ([`exam_policy::Policy::judge_display_client`]). New display clients are
//! found within [`DISPLAY_POLL`]; the kiosk's own process tree (WebKit's
//! helpers are display clients) is never judged by behaviour.
//!
//! In [`Enforcement::ReportOnly`] (demo, development, `kioskctl guard scan`)
//! the guard only reports what it would end.

pub mod display;
pub mod platform;
mod scope;

pub use display::{DisplayTargets, Reason, Use};
pub use scope::Scope;

use display::BehaviourWatch;
use exam_policy::{DisplayVerdict, Policy, ProcessFacts, ProcessRule, ProcessVerdict};
use platform::{ExecEvents, ExecWait, ProcessPlatform};
use crate::events::{vocabulary, KioskEvent};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Longest a guard waits for a process to die after `SIGKILL`.
pub const KILL_CONFIRM_TIMEOUT: Duration = Duration::from_secs(1);
/// How often a running guard looks at its stop flag when nothing happens.
const STOP_POLL: Duration = Duration::from_millis(100);
/// How often the behaviour watch looks for new display and PipeWire clients
/// (one X-Resource round trip and one socket dump; the process table is read
/// only when a connection appeared that the guard has not seen).
pub const DISPLAY_POLL: Duration = Duration::from_millis(250);

/// Whether the guard ends processes or only reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Enforcement {
    /// Report what would be ended (demo, development, scans).
    ReportOnly,
    /// End offending processes (an exam session, or an explicit `--enforce`).
    Enforce,
}

/// What the guard knows about one process.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ProcessInfo {
    /// Process id.
    pub pid: u32,
    /// Parent process id.
    pub ppid: Option<u32>,
    /// Real user id.
    pub uid: Option<u32>,
    /// Start time in clock ticks since boot; guards against PID reuse.
    pub start_ticks: Option<u64>,
    /// Executable base name (or argv\[0\]'s, or the kernel's short name).
    pub name: String,
    /// Full executable path.
    pub exe: Option<String>,
    /// Command line, arguments joined by spaces (used for matching only; never journalled).
    #[serde(skip)]
    pub cmdline: Option<String>,
    /// Name of the parent process.
    pub parent_name: Option<String>,
    /// True for kernel threads, which are never touched.
    pub kernel_thread: bool,
}

/// How a process came to the guard's attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Detection {
    /// The sweep when the guard started (processes from before the exam).
    InitialSweep,
    /// A kernel `exec` notification.
    ExecEvent,
    /// A periodic sweep.
    Sweep,
    /// The behaviour watch saw a new display or PipeWire client.
    DisplayWatch,
}

/// What happened to an offending process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "result")]
pub enum Outcome {
    /// It is gone, confirmed; `signal` is the one that ended it.
    Ended {
        /// `SIGTERM` or `SIGKILL`.
        signal: String,
    },
    /// Report-only mode: it would have been ended.
    WouldEnd,
    /// It exited (or its PID was reused) before the guard acted.
    AlreadyGone,
    /// It could not be ended; the session must lock.
    NotEnded {
        /// Why not.
        reason: String,
    },
}

/// One guard decision, ready for the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GuardEvent {
    /// Process id.
    pub pid: u32,
    /// Process name.
    pub name: String,
    /// Executable path, when readable.
    pub exe: Option<String>,
    /// The rule that denied it (for behaviour: the reason, the evidence and why it is not allowed).
    pub rule: String,
    /// Why it is ended: a name rule, or what it was seen doing.
    pub reason: Reason,
    /// How it was found.
    pub detected_by: Detection,
    /// What happened.
    pub outcome: Outcome,
    /// Microseconds from detection to the confirmed end (or the failure).
    pub handling_us: u64,
    /// Ended only because it is a display client, from a trusted (root-owned)
    /// executable: a program of the desktop's own that is not on the list (a
    /// notification daemon, a password prompt). Ended and journalled, but
    /// no reason to lock the exam ([`GuardEvent::locks_when_ended`]).
    pub trusted_display_client: bool,
}

/// What the policy's rules look at in a running process.
fn facts_of<'a>(process: &'a ProcessInfo, exe_sha256: Option<&'a [u8; 32]>) -> ProcessFacts<'a> {
    ProcessFacts {
        name: &process.name,
        exe: process.exe.as_deref(),
        exe_sha256,
        cmdline: process.cmdline.as_deref(),
        parent: process.parent_name.as_deref(),
    }
}

impl GuardEvent {
    /// The journal event kind for this event.
    pub fn journal_kind(&self) -> &'static str {
        self.journal_event().kind()
    }

    /// This decision as a journal event (`guard.process_*`, by its outcome).
    pub fn journal_event(&self) -> KioskEvent {
        let payload = vocabulary::GuardProcess {
            pid: self.pid,
            name: self.name.clone(),
            exe: self.exe.clone(),
            rule: self.rule.clone(),
            reason: serde_json::to_value(&self.reason).unwrap_or_default(),
            detected_by: serde_json::to_value(&self.detected_by).unwrap_or_default(),
            outcome: serde_json::to_value(&self.outcome).unwrap_or_default(),
            handling_us: self.handling_us,
            trusted_display_client: self.trusted_display_client,
        };
        match self.outcome {
            Outcome::Ended { .. } => KioskEvent::GuardProcessEnded(payload),
            Outcome::WouldEnd => KioskEvent::GuardProcessWouldEnd(payload),
            Outcome::AlreadyGone => KioskEvent::GuardProcessExited(payload),
            Outcome::NotEnded { .. } => KioskEvent::GuardProcessNotEnded(payload),
        }
    }

    /// True when the session must lock because of this event.
    pub fn requires_lock(&self) -> bool {
        matches!(self.outcome, Outcome::NotEnded { .. })
    }

    /// Whether an ended process locks the exam: yes for a name rule,
    /// screen capture, input injection and any untrusted executable; not for
    /// a trusted program whose only fault was being a display client not on
    /// the desktop list (the desktop starts those on its own).
    pub fn locks_when_ended(&self) -> bool {
        !(self.trusted_display_client && self.reason == Reason::DisplayClient)
    }
}

/// A process the guard found that may not run, without acting on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The process.
    pub process: ProcessInfo,
    /// The rule that denies it.
    pub rule: String,
    /// Why it may not run.
    pub reason: Reason,
}

/// How a guard runs; build it with [`GuardConfig::from_policy`].
#[derive(Debug, Clone)]
pub struct GuardConfig {
    /// Report only, or end processes.
    pub enforcement: Enforcement,
    /// Which processes the guard may touch.
    pub scope: Scope,
    /// Accommodation ids granted to this student (extra allowed tools).
    pub accommodations: Vec<String>,
    /// Interval of the full sweep.
    pub sweep_interval: Duration,
    /// Time between `SIGTERM` and `SIGKILL`.
    pub kill_grace: Duration,
    /// Use instant exec notifications where available (off: sweeps only,
    /// as the peer does; used to compare the two).
    pub exec_events: bool,
    /// Process control by behaviour over these display targets; `None`:
    /// names only (the policy does not enforce `[processes.display]`).
    pub display: Option<DisplayTargets>,
}

impl GuardConfig {
    /// The granted accommodations, as the policy's judges take them.
    fn granted(&self) -> Vec<&str> {
        self.accommodations.iter().map(String::as_str).collect()
    }

    /// Takes the intervals from the policy.
    pub fn from_policy(policy: &Policy, scope: Scope, enforcement: Enforcement, accommodations: Vec<String>) -> Self {
        Self {
            enforcement,
            scope,
            accommodations,
            sweep_interval: Duration::from_millis(u64::from(policy.processes.sweep_interval_ms.max(1))),
            kill_grace: Duration::from_millis(u64::from(policy.processes.kill_grace_ms)),
            exec_events: true,
            display: policy.display_rules_enforced().then(DisplayTargets::from_env),
        }
    }
}

/// Counts of what a guard run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RunSummary {
    /// True when kernel exec events were used; false means sweeps only.
    pub event_driven: bool,
    /// Full sweeps done.
    pub sweeps: u64,
    /// Exec notifications handled.
    pub exec_events: u64,
    /// Times the event queue overflowed (each followed by a sweep).
    pub overflows: u64,
    /// Guard events emitted.
    pub events: u64,
    /// True when programs were also judged by behaviour (display clients,
    /// screen capture, input injection).
    pub behaviour: bool,
    /// Looks of the behaviour watch.
    pub display_polls: u64,
    /// What the behaviour watch could not do (at the end of the run).
    pub behaviour_limits: Vec<String>,
}

/// The guard engine over a platform.
pub struct Guard<P: ProcessPlatform> {
    policy: Policy,
    deny: Vec<ProcessRule>,
    config: GuardConfig,
    platform: P,
    /// Never judged: PIDs 0-2 and the guard itself.
    protected: HashSet<u32>,
    /// The guard's ancestors (the kiosk's parent shell, ...): judged, never
    /// ended — one that may not run is reported as not ended, which locks.
    /// Re-read at every sweep.
    ancestors: HashSet<u32>,
    /// The holders of the watched listening sockets when the guard started
    /// (pid, start): the session's own display server and PipeWire. `None`
    /// until the first look.
    session_servers: Option<HashSet<(u32, u64)>>,
    /// Processes already reported and left running (pid, name): impossible
    /// to end, or report-only mode. Reported once, not again at every sweep.
    reported: HashSet<(u32, String)>,
    /// The behaviour watch, when the policy enforces `[processes.display]`.
    watch: Option<Box<dyn BehaviourWatch>>,
    /// Socket inode → the in-scope processes holding it (last fd scan).
    socket_owners: HashMap<u64, Vec<u32>>,
    /// Client sockets of the watched servers known at the last fd scan.
    seen_sockets: HashSet<u64>,
    /// Devices in-scope processes held at the last fd scan.
    device_uses: HashMap<u32, Vec<Use>>,
    /// Display clients judged and left running (pid, start, executable):
    /// not judged again by the display watch (the sweeps still do).
    behaviour_ok: HashSet<(u32, u64, String)>,
}

/// The guard's ancestors (not itself, not PIDs 0-1).
fn ancestors_of_self(platform: &mut impl ProcessPlatform) -> HashSet<u32> {
    let mut ancestors = HashSet::new();
    let mut pid = platform.parent_of(std::process::id());
    while let Some(p) = pid.filter(|p| *p > 1 && ancestors.len() < 256) {
        if !ancestors.insert(p) {
            break;
        }
        pid = platform.parent_of(p);
    }
    ancestors
}

impl<P: ProcessPlatform> Guard<P> {
    /// A guard for `policy` with the given configuration.
    pub fn new(policy: Policy, config: GuardConfig, mut platform: P) -> Self {
        let deny = policy.effective_deny_rules();
        let protected = HashSet::from([0, 1, 2, std::process::id()]);
        let ancestors = ancestors_of_self(&mut platform);
        let watch = match &config.display {
            Some(targets) if policy.display_rules_enforced() => platform.behaviour_watch(targets),
            _ => None,
        };
        Self {
            policy,
            deny,
            config,
            platform,
            protected,
            ancestors,
            session_servers: None,
            reported: HashSet::new(),
            watch,
            socket_owners: HashMap::new(),
            seen_sockets: HashSet::new(),
            device_uses: HashMap::new(),
            behaviour_ok: HashSet::new(),
        }
    }

    /// Whether processes are also judged by behaviour.
    pub fn judges_behaviour(&self) -> bool {
        self.watch.is_some()
    }

    /// What the behaviour watch cannot do now (no X-Resource on the display,
    /// socket diagnostics refused), for the journal; empty when all works.
    pub fn behaviour_limits(&self) -> Vec<String> {
        self.watch.as_ref().map(|w| w.limits()).unwrap_or_default()
    }

    /// The configuration.
    pub fn config(&self) -> &GuardConfig {
        &self.config
    }

    /// One sweep, report only: every process in scope that may not run.
    pub fn scan(&mut self) -> Vec<Finding> {
        let processes = self.platform.snapshot();
        let mut uses = self.observe_all(&processes);
        processes
            .into_iter()
            .filter_map(|p| {
                let seen = uses.remove(&p.pid).unwrap_or_default();
                self.verdict(&p, &seen).map(|(rule, reason)| Finding { process: p, rule, reason })
            })
            .collect()
    }

    /// Whether the guard may judge `process` at all.
    fn in_scope(&mut self, process: &ProcessInfo) -> bool {
        !process.kernel_thread && !self.protected.contains(&process.pid) && self.config.scope.contains(process, &mut self.platform)
    }

    /// The rule that denies `process` and why, or `None` when it may run or is out of scope.
    fn verdict(&mut self, process: &ProcessInfo, uses: &[Use]) -> Option<(String, Reason)> {
        if !self.in_scope(process) {
            return None;
        }
        if let Some(denied) = self.judge_names(process) {
            return Some(denied);
        }
        self.judge_behaviour(process, uses)
    }

    fn facts_hash(&mut self, process: &ProcessInfo) -> Option<[u8; 32]> {
        let needs_hash = self.deny.iter().chain(&self.policy.processes.allow).any(ProcessRule::needs_exe_hash)
            || self.policy.processes.accommodations.iter().flat_map(|a| &a.allow).any(ProcessRule::needs_exe_hash);
        if needs_hash {
            self.platform.exe_sha256(process)
        } else {
            None
        }
    }

    /// The name list (the fast path and the vocabulary of reports).
    fn judge_names(&mut self, process: &ProcessInfo) -> Option<(String, Reason)> {
        let hash = self.facts_hash(process);
        let facts = facts_of(process, hash.as_ref());
        let accommodations = self.config.granted();
        match self.policy.judge_process(&facts, &accommodations, &self.deny) {
            ProcessVerdict::Denied { rule } if rule == "not on the allow list" => Some((rule, Reason::NotAllowed)),
            ProcessVerdict::Denied { rule } => Some((rule, Reason::DenyRule)),
            ProcessVerdict::Allowed { .. } | ProcessVerdict::Unlisted => None,
        }
    }

    /// Behaviour: what the process was seen doing, unless it is one of the
    /// desktop's own programs from a trusted executable, or the kiosk's own.
    fn judge_behaviour(&mut self, process: &ProcessInfo, uses: &[Use]) -> Option<(String, Reason)> {
        if uses.is_empty() || self.watch.is_none() {
            return None;
        }
        // The kiosk's own process tree (WebKit's helpers, the clipboard tool).
        if Scope::Tree(std::process::id()).contains(process, &mut self.platform) {
            return None;
        }
        let trusted = self.watch.as_mut().is_some_and(|w| w.exe_trusted(process.pid));
        let hash = self.facts_hash(process);
        let facts = facts_of(process, hash.as_ref());
        let accommodations = self.config.granted();
        let verdict = self.policy.judge_display_client(&facts, trusted, &accommodations);
        // An accommodation's tool written in a scripting language (Orca is
        // python3 running /usr/bin/orca): the script names the tool, when the
        // interpreter and the script are trusted and nothing is injected.
        // Only for a granted accommodation, never for the desktop list.
        if matches!(verdict, DisplayVerdict::Denied { .. }) && trusted && !accommodations.is_empty() {
            if let Some(script) = self.watch.as_mut().and_then(|w| w.script_of(process.pid)) {
                let name = std::path::Path::new(&script).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                let facts = ProcessFacts { name: &name, exe: Some(&script), exe_sha256: None, cmdline: None, parent: facts.parent };
                if self.policy.accommodation_allows(&facts, &accommodations).is_some() {
                    return None;
                }
            }
        }
        match verdict {
            DisplayVerdict::Allowed { .. } => None,
            DisplayVerdict::Denied { why } => {
                // The most telling use first: input injection, capture, then display.
                let rank = |u: &Use| match u.reason {
                    Reason::InputInjection => 0,
                    Reason::ScreenCapture => 1,
                    _ => 2,
                };
                let mut sorted: Vec<&Use> = uses.iter().collect();
                sorted.sort_by_key(|u| rank(u));
                sorted.dedup();
                let reason = sorted[0].reason;
                let evidence: Vec<&str> = sorted.iter().map(|u| u.evidence.as_str()).collect();
                Some((format!("{} ({}): {why}", reason.as_str(), evidence.join("; ")), reason))
            }
        }
    }

    /// Judges one process and, when it may not run, ends it (or reports it).
    fn handle(&mut self, process: &ProcessInfo, detected_by: Detection, uses: &[Use]) -> Option<GuardEvent> {
        let started = Instant::now();
        if self.reported.contains(&(process.pid, process.name.clone())) {
            return None;
        }
        let (rule, reason) = self.verdict(process, uses)?;
        let trusted_display_client =
            reason == Reason::DisplayClient && self.watch.as_mut().is_some_and(|w| w.exe_trusted(process.pid));
        let outcome = match self.config.enforcement {
            Enforcement::ReportOnly => Outcome::WouldEnd,
            // Never an ancestor: it could be the kiosk's parent or the test
            // harness. Reported as not ended, which locks the session.
            Enforcement::Enforce if self.ancestors.contains(&process.pid) => Outcome::NotEnded {
                reason: "an ancestor of the kiosk (the guard never ends one)".into(),
            },
            Enforcement::Enforce => self.platform.terminate(process, self.config.kill_grace, KILL_CONFIRM_TIMEOUT),
        };
        if matches!(outcome, Outcome::NotEnded { .. } | Outcome::WouldEnd) {
            self.reported.insert((process.pid, process.name.clone()));
        }
        Some(GuardEvent {
            pid: process.pid,
            name: process.name.clone(),
            exe: process.exe.clone(),
            rule,
            reason,
            detected_by,
            outcome,
            handling_us: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
            trusted_display_client,
        })
    }

    /// Reads the open files of every in-scope process (`pids`): which
    /// sockets they hold and which watched devices.
    fn scan_fds(&mut self, pids: &[u32]) {
        let Some(watch) = self.watch.as_mut() else { return };
        self.socket_owners.clear();
        self.device_uses.clear();
        for &pid in pids {
            let (sockets, devices) = watch.fds_of(pid);
            for inode in sockets {
                self.socket_owners.entry(inode).or_default().push(pid);
            }
            if !devices.is_empty() {
                self.device_uses.insert(pid, devices);
            }
        }
    }

    /// X11 clients and the holders of watched sockets' client ends, by pid.
    fn connected(&mut self, sockets: &HashMap<u64, Use>, x11: &[u32]) -> HashMap<u32, Vec<Use>> {
        let mut uses: HashMap<u32, Vec<Use>> = HashMap::new();
        for &pid in x11 {
            uses.entry(pid).or_default().push(Use::new(Reason::DisplayClient, "X11 client (X-Resource)"));
        }
        for (inode, what) in sockets {
            for &pid in self.socket_owners.get(inode).into_iter().flatten() {
                let list = uses.entry(pid).or_default();
                if !list.contains(what) {
                    list.push(what.clone());
                }
            }
        }
        // The session's servers (the X server, the compositor, PipeWire)
        // hold the listening sockets: never clients. A server is a holder of
        // a watched socket that is listening and is the file at its path now
        // (the watch checks), from a trusted executable, that held it when
        // the guard started. The student owns $XDG_RUNTIME_DIR and could bind
        // a socket of that name in a program of their own (a trusted python3
        // running a script): not the session's server. A server started
        // during the exam is judged like any program (an allowed Xwayland
        // passes the desktop list; its clients are watched anyway).
        let servers = self.watch.as_ref().map(|w| w.server_sockets()).unwrap_or_default();
        let holders: Vec<u32> = servers.iter().flat_map(|inode| self.socket_owners.get(inode).into_iter().flatten().copied()).collect();
        // Recorded at the first look that sees any server (not while the
        // socket dump fails).
        if self.session_servers.is_none() && !holders.is_empty() {
            let mut recorded = HashSet::new();
            for &pid in &holders {
                if let Some((ticks, _)) = self.platform.identity(pid) {
                    recorded.insert((pid, ticks));
                }
            }
            self.session_servers = Some(recorded);
        }
        for pid in holders {
            if !uses.contains_key(&pid) {
                continue;
            }
            let recorded = self.platform.identity(pid).is_some_and(|(ticks, _)| {
                self.session_servers.as_ref().is_some_and(|s| s.contains(&(pid, ticks)))
            });
            if recorded && self.watch.as_mut().is_some_and(|w| w.exe_trusted(pid)) {
                uses.remove(&pid);
            }
        }
        uses
    }

    /// Everything the behaviour watch sees about `processes` (a sweep's snapshot).
    fn observe_all(&mut self, processes: &[ProcessInfo]) -> HashMap<u32, Vec<Use>> {
        if self.watch.is_none() {
            return HashMap::new();
        }
        let in_scope: Vec<u32> = processes.iter().filter(|p| self.in_scope(p)).map(|p| p.pid).collect();
        let Some(watch) = self.watch.as_mut() else { return HashMap::new() };
        let x11 = watch.x11_clients();
        let sockets = watch.socket_clients();
        self.scan_fds(&in_scope);
        self.seen_sockets = sockets.keys().copied().collect();
        let mut uses = self.connected(&sockets, &x11);
        for (pid, devices) in &self.device_uses {
            uses.entry(*pid).or_default().extend(devices.iter().cloned());
        }
        uses
    }

    /// The display watch: new X11, Wayland and PipeWire clients since the
    /// last look are judged at once (a program connects after its exec).
    fn display_tick(&mut self, sink: &mut impl FnMut(GuardEvent), summary: &mut RunSummary) {
        let Some(watch) = self.watch.as_mut() else { return };
        summary.display_polls += 1;
        let x11 = watch.x11_clients();
        let sockets = watch.socket_clients();
        if sockets.keys().any(|inode| !self.seen_sockets.contains(inode)) {
            // A connection the guard has not seen: find who holds it.
            let pids: Vec<u32> = self.platform.pids();
            let mut in_scope = Vec::new();
            for pid in pids {
                if !self.protected.contains(&pid) && self.config.scope.may_contain_pid(pid, &mut self.platform) {
                    in_scope.push(pid);
                }
            }
            self.scan_fds(&in_scope);
            self.seen_sockets = sockets.keys().copied().collect();
        }
        let uses = self.connected(&sockets, &x11);
        for (pid, seen) in uses {
            if self.protected.contains(&pid) {
                continue;
            }
            let Some((ticks, exe)) = self.platform.identity(pid) else { continue };
            let key = (pid, ticks, exe);
            if self.behaviour_ok.contains(&key) {
                continue;
            }
            if !self.config.scope.may_contain_pid(pid, &mut self.platform) {
                self.behaviour_ok.insert(key);
                continue;
            }
            let Some(process) = self.platform.inspect(pid) else { continue };
            match self.handle(&process, Detection::DisplayWatch, &seen) {
                Some(event) => {
                    summary.events += 1;
                    sink(event);
                }
                None => {
                    self.behaviour_ok.insert(key);
                }
            }
        }
    }

    fn sweep(&mut self, detected_by: Detection, sink: &mut impl FnMut(GuardEvent), summary: &mut RunSummary) {
        summary.sweeps += 1;
        // An ancestor can exec, or the chain change (a parent exits).
        self.ancestors = ancestors_of_self(&mut self.platform);
        let processes = self.platform.snapshot();
        let mut uses = self.observe_all(&processes);
        if self.watch.is_some() {
            let alive: HashSet<u32> = processes.iter().map(|p| p.pid).collect();
            self.behaviour_ok.retain(|(pid, _, _)| alive.contains(pid));
        }
        for process in processes {
            let seen = uses.remove(&process.pid).unwrap_or_default();
            if let Some(event) = self.handle(&process, detected_by, &seen) {
                summary.events += 1;
                sink(event);
            }
        }
    }

    /// Runs until `stop` is set or `duration` (if any) has passed: an
    /// initial sweep, then exec events as they come, with a full sweep every
    /// `sweep_interval`. Every decision goes to `sink`.
    pub fn run(&mut self, stop: &AtomicBool, duration: Option<Duration>, mut sink: impl FnMut(GuardEvent)) -> RunSummary {
        let deadline = duration.map(|d| Instant::now() + d);
        let mut events: Option<Box<dyn ExecEvents>> =
            if self.config.exec_events { self.platform.exec_events() } else { None };
        let mut summary =
            RunSummary { event_driven: events.is_some(), behaviour: self.watch.is_some(), ..RunSummary::default() };
        self.sweep(Detection::InitialSweep, &mut sink, &mut summary);
        let mut next_sweep = Instant::now() + self.config.sweep_interval;
        let mut next_display = Instant::now() + DISPLAY_POLL;
        while !stop.load(Ordering::Relaxed) {
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                break;
            }
            if now >= next_sweep {
                self.sweep(Detection::Sweep, &mut sink, &mut summary);
                next_sweep = Instant::now() + self.config.sweep_interval;
                next_display = Instant::now() + DISPLAY_POLL;
                continue;
            }
            if self.watch.is_some() && now >= next_display {
                self.display_tick(&mut sink, &mut summary);
                next_display = Instant::now() + DISPLAY_POLL;
                continue;
            }
            let mut wait = (next_sweep - now).min(STOP_POLL);
            if self.watch.is_some() {
                wait = wait.min(next_display.saturating_duration_since(now));
            }
            if let Some(d) = deadline {
                wait = wait.min(d.saturating_duration_since(now));
            }
            match events.as_mut().map(|e| e.next(wait)) {
                None => std::thread::sleep(wait),
                Some(ExecWait::Timeout) => {}
                Some(ExecWait::Exec(pid)) => {
                    summary.exec_events += 1;
                    if !self.config.scope.may_contain_pid(pid, &mut self.platform) {
                        continue;
                    }
                    if let Some(process) = self.platform.inspect(pid) {
                        // What it does is seen once it connects (display watch, sweeps).
                        if let Some(event) = self.handle(&process, Detection::ExecEvent, &[]) {
                            summary.events += 1;
                            sink(event);
                        }
                    }
                }
                Some(ExecWait::Overflow) => {
                    // Notifications were lost: look at everything now.
                    summary.overflows += 1;
                    self.sweep(Detection::Sweep, &mut sink, &mut summary);
                }
                Some(ExecWait::Failed(_)) => {
                    // The event source broke; the sweep stays as the safety net.
                    events = None;
                    summary.event_driven = false;
                }
            }
        }
        summary.behaviour_limits = self.watch.as_ref().map(|w| w.limits()).unwrap_or_default();
        summary
    }
}


#[cfg(test)]
mod tests {
    use super::*;

    fn ended(reason: Reason, trusted_display_client: bool) -> GuardEvent {
        GuardEvent {
            pid: 10,
            name: "x".into(),
            exe: None,
            rule: String::new(),
            reason,
            detected_by: Detection::Sweep,
            outcome: Outcome::Ended { signal: "SIGTERM".into() },
            handling_us: 0,
            trusted_display_client,
        }
    }

    /// Review finding 6: only a trusted program ended as a mere display
    /// client goes without a lock.
    #[test]
    fn only_a_trusted_display_client_ends_without_a_lock() {
        assert!(!ended(Reason::DisplayClient, true).locks_when_ended());
        assert!(ended(Reason::DisplayClient, false).locks_when_ended());
        for reason in [Reason::ScreenCapture, Reason::InputInjection, Reason::DenyRule, Reason::NotAllowed] {
            assert!(ended(reason, true).locks_when_ended(), "{reason:?}");
        }
    }
}
