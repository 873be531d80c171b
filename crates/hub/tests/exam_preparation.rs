//! docs/exam-preparation.md is a script: its ```sh blocks, in order, run
//! with bash (`set -euo pipefail`) against the real `exam-hub` and `kioskctl`
//! in a temporary directory, and the end state is what the checklist
//! promises: a signed policy that trusts the committee's own key (not the
//! demo's), the instrument and planning imported with code slips, and a
//! kiosk enrolled in the room. The `exam-hub serve` the doc starts is
//! stopped when the test ends, also when it fails.
//!
//! `kioskctl` is taken from beside `exam-hub` in the same target directory
//! (`cargo xtask test` builds the workspace first; by hand:
//! `cargo build -p kioskctl`).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const DOC: &str = "docs/exam-preparation.md";
const ROOM: &str = "B1.12";
const INSTRUMENT_ID: &str = "verkoop-n2";

/// The ```sh blocks of the doc, in order (```text blocks are not run).
fn sh_blocks(doc: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in doc.lines() {
        match current.as_mut() {
            None if line.trim_end() == "```sh" => current = Some(String::new()),
            None => {}
            Some(_) if line.trim_end() == "```" => blocks.extend(current.take()),
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
        }
    }
    assert!(current.is_none(), "{DOC}: a ```sh block is not closed");
    blocks
}

/// Stops the hub the doc started in the background (its pid is in
/// `$WORK/hub.pid`), when the test ends in any way.
struct StopHub(PathBuf);

impl StopHub {
    fn pid(&self) -> Option<String> {
        let pid = std::fs::read_to_string(&self.0).ok()?.trim().to_owned();
        pid.parse::<u32>().ok().map(|_| pid)
    }
}

/// Whether process `pid` runs (a zombie left for init to reap does not).
fn alive(pid: &str) -> bool {
    std::fs::read_to_string(Path::new("/proc").join(pid).join("stat"))
        .is_ok_and(|stat| stat.rsplit_once(')').is_some_and(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X'])))
}

impl Drop for StopHub {
    fn drop(&mut self) {
        let Some(pid) = self.pid() else { return };
        let alive = || alive(&pid);
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while alive() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        if alive() {
            let _ = Command::new("kill").args(["-KILL", &pid]).status();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

#[test]
fn the_exam_preparation_checklist_runs() {
    let workspace = common::workspace();
    let doc = std::fs::read_to_string(workspace.join(DOC)).expect("read the checklist");
    let blocks = sh_blocks(&doc);
    assert!(blocks.len() >= 10, "{DOC}: only {} ```sh blocks", blocks.len());

    let hub_exe = PathBuf::from(common::exe());
    let bin_dir = hub_exe.parent().expect("exam-hub's directory").to_owned();
    let kioskctl = bin_dir.join("kioskctl");
    assert!(
        kioskctl.exists(),
        "{} is missing: build it first (`cargo build -p kioskctl`; `cargo xtask test` builds the workspace)",
        kioskctl.display()
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    let work = root.join("work");
    let hub_data = root.join("hub");
    let kiosk_data = root.join("kiosk");
    let planning = root.join("planning.csv");
    let admin_pw = root.join("examenbureau.password");
    let invigilator_pw = root.join("e.vanderberg.password");
    std::fs::write(&admin_pw, "Examenbureau-wachtwoord 2026\n").unwrap();
    std::fs::write(&invigilator_pw, "Surveillant-wachtwoord 2026\n").unwrap();
    let port = free_port();
    let stop = StopHub(work.join("hub.pid"));

    // The planning as the student information system exports it: tomorrow
    // at 09:00 local time, one student with accommodations.
    let start = String::from_utf8(
        Command::new("date").args(["-d", "tomorrow 09:00", "--iso-8601=seconds"]).output().expect("date").stdout,
    )
    .unwrap()
    .trim()
    .to_owned();
    std::fs::write(
        &planning,
        format!(
            "student_number,student_name,sitting,exam,exam_code,instrument,room,start,duration_minutes,extra_minutes,tools,text_size,contrast\n\
             1001,Ömer Yılmaz,S1,Verkoop niveau 2,VK-N2-26,{INSTRUMENT_ID},{ROOM},{start},90,30,,large,\n\
             1002,Eline van der Berg-de Vries,S1,Verkoop niveau 2,VK-N2-26,{INSTRUMENT_ID},{ROOM},{start},90,,,,\n"
        ),
    )
    .unwrap();

    let script = format!("set -euo pipefail\n{}", blocks.join("\n"));
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(root)
        .env("PATH", path)
        .env("WORK", &work)
        .env("HUB_DATA", &hub_data)
        .env("HUB_NAME", "127.0.0.1")
        .env("HUB_LISTEN", format!("127.0.0.1:{port}"))
        .env("HUB_URL", format!("https://127.0.0.1:{port}"))
        .env("SCHOOL", "ROC Voorbeeld")
        .env("ROOM", ROOM)
        .env("TEMPLATE_POLICY", workspace.join("policies/school-pc.toml"))
        .env("INSTRUMENT_DIR", workspace.join("tests/fixtures/instruments/demo"))
        .env("INSTRUMENT_ID", INSTRUMENT_ID)
        .env("PLANNING", &planning)
        .env("ADMIN_PASSWORD_FILE", &admin_pw)
        .env("INVIGILATOR_PASSWORD_FILE", &invigilator_pw)
        .env("KIOSK_DATA", &kiosk_data)
        .env_remove("EXAM_HUB_DATABASE")
        .env_remove("RUST_LOG")
        .output()
        .expect("run bash");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{DOC} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}", out.status);

    // The policy the kiosks get: signed, trusting the committee's key, and
    // not the shipped template's example key nor the demo's.
    let policy = std::fs::read_to_string(work.join("school-pc.toml")).unwrap();
    let committee = std::fs::read_to_string(work.join("committee.key.pub")).unwrap();
    let committee = committee.split_whitespace().next().unwrap();
    assert!(policy.contains(&format!("public-key = \"{committee}\"")), "the policy trusts the committee's key");
    let demo = std::fs::read_to_string(workspace.join("policies/demo-instrument.key.pub")).unwrap();
    let demo = demo.split_whitespace().next().unwrap();
    assert!(!policy.contains(demo) && !policy.contains("71cd7815b6de97840bfa968639be9ae3f230a8c3325c629db408714fd7c6bc3e"));
    let verify = |trust: &Path| {
        Command::new(&kioskctl)
            .args(["policy", "verify"])
            .arg(work.join("school-pc.bundle"))
            .arg("--trust")
            .arg(trust)
            .output()
            .expect("kioskctl policy verify")
            .status
            .success()
    };
    assert!(verify(&work.join("committee.key.pub")), "the bundle verifies against the committee's key");
    assert!(!verify(&workspace.join("policies/demo-instrument.key.pub")), "the bundle does not verify against the demo key");

    // The kiosk got that bundle at enrolment.
    let bundle = std::fs::read(work.join("school-pc.bundle")).unwrap();
    assert_eq!(std::fs::read(kiosk_data.join("hub/policy.signed")).ok(), Some(bundle), "enrolment handed out the signed policy");

    // The planning: a code per student, on the list and as slips (PDF).
    let codes = std::fs::read_to_string(work.join(format!("codes-{ROOM}.txt"))).unwrap();
    assert!(codes.contains("Zitting S1") && codes.contains(ROOM), "{codes}");
    assert!(codes.contains("Ömer Yılmaz") && codes.contains("Eline van der Berg-de Vries"), "{codes}");
    let pdf = std::fs::read(work.join(format!("codes-{ROOM}.pdf"))).unwrap();
    assert!(pdf.starts_with(b"%PDF"), "code slips are a PDF");
    assert!(stdout.contains(&format!("instrument {INSTRUMENT_ID} version 2026.1")), "{stdout}");
    assert!(stdout.contains(&format!("instrument {INSTRUMENT_ID}: scoring data")), "{stdout}");

    // The kiosk is enrolled in the room, and the hub lists it there.
    let enrolment: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(kiosk_data.join("hub/hub.json")).expect("the kiosk's hub.json")).unwrap();
    let enrolment = enrolment.to_string();
    let devices = Command::new(&hub_exe).args(["devices", "--data"]).arg(&hub_data).output().expect("exam-hub devices");
    let devices = String::from_utf8_lossy(&devices.stdout).into_owned();
    let listed: Vec<&str> = devices.lines().filter(|l| l.contains(&format!("room={ROOM}"))).collect();
    assert_eq!(listed.len(), 1, "one PC enrolled in {ROOM}: {devices}");
    let device_id = listed[0].split_whitespace().next().unwrap();
    assert!(enrolment.contains(device_id), "the hub's device {device_id} is the kiosk's enrolment: {enrolment}");

    // The hub the doc started is still running now, and stops with the test.
    let pid = stop.pid().expect("the doc wrote $WORK/hub.pid");
    assert!(alive(&pid), "exam-hub serve ({pid}) runs until the test stops it");
    drop(stop);
    assert!(!alive(&pid), "exam-hub serve ({pid}) stopped");
}
