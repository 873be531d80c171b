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
//! threads, itself or its own ancestors.
//!
//! In [`Enforcement::ReportOnly`] (demo, development, `kioskctl guard scan`)
//! the guard only reports what it would end.

pub mod platform;
mod scope;

pub use scope::Scope;

use exam_policy::{Policy, ProcessFacts, ProcessRule, ProcessVerdict};
use platform::{ExecEvents, ExecWait, ProcessPlatform};
use serde::Serialize;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Longest a guard waits for a process to die after `SIGKILL`.
pub const KILL_CONFIRM_TIMEOUT: Duration = Duration::from_secs(1);
/// How often a running guard looks at its stop flag when nothing happens.
const STOP_POLL: Duration = Duration::from_millis(100);

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
    /// The rule that denied it.
    pub rule: String,
    /// How it was found.
    pub detected_by: Detection,
    /// What happened.
    pub outcome: Outcome,
    /// Microseconds from detection to the confirmed end (or the failure).
    pub handling_us: u64,
}

impl GuardEvent {
    /// The journal event kind for this event.
    pub fn journal_kind(&self) -> &'static str {
        match self.outcome {
            Outcome::Ended { .. } => "guard.process_ended",
            Outcome::WouldEnd => "guard.process_would_end",
            Outcome::AlreadyGone => "guard.process_exited",
            Outcome::NotEnded { .. } => "guard.process_not_ended",
        }
    }

    /// True when the session must lock because of this event.
    pub fn requires_lock(&self) -> bool {
        matches!(self.outcome, Outcome::NotEnded { .. })
    }
}

/// A process the guard found that may not run, without acting on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The process.
    pub process: ProcessInfo,
    /// The rule that denies it.
    pub rule: String,
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
}

impl GuardConfig {
    /// Takes the intervals from the policy.
    pub fn from_policy(policy: &Policy, scope: Scope, enforcement: Enforcement, accommodations: Vec<String>) -> Self {
        Self {
            enforcement,
            scope,
            accommodations,
            sweep_interval: Duration::from_millis(u64::from(policy.processes.sweep_interval_ms.max(1))),
            kill_grace: Duration::from_millis(u64::from(policy.processes.kill_grace_ms)),
            exec_events: true,
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
}

/// The guard engine over a platform.
pub struct Guard<P: ProcessPlatform> {
    policy: Policy,
    deny: Vec<ProcessRule>,
    config: GuardConfig,
    platform: P,
    /// Never touched: the guard itself and its ancestors.
    protected: HashSet<u32>,
    /// Processes already reported and left running (pid, name): impossible
    /// to end, or report-only mode. Reported once, not again at every sweep.
    reported: HashSet<(u32, String)>,
}

impl<P: ProcessPlatform> Guard<P> {
    /// A guard for `policy` with the given configuration.
    pub fn new(policy: Policy, config: GuardConfig, mut platform: P) -> Self {
        let deny = policy.effective_deny_rules();
        let mut protected = HashSet::from([0, 1, 2]);
        let mut pid = Some(std::process::id());
        while let Some(p) = pid.filter(|p| *p > 1 && protected.len() < 256) {
            protected.insert(p);
            pid = platform.parent_of(p);
        }
        Self { policy, deny, config, platform, protected, reported: HashSet::new() }
    }

    /// The configuration.
    pub fn config(&self) -> &GuardConfig {
        &self.config
    }

    /// One sweep, report only: every process in scope that may not run.
    pub fn scan(&mut self) -> Vec<Finding> {
        let processes = self.platform.snapshot();
        processes
            .into_iter()
            .filter_map(|p| self.judge(&p).map(|rule| Finding { process: p, rule }))
            .collect()
    }

    /// The rule that denies `process`, or `None` when it may run or is out of scope.
    fn judge(&mut self, process: &ProcessInfo) -> Option<String> {
        if process.kernel_thread || self.protected.contains(&process.pid) {
            return None;
        }
        if !self.config.scope.contains(process, &mut self.platform) {
            return None;
        }
        let needs_hash = self.deny.iter().chain(&self.policy.processes.allow).any(ProcessRule::needs_exe_hash)
            || self.policy.processes.accommodations.iter().flat_map(|a| &a.allow).any(ProcessRule::needs_exe_hash);
        let hash = if needs_hash { self.platform.exe_sha256(process) } else { None };
        let facts = ProcessFacts {
            name: &process.name,
            exe: process.exe.as_deref(),
            exe_sha256: hash.as_ref(),
            cmdline: process.cmdline.as_deref(),
            parent: process.parent_name.as_deref(),
        };
        let accommodations: Vec<&str> = self.config.accommodations.iter().map(String::as_str).collect();
        match self.policy.judge_process(&facts, &accommodations, &self.deny) {
            ProcessVerdict::Denied { rule } => Some(rule),
            ProcessVerdict::Allowed { .. } | ProcessVerdict::Unlisted => None,
        }
    }

    /// Judges one process and, when it may not run, ends it (or reports it).
    fn handle(&mut self, process: &ProcessInfo, detected_by: Detection) -> Option<GuardEvent> {
        let started = Instant::now();
        if self.reported.contains(&(process.pid, process.name.clone())) {
            return None;
        }
        let rule = self.judge(process)?;
        let outcome = match self.config.enforcement {
            Enforcement::ReportOnly => Outcome::WouldEnd,
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
            detected_by,
            outcome,
            handling_us: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        })
    }

    fn sweep(&mut self, detected_by: Detection, sink: &mut impl FnMut(GuardEvent), summary: &mut RunSummary) {
        summary.sweeps += 1;
        for process in self.platform.snapshot() {
            if let Some(event) = self.handle(&process, detected_by) {
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
        let mut summary = RunSummary { event_driven: events.is_some(), ..RunSummary::default() };
        self.sweep(Detection::InitialSweep, &mut sink, &mut summary);
        let mut next_sweep = Instant::now() + self.config.sweep_interval;
        while !stop.load(Ordering::Relaxed) {
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                break;
            }
            if now >= next_sweep {
                self.sweep(Detection::Sweep, &mut sink, &mut summary);
                next_sweep = Instant::now() + self.config.sweep_interval;
                continue;
            }
            let mut wait = (next_sweep - now).min(STOP_POLL);
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
                        if let Some(event) = self.handle(&process, Detection::ExecEvent) {
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
        summary
    }
}

