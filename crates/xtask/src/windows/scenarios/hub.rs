//! `kioskctl.exe enrol` against the Linux `exam-hub` on loopback over mutual
//! TLS, then a second request with the issued client certificate: a
//! `journal sync` of the journal kioskctl.exe wrote, whose signed receipt
//! the Linux kioskctl checks with the hub's key. And the refusals: a used
//! token, a CA that is not the hub's.

use super::{check, clear_error, identity, key_file, success, w, windows_journal, Ctx, LIMIT};
use crate::windows::run_limited;
use crate::Result;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The room the tokens are for (a name with a dot, like the schools').
const ROOM: &str = "B2.14";

/// An `exam-hub serve` we started: killed and waited for when dropped, on
/// every way out of the scenario (an error, a panic).
struct HubProcess {
    child: Child,
    url: String,
}

impl Drop for HubProcess {
    fn drop(&mut self) {
        // Our own child, by its handle.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What `exam-hub init` printed that the scenario needs.
struct HubData {
    dir: PathBuf,
    /// The hub's receipt signing key (hex).
    signing_key: String,
}

fn exam_hub(ctx: &Ctx, args: &[&str], data: &Path) -> Result<String> {
    let out = run_limited(Command::new(&ctx.exam_hub).args(args).arg("--data").arg(data).env_remove("EXAM_HUB_DATABASE"), LIMIT)?;
    success(&out, &format!("exam-hub {}", args.join(" ")))?;
    Ok(out.stdout)
}

/// `exam-hub init` for 127.0.0.1 with a free port, SQLite in `dir`.
fn init(ctx: &Ctx, dir: &Path) -> Result<HubData> {
    let printed = exam_hub(ctx, &["init", "--school", "ROC Wine", "--name", "127.0.0.1", "--listen", "127.0.0.1:0"], dir)?;
    let signing_key = printed
        .lines()
        .find_map(|l| l.strip_prefix("hub signing key:"))
        .and_then(|rest| rest.split_whitespace().next())
        .map(str::to_owned)
        .ok_or_else(|| format!("exam-hub init printed no hub signing key: {printed}"))?;
    Ok(HubData { dir: dir.to_owned(), signing_key })
}

/// `exam-hub serve`; its URL from the first line it prints.
fn serve(ctx: &Ctx, hub: &HubData) -> Result<HubProcess> {
    let log = std::fs::File::create(ctx.root.join("exam-hub.log")).map_err(|e| e.to_string())?;
    let mut child = Command::new(&ctx.exam_hub)
        .args(["serve", "--data"])
        .arg(&hub.dir)
        .env("EXAM_HUB_LOG", "warn")
        .env_remove("EXAM_HUB_DATABASE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("cannot start exam-hub serve: {e}"))?;
    let stdout = child.stdout.take().expect("piped");
    let mut hub = HubProcess { child, url: String::new() };
    hub.url = crate::hub_listening_url(stdout).map_err(|e| format!("{e}; see exam-hub.log"))?;
    println!("xtask: windows:   exam-hub (Linux) serves {}", hub.url);
    Ok(hub)
}

/// One new enrolment token for [`ROOM`].
fn token(ctx: &Ctx, hub: &HubData) -> Result<String> {
    let token = exam_hub(ctx, &["enrol-token", "--room", ROOM], &hub.dir)?.trim().to_owned();
    check(!token.is_empty() && !token.contains('\n'), format!("exam-hub enrol-token printed {token:?}"))?;
    Ok(token)
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

pub(super) fn enrol_and_sync(ctx: &Ctx) -> Result {
    let (journal, _) = windows_journal(ctx)?;
    let (_, store) = key_file(ctx);
    let device = identity(&ctx.win(&["device", "show", "--store", &store])?)?.0;
    let base = ctx.root.join("hub");
    std::fs::create_dir_all(&base).map_err(|e| format!("{}: {e}", base.display()))?;
    let data = init(ctx, &base.join("exam-hub data"))?;
    let hub = serve(ctx, &data)?;
    let school_ca = data.dir.join("school-ca.pem");
    let enrol = |token: &str, ca: &Path, dir: &Path| {
        let token = format!("--token={token}");
        ctx.win(&["enrol", "--hub", &hub.url, &token, "--ca", &w(ca), "--store", &store, "--data", &w(dir)])
    };

    // The enrolment: a client certificate for this device, the school CA pinned.
    let first = token(ctx, &data)?;
    let enrolment = base.join("Zoë inschrijving");
    let out = enrol(&first, &school_ca, &enrolment)?;
    success(&out, "kioskctl.exe enrol")?;
    let said = format!("enrolled as device {device} in room {ROOM}");
    check(out.stdout.starts_with(&said), format!("enrol printed {:?}, expected {said:?}", out.stdout))?;
    for file in ["hub.json", "device.pem", "device.key", "school-ca.pem"] {
        check(enrolment.join(file).is_file(), format!("the enrolment has no {file}"))?;
    }
    check(read(&enrolment.join("school-ca.pem"))? == read(&school_ca)?, "the pinned CA is not the hub's school CA")?;
    check(read(&enrolment.join("device.pem"))?.contains("BEGIN CERTIFICATE"), "device.pem holds no certificate")?;
    check(read(&enrolment.join("hub.json"))?.contains(&hub.url), "hub.json does not name the hub")?;
    // The hub's own records.
    let devices = exam_hub(ctx, &["devices"], &data.dir)?;
    check(
        devices.lines().any(|l| l.starts_with(&device) && l.contains(&format!("room={ROOM}")) && !l.contains("REVOKED")),
        format!("exam-hub devices does not list {device} in room {ROOM}: {devices}"),
    )?;
    println!("xtask: windows:   {}", out.stdout.lines().next().unwrap_or_default());

    // A second request, over mutual TLS with the issued certificate: the
    // journal kioskctl.exe wrote goes to the hub, whose signed receipt is
    // kept next to it.
    let sync = ctx.win(&["journal", "sync", "--journal", &w(&journal), "--store", &store, "--enrolment", &w(&enrolment)])?;
    success(&sync, "kioskctl.exe journal sync")?;
    let held = sync
        .stdout
        .split("the hub holds records 0..=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse::<u64>().ok())
        .ok_or_else(|| format!("journal sync printed {:?}", sync.stdout))?;
    check(sync.stdout.contains(&format!("of device {device}")), format!("the receipt is not for {device}: {}", sync.stdout))?;
    // The Linux kioskctl checks the receipt with the key exam-hub init printed.
    let verified = ctx.linux(&["journal", "verify", &journal.to_string_lossy(), "--hub-key", &data.signing_key])?;
    success(&verified, "Linux kioskctl journal verify --hub-key")?;
    let acknowledged = format!("records 0..={held} are unchanged since the hub acknowledged them");
    check(verified.stdout.contains(&acknowledged), format!("expected {acknowledged:?} in {}", verified.stdout))?;
    // A second sync sends only what was written since (the close's checkpoint and the new epoch).
    let again = ctx.win(&["journal", "sync", "--journal", &w(&journal), "--store", &store, "--enrolment", &w(&enrolment)])?;
    success(&again, "a second kioskctl.exe journal sync")?;
    check(
        again.stdout.contains(&format!("the hub holds records 0..={}", held + 2)),
        format!("the second sync should add the checkpoint and the next epoch (0..={}): {}", held + 2, again.stdout),
    )?;
    let alarms = exam_hub(ctx, &["alarms"], &data.dir)?;
    check(!alarms.contains(&device), format!("the hub raised an alarm for the journal: {alarms}"))?;
    println!("xtask: windows:   {}", sync.stdout.trim());

    // A used token: refused by the hub, nothing written.
    let reused = base.join("tweede inschrijving");
    clear_error(&enrol(&first, &school_ca, &reused)?, "enrol with a used token", "the enrolment token is unknown, used or expired")?;
    check(!reused.join("hub.json").exists(), "a refused enrolment left a hub.json")?;
    // Another CA than the hub's: the TLS handshake fails, the token stays unused.
    let other_ca = crate::workspace_root().join("policies/example-school-ca.pem");
    let unused = token(ctx, &data)?;
    let wrong = base.join("verkeerde CA");
    let out = enrol(&unused, &other_ca, &wrong)?;
    clear_error(&out, "enrol trusting another CA", "invalid peer certificate")?;
    check(!wrong.join("hub.json").exists(), "an enrolment over a failed TLS check left a hub.json")?;
    drop(hub);
    Ok(())
}
