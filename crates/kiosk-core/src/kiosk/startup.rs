//! Startup: the checklist of revertible steps, the guard thread, and what
//! [`Kiosk::start`] builds from them.

use super::*;
use crate::guard::platform::NativePlatform;
use crate::guard::{Enforcement, Guard, GuardConfig, GuardEvent, Scope};
use crate::location::ProbeInput;
use crate::session::checklist::{Checklist, Revert, Step, StepEvent, StartupFailure};
use crate::session::skew::{ClockComparison, MAX_CLOCK_SKEW};
use crate::session::unlock::UnlockGate;
use crate::session::LockTime;
use exam_journal::{JournalConfig, SigningKey};
use std::sync::atomic::{AtomicBool, Ordering};

/// What the steps build up while the kiosk starts.
#[derive(Default)]
struct StartContext {
    policy: Option<Policy>,
    device_key: Option<SigningKey>,
    journal: Option<Arc<Mutex<Journal>>>,
    session: Option<Session>,
    guard: Option<GuardHandle>,
    location: Option<Decision>,
    hub: Option<HubClient>,
    /// An environment check asked for a lock (applied once startup is done).
    environment_lock: Option<String>,
    /// The location holds only once the student types the room code (BYOD).
    room_code_pending: bool,
}

impl StartContext {
    /// What every applied step built, together; a step that applied without
    /// leaving its part is a fault of the checklist, shown as a failed start.
    fn ready(self, mut applied: Applied) -> Startup {
        let StartContext { policy, journal, session, guard, location, hub, environment_lock, .. } = self;
        let test_automation = policy.as_ref().is_some_and(|p| p.environment.test_automation);
        let (Some(policy), Some(journal), Some(mut session), Some(guard), Some(location), Some(hub)) =
            (policy, journal, session, guard, location.clone(), hub)
        else {
            let reverted = applied.unwind();
            let reason = "a startup step applied without leaving what it builds".to_owned();
            let failure = StartupFailure { step: "opstartcontrole".into(), reason, reverted };
            return Startup::Failed { failure, test_automation, location };
        };
        // An environment check asked for a lock: the exam starts locked.
        if let Some(reason) = environment_lock {
            let _ = session.apply(Trigger::Lock { reason });
        }
        let unlock_gate = UnlockGate::new(
            crate::session::unlock::Roster { room: String::new(), invigilators: policy.lock.invigilators.iter().map(to_invigilator).collect() },
            policy.lock.max_failed_unlocks,
            Duration::from_secs(u64::from(policy.lock.failed_unlock_window_secs)),
        );
        Startup::Ready(Box::new(Ready { policy, session, journal, hub, guard, applied, location, unlock_gate }))
    }
}

/// The guard running on its own thread.
pub(super) struct GuardHandle {
    pub(super) stop: Arc<AtomicBool>,
    pub(super) thread: Option<std::thread::JoinHandle<()>>,
    pub(super) events: Mutex<std::sync::mpsc::Receiver<GuardEvent>>,
    /// What it runs with, so it can be started again with a student's
    /// granted tools ([`Inner::grant_accommodations`]).
    pub(super) scope: Scope,
    pub(super) enforcement: Enforcement,
    pub(super) accommodations: Vec<String>,
}

/// Starts the process guard on its own thread; its events go to the journal
/// and to the returned handle.
pub(super) fn spawn_guard(
    policy: Policy,
    journal: Arc<Mutex<Journal>>,
    scope: Scope,
    enforcement: Enforcement,
    accommodations: Vec<String>,
) -> Result<GuardHandle, String> {
    let config = GuardConfig::from_policy(&policy, scope, enforcement, accommodations.clone());
    let platform = NativePlatform::new().map_err(|e| e.to_string())?;
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = std::sync::mpsc::channel();
    let thread_stop = stop.clone();
    let thread = std::thread::Builder::new()
        .name("guard".into())
        .spawn(move || {
            let mut guard = Guard::new(policy, config, platform);
            guard.run(&thread_stop, None, |event| {
                if let Ok(e) = crate::events::journal_event(&event.journal_event()) {
                    let _ = journal.lock().unwrap_or_else(|p| p.into_inner()).append(&e);
                }
                let _ = tx.send(event);
            });
        })
        .map_err(|e| e.to_string())?;
    Ok(GuardHandle { stop, thread: Some(thread), events: Mutex::new(rx), scope, enforcement, accommodations })
}

impl GuardHandle {
    pub(super) fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A guard whose kiosk is gone stops too: its thread holds the journal, and
/// a kiosk started again on the same data directory (a restart in one
/// process, as the tests do) found it "in use by another writer".
impl Drop for GuardHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Kiosk {
    /// Runs the startup checklist. A failure is not an error here: the kiosk
    /// then shows the failing step and its reason, with everything reverted.
    pub fn start(options: KioskOptions, listener: Box<dyn Fn(&KioskView) + Send + Sync>) -> Self {
        let mut context = StartContext::default();
        let mut statuses: Vec<StepStatus> = Vec::new();
        let result = checklist(&options).run(&mut context, |event| {
            match event {
                StepEvent::Started { step } => statuses.push(StepStatus { step: step.clone(), state: "running" }),
                StepEvent::Applied { step } => set_state(&mut statuses, step, "done"),
                StepEvent::Failed { step, .. } => set_state(&mut statuses, step, "failed"),
                StepEvent::Reverted { .. } => {}
            }
        });
        let room_code_pending = context.room_code_pending;
        let started = match result {
            Ok(applied) => context.ready(applied),
            Err(failure) => {
                let test_automation = context.policy.as_ref().is_some_and(|p| p.environment.test_automation);
                Startup::Failed { failure, test_automation, location: context.location }
            }
        };
        let web = crate::instrument::web_start::WebSlot::default();
        let media = crate::instrument::media::MediaSlot::default();
        // Only a kiosk that started waits for a room code.
        let room_code_pending = room_code_pending && matches!(started, Startup::Ready(_));
        let inner = Inner {
            started,
            startup: statuses,
            stage: Stage::Idle,
            login_error: None,
            unlock_error: None,
            answer_key_store: answer_key_store(&options.key_store),
            web: web.clone(),
            media: media.clone(),
            policy_hash: crate::instrument::web_start::policy_hash(&options.policy),
            offline: false,
            offline_journalled: false,
            journal_damage: None,
            answers_refused: None,
            demo: options.demo,
            room_codes: RoomCodeVerifier::load(&options.data_dir.join(dirs::STATE).join(ROOM_CODE_STATE_FILE)).unwrap_or_default(),
            data_dir: options.data_dir,
            policy_path: options.policy,
            notice: None,
            room_code_pending,
            save_failures: None,
            calculator_uses: Default::default(),
            spell_check_uses: Default::default(),
        };
        Self {
            inner: tokio::sync::Mutex::new(inner),
            focus_lost_at: Mutex::new(None),
            listener,
            web,
            media,
            uploading: tokio::sync::Mutex::new(()),
            sync_wanted: tokio::sync::Notify::new(),
            journal_uploading: tokio::sync::Mutex::new(()),
            downloading: tokio::sync::Mutex::new(()),
            starting: tokio::sync::Mutex::new(()),
            journal_synced: Mutex::new(None),
            answers_synced: Mutex::new(None),
        }
    }
}

impl Inner {
    /// Gives the process guard the student's granted tools (the
    /// accommodations from the hub's assignment: e.g. a screen reader that
    /// the policy allows only for students granted it). Before, the kiosk's
    /// guard ran with none, so it ended a granted student's screen reader.
    /// The guard is started again with them (its first sweep judges every
    /// process anew) and the grant is journalled. Nothing happens when the
    /// guard already has exactly these.
    pub(super) fn grant_accommodations(&mut self, tools: &[String]) {
        let mut tools: Vec<String> = tools.to_vec();
        tools.sort();
        tools.dedup();
        let Some(ready) = self.ready_mut() else { return };
        if ready.guard.accommodations == tools {
            return;
        }
        let (scope, enforcement) = (ready.guard.scope, ready.guard.enforcement);
        ready.guard.stop();
        match spawn_guard(ready.policy.clone(), ready.journal.clone(), scope, enforcement, tools.clone()) {
            Ok(handle) => {
                ready.guard = handle;
                self.journal_event(&KioskEvent::GuardAccommodationsGranted(ev::AccommodationsGranted { tools }));
            }
            Err(e) => {
                // No guard must not mean an unguarded exam: lock, and say why
                // (the stopped guard stays in its place, reporting nothing).
                self.journal_event(&KioskEvent::GuardRestartFailed(ev::Reason::new(e.clone())));
                let _ = self.lock_session(format!("De procesbewaking kon niet opnieuw starten ({e}). Roep de surveillant."));
            }
        }
    }

    pub(super) fn device_id(&self) -> String {
        self.ready().map(|r| r.journal.lock().unwrap_or_else(|p| p.into_inner()).device_public_key().device_id()).unwrap_or_default()
    }
}

impl Kiosk {
    /// BYOD: the location holds once the student types the room's current
    /// code. Checks the whole location again with the code (and a fresh hub
    /// echo), journals the decision, and moves the session on to the login.
    /// The hub's echo and the beacons are asked without the state lock:
    /// lock, take, unlock, ask, lock, re-check, apply (issue 16).
    pub(super) async fn check_room_code(&self, room_code: Option<&str>) -> Result<(), UserError> {
        let code = room_code
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .ok_or_else(|| user("Vul de lokaalcode in die de surveillant laat zien."))?
            .to_owned();
        let (policy, hub, device_id, policy_dir, mut verifier) = {
            let inner = self.inner.lock().await;
            if inner.phase() != Some(Phase::LocationCheck) || !inner.room_code_pending {
                return Err(user("De lokaalcode kan nu niet worden gecontroleerd."));
            }
            let ready = inner.started()?;
            let (policy, hub) = (ready.policy.clone(), ready.hub.clone());
            let (device_id, policy_dir) = (inner.device_id(), inner.policy_path.parent().map(Path::to_path_buf));
            // A copy: the state keeps its verifier (used codes, failed tries)
            // whatever happens to this check; the login lets one check run
            // at a time (`Kiosk::starting`), so the copy comes back whole.
            (policy, hub, device_id, policy_dir, inner.room_codes.clone())
        };
        let echo = hub_echo(&hub).await;
        // Gathering may challenge beacons (blocking UDP with timeouts): off the async threads.
        let (decision, entered, verifier) = tokio::task::spawn_blocking(move || {
            let input = ProbeInput {
                device_id,
                room_code: Some(code),
                room_codes: &mut verifier,
                hub_echo: echo.as_ref().map(|(e, _)| e.clone()),
                hub_echo_nonce: echo.map(|(_, nonce)| nonce),
                policy_dir,
            };
            let evidence = location::gather(&policy, location::platform::native().as_ref(), input);
            (location::decide(&policy, &evidence), evidence.room_code, verifier)
        })
        .await
        .map_err(user)?;
        let mut inner = self.inner.lock().await;
        // Locked (or moved on) while the location was checked: nothing of
        // the check is adopted — the code is not spent, no decision journalled.
        if inner.phase() != Some(Phase::LocationCheck) || !inner.room_code_pending {
            return Err(user("De pc werd vergrendeld terwijl de lokaalcode werd gecontroleerd. Probeer het opnieuw zodra de surveillant de pc heeft vrijgegeven."));
        }
        inner.room_codes = verifier;
        if let Err(e) = inner.room_codes.save(&inner.data_dir.join(dirs::STATE).join(ROOM_CODE_STATE_FILE)) {
            inner.journal_event(&KioskEvent::LocationRoomCodeStateNotSaved(ev::Reason::new(e.to_string())));
        }
        let payload = ev::details(serde_json::to_value(&decision).unwrap_or_default());
        inner.journal_event(&if decision.is_approved() { KioskEvent::LocationApproved(payload) } else { KioskEvent::LocationRefused(payload) });
        let approved = match &decision {
            Decision::Approved { location, .. } => Some(location.clone()),
            Decision::Refused { .. } => None,
        };
        inner.started_mut()?.location = decision;
        let Some(location) = approved else {
            return Err(user(match entered {
                location::RoomCodeEvidence::Refused(location::RoomCodeError::RateLimited { retry_after_secs }) => {
                    format!("Te veel foute lokaalcodes. Probeer het over {retry_after_secs} seconden opnieuw.")
                }
                location::RoomCodeEvidence::Refused(location::RoomCodeError::Reused { .. }) => {
                    "Deze lokaalcode is al gebruikt. Wacht op de volgende code op het scherm van de surveillant.".to_owned()
                }
                location::RoomCodeEvidence::Accepted { .. } => {
                    "De lokaalcode klopt, maar deze pc staat niet in een goedgekeurd examenlokaal. Roep de surveillant.".to_owned()
                }
                _ => "De lokaalcode klopt niet of is verlopen. Kijk op het scherm van de surveillant en probeer het opnieuw.".to_owned(),
            }));
        };
        inner.room_code_pending = false;
        inner.session_apply(Trigger::LocationApproved { location })?;
        Ok(())
    }
}

/// The startup checklist, in order.
fn checklist(options: &KioskOptions) -> Checklist<StartContext> {
    let o = options.clone();
    let policy_path = o.policy.clone();
    let store = o.key_store.clone();
    let data_dir = o.data_dir.clone();
    let demo = o.demo;
    let scope = o.guard_scope;
    let echo_dir = o.data_dir.join(dirs::HUB);
    Checklist::new()
        .step(Step::new("beleid gecontroleerd", move |c: &mut StartContext| {
            c.policy = Some(exam_policy::load_policy_file(&policy_path).map_err(|e| e.to_string())?);
            Ok(None)
        }))
        .step(Step::new("apparaatsleutel geladen", move |c: &mut StartContext| {
            c.device_key = Some(store.load().map_err(|e| e.to_string())?);
            Ok(None)
        }))
        .step(Step::new("logboek geopend", {
            let data_dir = data_dir.clone();
            move |c: &mut StartContext| {
                let key = c.device_key.take().ok_or("no device key")?;
                let journal = Journal::open(&data_dir.join(dirs::JOURNAL), key, JournalConfig::default()).map_err(|e| e.to_string())?;
                let journal = Arc::new(Mutex::new(journal));
                let session = Session::boot(journal.clone(), &data_dir.join(dirs::STATE), LockTime::Pauses).map_err(|e| e.to_string())?;
                c.session = Some(session);
                c.journal = Some(journal.clone());
                Ok(Some(Box::new(move || {
                    // The last step undone: the closing checkpoint, after which
                    // the journal takes nothing more (so it ends with it).
                    let mut journal = journal.lock().unwrap_or_else(|p| p.into_inner());
                    journal.seal().map(|_| ()).map_err(|e| e.to_string())
                }) as Revert))
            }
        }))
        .step(Step::new("afscherming toegepast", move |c: &mut StartContext| {
            let session = c.session.as_mut().ok_or("no session")?;
            if session.phase() == Phase::Boot {
                session.apply(Trigger::LockdownStarted).map_err(|e| e.to_string())?;
            }
            if demo {
                return Ok(None);
            }
            crate::clipboard::clear().map_err(|e| e.to_string())?;
            // SysRq off through the helper (Linux), keyboard hook and
            // clipboard history off (Windows); see crate::lockdown.
            let journal = c.journal.clone();
            let events = journal.clone();
            let lockdown = crate::lockdown::Lockdown::engage(move |event| {
                journal_to(events.as_ref(), &KioskEvent::LockdownEvent(ev::LockdownEvent { event: format!("{event:?}") }));
            })
            .map_err(|e| e.to_string())?;
            journal_to(journal.as_ref(), &KioskEvent::LockdownEngaged(ev::LockdownEngaged { applied: lockdown.applied().to_vec() }));
            Ok(Some(Box::new(move || {
                // Emptied while Windows' clipboard history is still off, so
                // what is left there never reaches the history.
                let cleared = crate::clipboard::clear().map_err(|e| e.to_string());
                let released = lockdown.release().map_err(|e| e.to_string());
                journal_to(journal.as_ref(), &KioskEvent::LockdownReleased(ev::LockdownReleased { released: serde_json::to_value(&released).unwrap_or_default() }));
                cleared?;
                released.map(|_| ())
            }) as Revert))
        }))
        .step(Step::new("procesbewaking gestart", move |c: &mut StartContext| {
            let policy = c.policy.clone().ok_or("no policy")?;
            let journal = c.journal.clone().ok_or("no journal")?;
            // Windows: the kiosk's session. Unknown, a fallback would be
            // session 0, the services' (reviewer's finding): refused instead.
            let own_uid = current_uid().ok_or("de Windows-sessie van de kiosk is niet te bepalen")?;
            let scope = scope.unwrap_or(Scope::User(own_uid));
            let enforcement = if demo || windows_allow_list_on_own_session(&policy, &scope, own_uid) {
                Enforcement::ReportOnly
            } else {
                Enforcement::Enforce
            };
            let handle = spawn_guard(policy, journal, scope, enforcement, vec![])?;
            let stop = handle.stop.clone();
            c.guard = Some(handle);
            Ok(Some(Box::new(move || {
                stop.store(true, Ordering::Relaxed);
                Ok(())
            }) as Revert))
        }))
        .step(Step::new("omgeving gecontroleerd", move |c: &mut StartContext| {
            use exam_policy::Action;
            let policy = c.policy.as_ref().ok_or("no policy")?;
            let report = crate::environment::evaluate(&crate::environment::gather(), &policy.environment);
            let fired: Vec<String> =
                report.findings.iter().filter(|f| f.detected).flat_map(|f| f.evidence.iter().cloned()).collect();
            journal_to(c.journal.as_ref(), &KioskEvent::EnvironmentChecked(ev::details(serde_json::to_value(&report).unwrap_or_default())));
            match report.action {
                Action::Allow | Action::Warn => Ok(None),
                Action::Lock => {
                    c.environment_lock = Some(format!("Deze pc voldoet niet aan de examenregels: {}.", fired.join("; ")));
                    Ok(None)
                }
                Action::RefuseStart => Err(format!("deze pc mag geen examen starten: {}", fired.join("; "))),
            }
        }))
        .step(Step::new("klok gecontroleerd", {
            let hub_dir = o.data_dir.join(dirs::HUB);
            move |c: &mut StartContext| {
                // Without an enrolment or a reachable hub there is no time to
                // compare with; the hub step says why.
                let Some((echo, _)) = fetch_hub_echo(&hub_dir) else {
                    journal_to(c.journal.as_ref(), &KioskEvent::ClockUnchecked(ev::Reason::new("the hub did not answer")));
                    return Ok(None);
                };
                let comparison = ClockComparison::new(location::beacon::unix_ms(), echo.echo.time_ms, MAX_CLOCK_SKEW);
                let ok = comparison.within_tolerance();
                let payload = ev::ClockComparison {
                    hub_ms: comparison.hub_ms,
                    kiosk_ms: comparison.kiosk_ms,
                    skew_ms: Some(comparison.skew_ms),
                    tolerance_ms: comparison.tolerance_ms,
                };
                journal_to(c.journal.as_ref(), &if ok { KioskEvent::ClockChecked(payload) } else { KioskEvent::ClockFarOff(payload) });
                if ok { Ok(None) } else { Err(comparison.describe()) }
            }
        }))
        .step(Step::new("locatie gecontroleerd", move |c: &mut StartContext| {
            let policy = c.policy.as_ref().ok_or("no policy")?;
            let session = c.session.as_mut().ok_or("no session")?;
            if session.phase() == Phase::Lockdown {
                session.apply(Trigger::LockdownApplied).map_err(|e| e.to_string())?;
            }
            let mut room_codes = RoomCodeVerifier::new();
            // The hub's signed view of our source address, when enrolled and reachable.
            let echo = fetch_hub_echo(&echo_dir);
            let device_id = c.journal.as_ref().map(|j| j.lock().unwrap_or_else(|p| p.into_inner()).device_public_key().device_id()).unwrap_or_default();
            let input = ProbeInput {
                device_id,
                room_code: None,
                room_codes: &mut room_codes,
                hub_echo: echo.as_ref().map(|(e, _)| e.clone()),
                hub_echo_nonce: echo.map(|(_, nonce)| nonce),
                policy_dir: o.policy.parent().map(Path::to_path_buf),
            };
            let evidence = location::gather(policy, location::platform::native().as_ref(), input);
            let decision = location::decide(policy, &evidence);
            // BYOD: when the room code is all that is missing, the login form asks for it.
            let awaits_code = !decision.is_approved() && would_hold_with_room_code(policy, &evidence);
            let payload = ev::details(serde_json::to_value(&decision).unwrap_or_default());
            let event = match (decision.is_approved(), awaits_code) {
                (true, _) => KioskEvent::LocationApproved(payload),
                (false, true) => KioskEvent::LocationAwaitingRoomCode(payload),
                (false, false) => KioskEvent::LocationRefused(payload),
            };
            journal_to(c.journal.as_ref(), &event);
            if awaits_code {
                c.location = Some(decision);
                c.room_code_pending = true;
                return Ok(None);
            }
            let approved = match &decision {
                Decision::Approved { location, .. } => Some(location.clone()),
                Decision::Refused { .. } => None,
            };
            c.location = Some(decision);
            match approved {
                Some(location) => {
                    if session.phase() == Phase::LocationCheck {
                        session.apply(Trigger::LocationApproved { location }).map_err(|e| e.to_string())?;
                    }
                    Ok(None)
                }
                None => Err("deze pc staat niet in een goedgekeurd examenlokaal".into()),
            }
        }))
        .step(Step::new("examenserver bereikt", move |c: &mut StartContext| {
            let hub_dir = data_dir.join(dirs::HUB);
            let probe = HubClient::from_dir(&hub_dir).map_err(|e| e.to_string())?;
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
            runtime.block_on(probe.health()).map_err(|e| e.to_string())?;
            // A fresh client: the probe's pooled connections belong to the runtime above.
            // It tells the hub when the policy lets a WebDriver in (the hub decides).
            let test_automation = c.policy.as_ref().is_some_and(|p| p.environment.test_automation);
            c.hub = Some(HubClient::from_dir(&hub_dir).map_err(|e| e.to_string())?.in_test_automation(test_automation));
            Ok(None)
        }))
}

/// Asks the hub to echo, signed, the address it sees us at (location
/// evidence a local change of IP cannot fake) and its clock. `None` when not
/// enrolled or unreachable: the requirement then fails with that reason.
/// Blocking: for the startup steps, which run before the async runtime.
fn fetch_hub_echo(hub_dir: &Path) -> Option<(location::SignedHubEcho, String)> {
    let client = HubClient::from_dir(hub_dir).ok()?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
    runtime.block_on(hub_echo(&client))
}

/// [`fetch_hub_echo`] with a client the kiosk already has.
async fn hub_echo(client: &HubClient) -> Option<(location::SignedHubEcho, String)> {
    // 32 fresh random bytes: the echo cannot be replayed from an earlier check.
    let mut nonce = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut nonce).ok()?;
    let nonce = hex::encode(nonce);
    let echo = client.echo(&nonce).await.ok()?;
    Some((echo, nonce))
}

/// Whether a refused location would hold if the student typed the current
/// code of one of the policy's rooms (everything else already holds).
fn would_hold_with_room_code(policy: &Policy, evidence: &location::Evidence) -> bool {
    if evidence.room_code != location::RoomCodeEvidence::NotEntered {
        return false;
    }
    let mut rooms = Vec::new();
    for loc in &policy.locations {
        for requirement in &loc.evidence {
            requirement.walk(&mut |r| {
                if let exam_policy::Requirement::RoomCode(rc) = r {
                    rooms.push(rc.room.clone());
                }
            });
        }
    }
    rooms.into_iter().any(|room| {
        let mut with_code = evidence.clone();
        with_code.room_code = location::RoomCodeEvidence::Accepted { room };
        location::decide(policy, &with_code).is_approved()
    })
}

/// Outside demo mode the guard enforces, also an allow-list on the kiosk's
/// own account: that is what an installed school PC runs (the dedicated
/// `examkiosk` user under cage, `installer/linux/bin/exam-kiosk-session`).
/// Before, an allow-list on the kiosk's own uid was report-only (meant for a
/// developer's desktop), so a program started in the kiosk's session was
/// journalled as `guard.process_would_end` and never ended. A developer
/// uses demo mode or a `tree:PID` scope.
///
/// Windows keeps the old rule, because no Windows policy template exists
/// yet: the shipped school-pc allow-list names the Linux programs, and
/// enforced in the kiosk's Windows session it would end WebView2 and the
/// session's own processes (docs/platforms.md, "Not yet").
fn windows_allow_list_on_own_session(policy: &exam_policy::Policy, scope: &Scope, own_uid: u32) -> bool {
    cfg!(windows)
        && policy.process_mode() == exam_policy::ProcessMode::AllowList
        && matches!(scope, Scope::User(u) if *u == own_uid)
}

/// The real uid of this process: the guard's default scope is this user.
#[cfg(unix)]
fn current_uid() -> Option<u32> {
    Some(std::fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m)).unwrap_or(0))
}

/// Windows: the guard's "user" is the Windows session (guard::platform).
#[cfg(windows)]
fn current_uid() -> Option<u32> {
    crate::guard::platform::current_session()
}

/// Other platforms have no uid; user scopes are not used there.
#[cfg(not(any(unix, windows)))]
fn current_uid() -> Option<u32> {
    Some(0)
}

/// The answer-store key lives beside the device key: the keyring entry
/// `answer-store-key`, or `PATH.answers` next to a key file.
fn answer_key_store(device: &KeyStore) -> KeyStore {
    match device {
        KeyStore::Keyring { .. } => KeyStore::Keyring { entry: crate::answers::DEFAULT_KEY_ENTRY.into() },
        KeyStore::File(path) => KeyStore::File(path.with_extension("answers")),
    }
}

fn set_state(statuses: &mut [StepStatus], step: &str, state: &'static str) {
    if let Some(s) = statuses.iter_mut().rev().find(|s| s.step == step) {
        s.state = state;
    }
}

/// A policy's invigilator (its PIN hash was checked when the policy loaded).
fn to_invigilator(entry: &exam_policy::InvigilatorEntry) -> crate::session::unlock::Invigilator {
    crate::session::unlock::Invigilator { id: entry.id.clone(), name: entry.name.clone(), pin: entry.pin.clone() }
}

/// Room codes used and wrong attempts, so a restart does not reset either.
const ROOM_CODE_STATE_FILE: &str = "room-codes.json";
