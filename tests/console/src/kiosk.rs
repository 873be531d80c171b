//! A simulated kiosk: enrolled with kiosk-core's own client (real key pair,
//! client certificate, pinned school CA), logs a student in, sends
//! heartbeats, writes a real signed journal and uploads it, and obeys the
//! hub's instructions the way the kiosk does (acknowledge, lock/unlock,
//! hand in at `end`).

use crate::ConsoleHub;
use exam_protocol::{AnswerUpload, Heartbeat, Instruction, InstructionKind};
use kiosk_core::hub::{self, Bootstrap, EnrolOptions, HubClient};
use std::sync::{Arc, Mutex};

/// What the kiosk is doing, as its heartbeat says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KioskState {
    /// The session phase name (`login`, `in_exam`, `locked`, `submitted`).
    pub phase: String,
    /// Instructions received, in order.
    pub received: Vec<Instruction>,
}

/// One simulated kiosk.
pub struct SimKiosk {
    /// The hub client (mutual TLS).
    pub client: HubClient,
    /// The device id.
    pub device_id: String,
    /// The host name it enrolled with.
    pub hostname: String,
    journal: Arc<Mutex<exam_journal::Journal>>,
    journal_dir: std::path::PathBuf,
    uploaded: Arc<Mutex<u64>>,
    /// Shared with the instruction task.
    pub state: Arc<Mutex<KioskState>>,
    sitting: Arc<Mutex<Option<String>>>,
}

impl SimKiosk {
    /// Enrols a kiosk in `room` as `hostname`.
    pub async fn enrol(hub: &ConsoleHub, room: &str, hostname: &str) -> Self {
        let token = hub.cli(&["enrol-token", "--room", room]).trim().to_string();
        let dir = hub.path(&format!("kiosk-{hostname}"));
        let (device_key, pkcs8) = exam_journal::SigningKey::generate().expect("device key");
        let options = EnrolOptions {
            hub_url: hub.base.clone(),
            token,
            bootstrap: Bootstrap::CaPem(hub.school_ca_pem.clone()),
            device_key: std::sync::Arc::new(device_key),
            hostname: Some(hostname.to_string()),
        };
        let identity = hub::enrol(&options, &dir.join("hub")).await.expect("enrol");
        let client = HubClient::from_dir(&dir.join("hub")).expect("client");
        let journal_dir = dir.join("journal");
        let key = exam_journal::SigningKey::from_pkcs8(&pkcs8).expect("key");
        let journal = exam_journal::Journal::open(&journal_dir, key, exam_journal::JournalConfig::default()).expect("journal");
        Self {
            client,
            device_id: identity.device_id,
            hostname: hostname.to_string(),
            journal: Arc::new(Mutex::new(journal)),
            journal_dir,
            uploaded: Arc::new(Mutex::new(0)),
            state: Arc::new(Mutex::new(KioskState { phase: "login".into(), received: Vec::new() })),
            sitting: Arc::new(Mutex::new(None)),
        }
    }

    /// Logs a student in (the code from the planning); journals it.
    pub async fn login(&mut self, student: &str, code: &str) -> Result<(), String> {
        let login = self.client.login(student, code).await.map_err(|e| e.to_string())?;
        *self.sitting.lock().expect("lock") = Some(login.assignment.sitting_id.clone());
        self.transition("login", "in_exam", serde_json::json!({"trigger": "logged_in", "student": student, "sitting": login.assignment.sitting_id}));
        self.state.lock().expect("lock").phase = "in_exam".into();
        Ok(())
    }

    /// Appends a `session.transition` record like the kiosk's session does.
    pub fn transition(&self, from: &str, to: &str, cause: serde_json::Value) {
        let event = exam_journal::Event::new("session.transition", &serde_json::json!({"from": from, "to": to, "cause": cause})).expect("event");
        self.journal.lock().expect("lock").append(&event).expect("append");
    }

    /// Locks itself (as the guard would) and journals why.
    pub fn lock(&self, reason: &str) {
        self.transition("in_exam", "locked", serde_json::json!({"trigger": "lock", "reason": reason}));
        self.state.lock().expect("lock").phase = "locked".into();
    }

    /// An invigilator unlocks at the PC with their PIN.
    pub fn unlock_with_pin(&self, by: &str, reason: &str) {
        self.transition("locked", "in_exam", serde_json::json!({"trigger": "unlock", "by": by, "reason": reason}));
        self.state.lock().expect("lock").phase = "in_exam".into();
    }

    /// Uploads journal records not yet uploaded.
    pub async fn sync_journal(&self) {
        sync_journal(&self.client, &self.journal_dir, &self.uploaded).await;
    }

    /// Sends a heartbeat with the current phase.
    pub async fn heartbeat(&self) {
        heartbeat(&self.client, &self.state).await;
    }

    /// Starts obeying instructions (acknowledged; state and journal follow) and
    /// sending a heartbeat every `interval`; runs until the test ends.
    pub fn run(&self, interval: std::time::Duration) {
        let (client, state, journal, dir, uploaded, sitting) =
            (self.client.clone(), self.state.clone(), self.journal.clone(), self.journal_dir.clone(), self.uploaded.clone(), self.sitting.clone());
        tokio::spawn(async move {
            loop {
                let Ok(mut stream) = client.instructions().await else {
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                    continue;
                };
                while let Ok(Some(instruction)) = stream.next().await {
                    if state.lock().expect("lock").received.iter().any(|i| i.id == instruction.id) {
                        let _ = client.acknowledge(&instruction.id).await;
                        continue;
                    }
                    let (from, to) = {
                        let s = state.lock().expect("lock");
                        let to = match &instruction.kind {
                            InstructionKind::Lock | InstructionKind::Pause => "locked",
                            InstructionKind::Unlock | InstructionKind::Resume => "in_exam",
                            InstructionKind::End => "submitted",
                            InstructionKind::AddTime { .. } => s.phase.as_str(),
                        };
                        (s.phase.clone(), to.to_string())
                    };
                    let event = match &instruction.kind {
                        InstructionKind::AddTime { minutes } => exam_journal::Event::new(
                            "session.time_added",
                            &serde_json::json!({"seconds": u64::from(*minutes) * 60, "reason": instruction.reason}),
                        ),
                        InstructionKind::Unlock | InstructionKind::Resume => exam_journal::Event::new(
                            "session.transition",
                            // As the kiosk journals it (kiosk/remote.rs): an unlock from the console is "NAME (op afstand)", not a PIN at the PC.
                            &serde_json::json!({"from": from, "to": to, "cause": {"trigger": "unlock", "by": format!("{}{}", instruction.issued_by, exam_protocol::events::BY_REMOTE_SUFFIX), "reason": instruction.reason}}),
                        ),
                        InstructionKind::End => exam_journal::Event::new(
                            "session.transition",
                            &serde_json::json!({"from": from, "to": to, "cause": {"trigger": "submitted", "receipt": "-"}}),
                        ),
                        _ => exam_journal::Event::new(
                            "session.transition",
                            &serde_json::json!({"from": from, "to": to, "cause": {"trigger": "lock", "reason": instruction.reason}}),
                        ),
                    };
                    if let Ok(event) = event {
                        let _ = journal.lock().expect("lock").append(&event);
                    }
                    if instruction.kind == InstructionKind::End {
                        let sitting = sitting.lock().expect("lock").clone();
                        if let Some(sitting_id) = sitting {
                            let upload = AnswerUpload { sitting_id, seq: 1, final_submission: true, answers: serde_json::json!({"q1": "B"}), changes: vec![] };
                            let _ = client.upload_answers(&upload).await;
                        }
                    }
                    {
                        let mut s = state.lock().expect("lock");
                        s.phase = to;
                        s.received.push(instruction.clone());
                    }
                    let _ = client.acknowledge(&instruction.id).await;
                    sync_journal(&client, &dir, &uploaded).await;
                    heartbeat(&client, &state).await;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        });
        let (client, state) = (self.client.clone(), self.state.clone());
        tokio::spawn(async move {
            loop {
                heartbeat(&client, &state).await;
                tokio::time::sleep(interval).await;
            }
        });
    }

    /// Appends any event to the kiosk's journal (uploaded with the next sync).
    pub fn record(&self, kind: &str, data: serde_json::Value) {
        let event = exam_journal::Event::new(kind, &data).expect("event");
        self.journal.lock().expect("lock").append(&event).expect("append");
    }

    /// Saves the student's answers (`seq` counts this session's saves), or
    /// hands them in with `final_submission`; a hand-in journals the
    /// transition to `submitted`, syncs the journal and sends a heartbeat,
    /// as the kiosk does.
    pub async fn save(&self, seq: u64, answers: serde_json::Value, final_submission: bool) -> Result<(), String> {
        let sitting_id = self.sitting.lock().expect("lock").clone().ok_or("not logged in")?;
        let upload = AnswerUpload { sitting_id, seq, final_submission, answers, changes: vec![] };
        self.client.upload_answers(&upload).await.map_err(|e| e.to_string())?;
        if final_submission {
            let from = self.phase();
            self.transition(&from, "submitted", serde_json::json!({"trigger": "submitted", "receipt": "-"}));
            self.state.lock().expect("lock").phase = "submitted".into();
            self.sync_journal().await;
            self.heartbeat().await;
        }
        Ok(())
    }

    /// Instructions received so far.
    pub fn received(&self) -> Vec<Instruction> {
        self.state.lock().expect("lock").received.clone()
    }

    /// The current phase.
    pub fn phase(&self) -> String {
        self.state.lock().expect("lock").phase.clone()
    }
}

async fn heartbeat(client: &HubClient, state: &Mutex<KioskState>) {
    let phase = state.lock().expect("lock").phase.clone();
    let _ = client.heartbeat(&Heartbeat { state: phase, journal_next_seq: None, journal_last_hash: None, answers_pending: 0, journal_damage: None }).await;
}

async fn sync_journal(client: &HubClient, dir: &std::path::Path, uploaded: &Mutex<u64>) {
    let from = *uploaded.lock().expect("lock");
    let frames: Vec<Vec<u8>> = exam_journal::read_records(dir)
        .map(|records| records.into_iter().map(|(_, r)| r).filter(|r| r.body.seq >= from).map(|r| r.frame).collect())
        .unwrap_or_default();
    if frames.is_empty() {
        return;
    }
    if let Ok(receipt) = client.upload_journal(&frames).await {
        *uploaded.lock().expect("lock") = receipt.next_seq;
    }
}
