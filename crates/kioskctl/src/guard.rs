//! `kioskctl guard`: scan for and end processes that may not run.

use crate::exit::{self, Outcome};
use anyhow::bail;
use clap::Subcommand;
use exam_journal::{Journal, JournalConfig, KeyStore};
use kiosk_core::events::{details, journal_event, KioskEvent};
use exam_policy::{load_policy_file, Action, Policy, ProcessMode};
use kiosk_core::guard::platform::NativePlatform;
use kiosk_core::guard::{Enforcement, Guard, GuardConfig, Scope};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

/// Process guard commands.
#[derive(Subcommand)]
pub enum GuardCommand {
    /// One sweep, report only: every process in scope that may not run.
    Scan {
        /// The policy (TOML).
        #[arg(long)]
        policy: PathBuf,
        /// Which processes to judge: `user:UID|NAME` or `tree:PID` (its descendants).
        /// Default: the current user's processes.
        #[arg(long)]
        scope: Option<Scope>,
        /// Accommodations granted (extra allowed tools), by id.
        #[arg(long = "accommodation")]
        accommodations: Vec<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Environment checks (virtual machine, remote session, displays, screen
    /// capture) with the policy's actions; exit 1 when one calls for a lock
    /// or a refusal to start.
    Env {
        /// The policy (TOML).
        #[arg(long)]
        policy: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Watch and (with --enforce) end offending processes, journalling each event.
    Watch {
        /// The policy (TOML).
        #[arg(long)]
        policy: PathBuf,
        /// The journal directory.
        #[arg(long)]
        journal: PathBuf,
        /// Where the device key lives: `keyring`, `keyring:ENTRY` or `file:PATH`.
        #[arg(long)]
        store: KeyStore,
        /// Which processes to judge and end: `user:UID|NAME` or `tree:PID` (its descendants).
        #[arg(long)]
        scope: Scope,
        /// End offending processes (default: report what would be ended).
        #[arg(long)]
        enforce: bool,
        /// Accommodations granted (extra allowed tools), by id.
        #[arg(long = "accommodation")]
        accommodations: Vec<String>,
        /// Stop after this many seconds (default: until interrupted).
        #[arg(long)]
        duration: Option<u64>,
    },
}

/// Runs a guard command.
pub fn run(cmd: GuardCommand) -> Outcome {
    let result = match cmd {
        GuardCommand::Scan { policy, scope, accommodations, json } => scan(&policy, scope, accommodations, json),
        GuardCommand::Env { policy, json } => environment(&policy, json),
        GuardCommand::Watch { policy, journal, store, scope, enforce, accommodations, duration } => {
            watch(&policy, &journal, &store, scope, enforce, accommodations, duration)
        }
    };
    match result {
        Ok(outcome) => outcome,
        Err(err) => exit::error(&err),
    }
}

fn load(policy: &Path, accommodations: &[String]) -> anyhow::Result<Policy> {
    let policy = load_policy_file(policy)?;
    for id in accommodations {
        if !policy.processes.accommodations.iter().any(|a| &a.id == id) {
            bail!("the policy has no accommodation {id:?}");
        }
    }
    Ok(policy)
}

#[cfg(unix)]
fn current_uid() -> u32 {
    // The owner of our own /proc entry is our real uid.
    std::fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m)).unwrap_or(0)
}

/// Windows: the guard's "user" is the Windows session this runs in.
#[cfg(windows)]
fn current_uid() -> u32 {
    kiosk_core::guard::platform::current_session().unwrap_or(0)
}

/// The scan's scope without `--scope`: the current user's processes.
#[cfg(unix)]
fn default_scope() -> anyhow::Result<Scope> {
    Ok(Scope::User(current_uid()))
}

/// The scan's scope without `--scope` on Windows: this Windows session's
/// processes; never session 0 (the services') by default.
#[cfg(windows)]
fn default_scope() -> anyhow::Result<Scope> {
    match kiosk_core::guard::platform::current_session() {
        Some(session) if session != 0 => Ok(Scope::User(session)),
        Some(_) => bail!("this runs in session 0 (the services'): give --scope user:N (a student's session) or --scope tree:PID"),
        None => bail!("this program's Windows session is unknown: give --scope user:N or --scope tree:PID"),
    }
}

fn scan(policy: &Path, scope: Option<Scope>, accommodations: Vec<String>, json: bool) -> anyhow::Result<Outcome> {
    let policy = load(policy, &accommodations)?;
    let scope = match scope {
        Some(scope) => scope,
        None => default_scope()?,
    };
    let config = GuardConfig::from_policy(&policy, scope, Enforcement::ReportOnly, accommodations);
    let mut guard = Guard::new(policy, config, NativePlatform::new()?);
    let findings = guard.scan();
    if json {
        outln!("{}", serde_json::to_string_pretty(&findings)?);
    } else if findings.is_empty() {
        outln!("no process in {scope} may be ended");
    } else {
        for f in &findings {
            outln!("would end pid {:>7}  {:<24} ({})", f.process.pid, f.process.name, f.rule);
        }
    }
    Ok(Outcome::Ok)
}

fn environment(policy: &Path, json: bool) -> anyhow::Result<Outcome> {
    let policy = load_policy_file(policy)?;
    let report = kiosk_core::environment::evaluate(&kiosk_core::environment::gather(), &policy.environment);
    if json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for finding in &report.findings {
            outln!("{:<16} {}", format!("{:?}", finding.check), state(finding));
            for evidence in &finding.evidence {
                outln!("    {evidence}");
            }
        }
    }
    Ok(match report.action {
        Action::Allow | Action::Warn => Outcome::Ok,
        Action::Lock | Action::RefuseStart => Outcome::Failed,
    })
}

/// What a finding says in the text report: its action when it fired, `ok`
/// when it was checked and found nothing, and `not checked` (with the
/// action that stands in for it) when this platform gathers no facts for it
/// — never `ok` for a check that was not made.
fn state(finding: &kiosk_core::environment::Finding) -> String {
    let action = format!("{:?}", finding.action).to_lowercase();
    match (finding.checked, finding.detected) {
        (false, _) => format!("not checked ({action})"),
        (true, true) => action,
        (true, false) => "ok".into(),
    }
}

fn watch(
    policy_path: &Path,
    journal_dir: &Path,
    store: &KeyStore,
    scope: Scope,
    enforce: bool,
    accommodations: Vec<String>,
    duration: Option<u64>,
) -> anyhow::Result<Outcome> {
    let policy = load(policy_path, &accommodations)?;
    // Never enforce an allow-list against the invoking user's own session
    // (or root's): it would end the developer's desktop or CI itself.
    // Likewise a policy that ends display clients by behaviour (byod): every
    // unlisted program with a window of the developer's desktop would go.
    if enforce && (policy.process_mode() == ProcessMode::AllowList || policy.display_rules_enforced()) {
        if let Scope::User(uid) = scope {
            if uid == 0 || uid == current_uid() {
                let what = if policy.process_mode() == ProcessMode::AllowList { "an allow-list" } else { "display-client rules" };
                bail!("refusing to enforce {what} on user {uid}: that is this session; use the exam user's uid or --scope tree:PID");
            }
        }
    }
    let enforcement = if enforce { Enforcement::Enforce } else { Enforcement::ReportOnly };
    let config = GuardConfig::from_policy(&policy, scope, enforcement, accommodations.clone());
    let mut journal = Journal::open(journal_dir, store.load()?, JournalConfig::default())?;
    let start = serde_json::json!({
        "scope": scope.to_string(), "enforcement": enforcement, "policy": policy.name, "accommodations": accommodations,
    });
    journal.append(&journal_event(&KioskEvent::GuardStarted(details(start)))?)?;
    let mut guard = Guard::new(policy, config, NativePlatform::new()?);
    let mut failure: Option<anyhow::Error> = None;
    let mut stdout_error: Option<std::io::Error> = None;
    let stop = AtomicBool::new(false);
    let summary = guard.run(&stop, duration.map(Duration::from_secs), |event| {
        // Journal first, then print: the journal is the evidence, stdout only
        // a view of it. A closed stdout stops the guard cleanly (guard.stopped
        // and the closing checkpoint are still written), never mid-event.
        let mut batch = vec![journal_event(&event.journal_event())];
        if event.requires_lock() {
            let lock = serde_json::json!({"reason": kiosk_core::events::kinds::GUARD_PROCESS_NOT_ENDED, "pid": event.pid, "name": event.name});
            batch.push(journal_event(&KioskEvent::SessionLockRequested(details(lock))));
        }
        let result = batch.into_iter().collect::<Result<Vec<_>, _>>().and_then(|b| journal.append_batch(&b));
        if let Err(err) = result {
            if failure.is_none() {
                failure = Some(err.into());
            }
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        if stdout_error.is_none() {
            let printed = crate::exit::try_write_line(format_args!(
                "{} pid {} {} ({})",
                event.journal_kind(),
                event.pid,
                event.name,
                event.rule
            ));
            if let Err(err) = printed {
                stdout_error = Some(err);
                stop.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        }
    });
    journal.append(&journal_event(&KioskEvent::GuardStopped(details(serde_json::to_value(&summary)?)))?)?;
    journal.close()?;
    if let Some(err) = failure {
        return Err(err.context("journalling a guard event failed; the guard stopped"));
    }
    if let Some(err) = stdout_error {
        crate::exit::report_stdout_error(&err);
        eprintln!("guard stopped: stdout was closed; every event was journalled");
        return Ok(Outcome::Error);
    }
    eprintln!(
        "guard stopped: {} events, {} sweeps, {} exec notifications ({})",
        summary.events,
        summary.sweeps,
        summary.exec_events,
        if summary.event_driven { "event-driven" } else { "sweeps only" }
    );
    Ok(Outcome::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;
    use exam_policy::Action;
    use kiosk_core::environment::{Check, Finding};

    fn finding(checked: bool, detected: bool, action: Action) -> Finding {
        Finding { check: Check::VirtualMachine, detected, evidence: Vec::new(), action, checked }
    }

    /// A check the platform could not make (Windows: the VM and display
    /// checks) printed `ok` before, like a check that found nothing.
    #[test]
    fn a_check_not_made_is_not_printed_as_ok() {
        assert_eq!(state(&finding(false, false, Action::Warn)), "not checked (warn)");
        assert_eq!(state(&finding(false, false, Action::Allow)), "not checked (allow)");
        assert_eq!(state(&finding(true, false, Action::Allow)), "ok");
        assert_eq!(state(&finding(true, true, Action::Lock)), "lock");
    }
}
