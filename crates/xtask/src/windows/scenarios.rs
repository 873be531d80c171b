//! `kioskctl.exe` under Wine, each scenario checking real output: the
//! Credential Manager key store, a file store on a path with spaces and
//! non-ASCII names, a journal written on "Windows" and verified again by the
//! Linux `kioskctl` (same bytes, same verdict), Windows bad input
//! (drive letters, UNC and `\\?\` paths, reserved names, read-only files),
//! enrolment and a journal sync with the Linux `exam-hub` ([`hub`]), and the
//! guard and environment checks against Windows programs ([`guard`]).

use super::{run_limited, target_dir, Output, Wine, TARGET};
use crate::{cargo, Result};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

mod guard;
mod hub;

/// A kioskctl run that takes longer than this hangs.
const LIMIT: Duration = Duration::from_secs(120);

struct Ctx<'a> {
    wine: &'a Wine,
    /// kioskctl.exe
    exe: PathBuf,
    /// the Linux kioskctl
    linux: PathBuf,
    /// A fresh directory for this run's files.
    root: PathBuf,
    /// the Linux exam-hub
    exam_hub: PathBuf,
    /// room.exe (built from room.c): sleeps, lists processes, starts programs
    room: PathBuf,
}

impl Ctx<'_> {
    fn win(&self, args: &[&str]) -> Result<Output> {
        run_limited(self.wine.command(&self.exe).args(args), LIMIT)
    }

    fn linux(&self, args: &[&str]) -> Result<Output> {
        run_limited(Command::new(&self.linux).args(args), LIMIT)
    }
}

/// `p`'s Windows path (on Wine's `Z:` drive).
fn w(p: &Path) -> String {
    Wine::windows_path(p)
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// Builds kioskctl for Windows and Linux and runs every scenario; all run,
/// failures are reported together.
pub(super) fn run(wine: &Wine) -> Result {
    println!("xtask: windows: building kioskctl.exe and the Linux kioskctl");
    crate::run(wine.cargo().args(["build", "--target", TARGET, "-p", "kioskctl"]))?;
    // The Linux builds: the same profile as `cargo xtask test`'s, so CI reuses them.
    crate::run(cargo().args(["build", "-p", "kioskctl", "-p", "exam-hub"]))?;
    let root = target_dir().join("windows-scenarios");
    if root.exists() {
        std::fs::remove_dir_all(&root).map_err(|e| format!("{}: {e}", root.display()))?;
    }
    std::fs::create_dir_all(&root).map_err(|e| format!("{}: {e}", root.display()))?;
    let ctx = Ctx {
        wine,
        exe: target_dir().join(TARGET).join("debug/kioskctl.exe"),
        linux: target_dir().join("debug/kioskctl"),
        exam_hub: target_dir().join("debug/exam-hub"),
        room: guard::build_room(&root)?,
        root,
    };
    type Scenario = fn(&Ctx) -> Result;
    let scenarios: [(&str, Scenario); 8] = [
        ("device key in the Windows Credential Manager", credential_manager),
        ("device key file on a path with spaces and non-ASCII names", file_store),
        ("journal by kioskctl.exe, verified again by the Linux kioskctl", journal_both_ways),
        ("Windows bad input: drive letters, UNC and \\\\?\\ paths, reserved names, read-only files", bad_input),
        ("location probe with the loopback-only demo policy", location_probe),
        ("enrol with the Linux exam-hub over mutual TLS, then a journal sync with the client certificate", hub::enrol_and_sync),
        ("guard watch --enforce ends a prohibited Windows program, and only that one", guard::enforce),
        ("environment checks (guard env): what Wine shows, nothing passed unchecked", guard::environment),
    ];
    let mut failures = Vec::new();
    for (name, scenario) in scenarios {
        println!("xtask: windows: {name} ...");
        match scenario(&ctx) {
            Ok(()) => println!("xtask: windows: {name}: ok"),
            Err(why) => {
                println!("xtask: windows: {name}: FAILED: {why}");
                failures.push(name);
            }
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("kioskctl.exe scenarios failed under Wine: {}", failures.join("; ")))
    }
}

fn check(ok: bool, what: impl std::fmt::Display) -> Result {
    if ok {
        Ok(())
    } else {
        Err(what.to_string())
    }
}

/// Exit code 0, or the whole output as the error.
fn success(out: &Output, what: &str) -> Result {
    check(out.code == Some(0), format!("{what}: exit {:?}\nstdout: {}\nstderr: {}", out.code, out.stdout, out.stderr))
}

/// Exit code 2 (an error, kioskctl's code for bad input), a one-line
/// `error: ` on stderr that names `names`, and no panic.
fn clear_error(out: &Output, what: &str, names: &str) -> Result {
    let fail = |why: &str| Err(format!("{what}: {why}\nexit {:?}\nstdout: {}\nstderr: {}", out.code, out.stdout, out.stderr));
    if out.code != Some(2) {
        return fail("expected exit code 2");
    }
    if out.stderr.contains("panicked") || !out.stderr.starts_with("error: ") {
        return fail("expected one `error: ` line and no panic");
    }
    if !out.stderr.to_lowercase().contains(&names.to_lowercase()) {
        return fail(&format!("the error does not name {names:?}"));
    }
    println!("xtask: windows:   {what}: {}", out.stderr.trim());
    Ok(())
}

/// `device id:` and `public key:` from `kioskctl device init/show`.
fn identity(out: &Output) -> Result<(String, String)> {
    let field = |name: &str| {
        out.stdout.lines().find_map(|l| l.strip_prefix(name)).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    };
    match (field("device id:"), field("public key:")) {
        (Some(id), Some(key)) => Ok((id, key)),
        _ => Err(format!("no device id and public key in {:?}", out.stdout)),
    }
}

fn unique() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default()
}

/// `device init` stores the key with CredWrite; a second process, and one
/// after the wineserver saved the registry and restarted, reads the same
/// key back; a second `init` refuses to overwrite it.
fn credential_manager(ctx: &Ctx) -> Result {
    // A new entry every run (the prefix is kept between runs), named with
    // non-ASCII letters as a Windows user's name may be (UTF-16 in CredWrite).
    let id = unique();
    let entry = format!("exam-kiosk-wine-test-Zoë-Çelik-{id}");
    let store = format!("keyring:{entry}");
    let missing = ctx.win(&["device", "show", "--store", &store])?;
    clear_error(&missing, "device show before init", "no device key")?;
    let init = ctx.win(&["device", "init", "--store", &store])?;
    success(&init, "device init --store keyring")?;
    let created = identity(&init)?;
    let shown = ctx.win(&["device", "show", "--store", &store])?;
    success(&shown, "device show")?;
    check(identity(&shown)? == created, "device show (a second process) reads another key than init stored")?;
    let again = ctx.win(&["device", "init", "--store", &store])?;
    clear_error(&again, "device init a second time", "already exists")?;
    // The wineserver writes the registry (where Wine keeps credentials) when
    // it ends; a new server reads it back.
    ctx.wine.end_server();
    let user_reg = std::fs::read_to_string(ctx.wine.prefix().join("user.reg")).unwrap_or_default();
    // (user.reg writes non-ASCII letters as escapes; the number is ASCII.)
    check(user_reg.contains(&id.to_string()), format!("the prefix's user.reg holds no credential named {entry}"))?;
    ctx.wine.start_server()?;
    let after = ctx.win(&["device", "show", "--store", &store])?;
    success(&after, "device show after a wineserver restart")?;
    check(identity(&after)? == created, "after a restart the Credential Manager gives another key")?;
    println!("xtask: windows:   device {} in the Credential Manager (entry {entry})", created.0);
    Ok(())
}

/// The file key store under `Leerling Zoë Çelik\sleutel map`: written by
/// kioskctl.exe, read back by it and by the Linux kioskctl.
fn file_store(ctx: &Ctx) -> Result {
    let (key, store) = key_file(ctx);
    let init = ctx.win(&["device", "init", "--store", &store])?;
    success(&init, "device init --store file:")?;
    let created = identity(&init)?;
    let shown = ctx.win(&["device", "show", "--store", &store])?;
    success(&shown, "device show --store file:")?;
    check(identity(&shown)? == created, "device show reads another key")?;
    let linux = ctx.linux(&["device", "show", "--store", &format!("file:{}", s(&key))])?;
    success(&linux, "Linux kioskctl device show on the same file")?;
    check(identity(&linux)? == created, "the Linux kioskctl reads another key from the same file")?;
    let again = ctx.win(&["device", "init", "--store", &store])?;
    clear_error(&again, "device init over an existing key file", "already exists")
}

/// The key file (Linux path) and its store argument (Windows path); its
/// directory exists.
fn key_file(ctx: &Ctx) -> (PathBuf, String) {
    let dir = ctx.root.join("Leerling Zoë Çelik").join("sleutel map");
    let _ = std::fs::create_dir_all(&dir);
    let key = dir.join("apparaat sleutel.key");
    let store = format!("file:{}", w(&key));
    (key, store)
}

/// Every file under `dir` with its bytes, sorted by path.
fn snapshot(dir: &Path) -> Result<Vec<(PathBuf, Vec<u8>)>> {
    let mut files = Vec::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).map_err(|e| format!("{}: {e}", d.display()))? {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.is_dir() {
                todo.push(path);
            } else {
                let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                files.push((path, bytes));
            }
        }
    }
    files.sort();
    Ok(files)
}

/// The journal under `Zoë examen\journaal map`, written by kioskctl.exe.
/// Returns its Linux path and the device public key.
fn windows_journal(ctx: &Ctx) -> Result<(PathBuf, String)> {
    let dir = ctx.root.join("Zoë examen").join("journaal map");
    if dir.exists() {
        let key = identity(&ctx.win(&["device", "show", "--store", &key_file(ctx).1])?)?.1;
        return Ok((dir, key));
    }
    let (_, store) = key_file(ctx);
    let shown = ctx.win(&["device", "show", "--store", &store])?;
    let key = match identity(&shown) {
        Ok((_, key)) => key,
        Err(_) => {
            let init = ctx.win(&["device", "init", "--store", &store])?;
            success(&init, "device init")?;
            identity(&init)?.1
        }
    };
    let events = [
        ("session.started", r#"{"kandidaat":"Zoë Çelik","lokaal":"B.204"}"#),
        ("answer.saved", r#"{"item":"vraag-1","tekst":"één, twee"}"#),
        ("session.locked", r#"{"reden":"focus kwijt"}"#),
    ];
    for (kind, data) in events {
        let out = ctx.win(&["journal", "append", "--journal", &w(&dir), "--store", &store, "--kind", kind, "--data", data])?;
        success(&out, &format!("journal append {kind}"))?;
        check(out.stdout.starts_with("recorded #"), format!("journal append {kind} printed {:?}", out.stdout))?;
    }
    Ok((dir, key))
}

/// Appended, verified and checkpointed by kioskctl.exe; the Linux kioskctl
/// verifies the same directory with the same checkpoint and key: same
/// report, same records, and not a byte changed. A damaged copy fails on
/// both at the same offset for the same reason.
fn journal_both_ways(ctx: &Ctx) -> Result {
    let (dir, key) = windows_journal(ctx)?;
    let verified = ctx.win(&["journal", "verify", &w(&dir), "--device-key", &key])?;
    success(&verified, "journal verify (kioskctl.exe)")?;
    check(verified.stdout.starts_with("ok: "), format!("journal verify printed {:?}", verified.stdout))?;
    let checkpoint = ctx.win(&["journal", "checkpoint", &w(&dir)])?;
    success(&checkpoint, "journal checkpoint (kioskctl.exe)")?;
    let cp_file = ctx.root.join("Zoë examen").join("controlepunt.json");
    std::fs::write(&cp_file, &checkpoint.stdout).map_err(|e| e.to_string())?;
    let before = snapshot(&dir)?;
    let on_windows =
        ctx.win(&["journal", "verify", &w(&dir), "--device-key", &key, "--checkpoint", &w(&cp_file)])?;
    success(&on_windows, "journal verify --checkpoint (kioskctl.exe)")?;
    let on_linux = ctx.linux(&["journal", "verify", &s(&dir), "--device-key", &key, "--checkpoint", &s(&cp_file)])?;
    success(&on_linux, "journal verify --checkpoint (Linux kioskctl)")?;
    check(
        on_windows.stdout == on_linux.stdout,
        format!("the verdicts differ:\nkioskctl.exe: {}\nLinux:        {}", on_windows.stdout, on_linux.stdout),
    )?;
    check(on_linux.stdout.contains("contains the external checkpoint"), "the Linux verify did not check the checkpoint")?;
    let shown_windows = ctx.win(&["journal", "show", "--json", &w(&dir)])?;
    let shown_linux = ctx.linux(&["journal", "show", "--json", &s(&dir)])?;
    success(&shown_windows, "journal show (kioskctl.exe)")?;
    success(&shown_linux, "journal show (Linux kioskctl)")?;
    check(shown_windows.stdout == shown_linux.stdout, "journal show lists other records on Windows and on Linux")?;
    check(shown_linux.stdout.contains("Zoë Çelik"), "the non-ASCII payload did not survive")?;
    check(snapshot(&dir)? == before, "verifying changed the journal's bytes")?;
    println!("xtask: windows:   both: {}", on_linux.stdout.lines().next().unwrap_or_default());

    // A damaged copy: one byte of the last record flipped.
    let damaged = ctx.root.join("Zoë examen").join("beschadigd");
    std::fs::create_dir_all(&damaged).map_err(|e| e.to_string())?;
    let mut segment = None;
    for (path, bytes) in &before {
        let name = path.strip_prefix(&dir).map_err(|e| e.to_string())?;
        let copy = damaged.join(name);
        std::fs::create_dir_all(copy.parent().expect("a file")).map_err(|e| e.to_string())?;
        std::fs::write(&copy, bytes).map_err(|e| e.to_string())?;
        if name.to_string_lossy().starts_with("seg-") && bytes.len() > 64 {
            segment = Some(copy);
        }
    }
    let segment = segment.ok_or("no segment file (seg-*.journal) in the journal")?;
    let mut bytes = std::fs::read(&segment).map_err(|e| e.to_string())?;
    let at = bytes.len() - 20;
    bytes[at] ^= 0x01;
    std::fs::write(&segment, bytes).map_err(|e| e.to_string())?;
    let bad_windows = ctx.win(&["journal", "verify", "--json", &w(&damaged)])?;
    let bad_linux = ctx.linux(&["journal", "verify", "--json", &s(&damaged)])?;
    check(
        bad_windows.code == Some(1) && bad_linux.code == Some(1),
        format!("a damaged journal: exit {:?} (kioskctl.exe) and {:?} (Linux), expected 1 and 1", bad_windows.code, bad_linux.code),
    )?;
    // The same failure but for the file's spelling ("file" comes first).
    let after_file = |o: &Output| o.stdout.find("\"offset\"").map(|i| o.stdout[i..].to_owned());
    check(
        after_file(&bad_windows).is_some() && after_file(&bad_windows) == after_file(&bad_linux),
        format!("the damaged journal fails differently:\nkioskctl.exe: {}\nLinux:        {}", bad_windows.stdout, bad_linux.stdout),
    )?;
    println!("xtask: windows:   damaged, both: {}", bad_linux.stderr.trim());
    Ok(())
}

/// Windows bad input: a clear error (exit 2, `error: ` naming the path), never
/// a hang or a crash; a `\\?\` path to a real journal simply works.
fn bad_input(ctx: &Ctx) -> Result {
    let (dir, key) = windows_journal(ctx)?;
    let (_, store) = key_file(ctx);
    let append = |journal: &str| {
        ctx.win(&["journal", "append", "--journal", journal, "--store", &store, "--kind", "session.locked"])
    };
    // A drive letter that is not mapped in the prefix.
    let dosdevices = ctx.wine.prefix().join("dosdevices");
    let letter = "qrstuvwxy".chars().find(|l| std::fs::symlink_metadata(dosdevices.join(format!("{l}:"))).is_err());
    let letter = letter.ok_or("every drive letter q..y is mapped")?.to_ascii_uppercase();
    let no_drive = format!("{letter}:\\examen\\journaal");
    clear_error(&append(&no_drive)?, "append to a journal on a drive that does not exist", &no_drive)?;
    clear_error(&ctx.win(&["journal", "verify", &no_drive])?, "verify a journal on a drive that does not exist", &no_drive)?;

    // \\?\ (verbatim) paths: to a real journal they work like the plain path.
    let verbatim = format!("\\\\?\\{}", w(&dir));
    let plain = ctx.win(&["journal", "verify", &w(&dir), "--device-key", &key])?;
    let through = ctx.win(&["journal", "verify", &verbatim, "--device-key", &key])?;
    success(&through, "journal verify \\\\?\\ path")?;
    check(through.stdout == plain.stdout, format!("verify through {verbatim} says {:?}, not {:?}", through.stdout, plain.stdout))?;
    let new_dir = ctx.root.join("Zoë examen").join("via verbatim pad");
    success(&append(&format!("\\\\?\\{}", w(&new_dir)))?, "journal append to a new \\\\?\\ path")?;
    success(&ctx.linux(&["journal", "verify", &s(&new_dir)])?, "Linux verify of the journal written through \\\\?\\")?;
    // Verbatim paths are not normalised: `/` is not a separator there.
    let slashed = format!("\\\\?\\{}", w(&ctx.root).replace('\\', "/")) + "/slash";
    clear_error(&append(&slashed)?, "append to a \\\\?\\ path with / separators", "slash")?;

    // UNC paths (network shares), in each spelling: writing is refused
    // naming the share; reading a share that is not there is a clear error.
    for unc in ["\\\\examserver\\journaal\\pc-12", "\\\\?\\UNC\\examserver\\journaal\\pc-12", "//examserver/journaal/pc-12"] {
        let out = append(unc)?;
        clear_error(&out, &format!("append to the network share {unc}"), "network share \\\\examserver\\journaal")?;
        clear_error(&ctx.win(&["journal", "verify", unc])?, &format!("verify {unc}"), unc)?;
    }

    // Reserved device names as the journal directory.
    let reserved_in_dir = format!("{}\\NUL", w(&ctx.root));
    for name in ["CON", "NUL", "aux", reserved_in_dir.as_str()] {
        clear_error(&append(name)?, &format!("append with journal dir {name}"), name)?;
        clear_error(&ctx.win(&["journal", "verify", name])?, &format!("verify {name}"), name)?;
    }

    // A read-only segment file (the Windows read-only attribute, set with
    // Wine's attrib.exe).
    let read_only = ctx.root.join("Zoë examen").join("alleen lezen");
    std::fs::create_dir_all(&read_only).map_err(|e| e.to_string())?;
    let mut segments = Vec::new();
    for (path, bytes) in snapshot(&dir)? {
        let copy = read_only.join(path.strip_prefix(&dir).map_err(|e| e.to_string())?);
        std::fs::create_dir_all(copy.parent().expect("a file")).map_err(|e| e.to_string())?;
        std::fs::write(&copy, bytes).map_err(|e| e.to_string())?;
        if copy.file_name().is_some_and(|n| n.to_string_lossy().starts_with("seg-")) {
            segments.push(copy);
        }
    }
    let last = segments.iter().max().ok_or("no segment file")?.clone();
    let attrib = run_limited(ctx.wine.command("attrib").args(["+r", &w(&last)]), LIMIT)?;
    success(&attrib, "attrib +r")?;
    // Wine's read-only attribute is the file's Unix write bits, which root
    // ignores: as root the file is also made immutable (chattr +i), which
    // not even root can open for writing (docs/platforms.md).
    let immutable = crate::package::is_root();
    if immutable {
        crate::run(Command::new("chattr").arg("+i").arg(&last))
            .map_err(|e| format!("as root Wine writes read-only files, and chattr +i failed too: {e}"))?;
    }
    let name = last.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let refused = append(&w(&read_only)).and_then(|out| {
        clear_error(&out, "append to a journal whose segment file is read-only", &name)?;
        let still = ctx.win(&["journal", "verify", &w(&read_only), "--device-key", &key])?;
        success(&still, "verify of the read-only journal (reading is allowed)")
    });
    if immutable {
        crate::run(Command::new("chattr").arg("-i").arg(&last))?;
    }
    refused
}

/// `location probe` with the demo policy (loopback only): the Windows
/// collectors (IP Helper API) run under Wine, see loopback and approve; the
/// IPv4 addresses and the gateways they report are the ones the Linux
/// `kioskctl` reads from the same machine (Wine shows the host's network).
fn location_probe(ctx: &Ctx) -> Result {
    let policy = crate::workspace_root().join("policies/demo.toml");
    let win = ctx.win(&["location", "probe", "--policy", &w(&policy)])?;
    let said = format!("{}{}", win.stdout, win.stderr);
    check(
        win.code == Some(0) && said.contains("APPROVED: location") && said.contains("127.0.0.1/8"),
        format!("expected the loopback-only demo policy to be approved, got exit {:?}: {said}", win.code),
    )?;
    let linux = ctx.linux(&["location", "probe", "--policy", &s(&policy)])?;
    check(linux.code == Some(0), format!("the Linux kioskctl's probe failed: {}{}", linux.stdout, linux.stderr))?;
    let (win_v4, linux_v4) = (ipv4_of(&win.stdout), ipv4_of(&linux.stdout));
    check(win_v4 == linux_v4, format!("IPv4 addresses differ: kioskctl.exe {win_v4:?}, Linux {linux_v4:?}"))?;
    let (win_gw, linux_gw) = (gateways_of(&win.stdout), gateways_of(&linux.stdout));
    check(win_gw == linux_gw, format!("gateways differ: kioskctl.exe {win_gw:?}, Linux {linux_gw:?}"))?;
    println!("xtask: windows:   approved; IPv4 {win_v4:?} and gateways {win_gw:?}, the same as the Linux kioskctl's");
    Ok(())
}

/// The `a.b.c.d/n` addresses on a probe's `interfaces:` line, sorted.
fn ipv4_of(report: &str) -> Vec<String> {
    let line = report.lines().find_map(|l| l.strip_prefix("interfaces:")).unwrap_or("");
    let mut out: Vec<String> = line
        .split([',', ' '])
        .filter(|t| t.contains('/') && t.split('/').next().is_some_and(|a| a.parse::<std::net::Ipv4Addr>().is_ok()))
        .map(str::to_owned)
        .collect();
    out.sort();
    out
}

/// The gateway addresses on a probe's `gateways:` line, sorted.
fn gateways_of(report: &str) -> Vec<String> {
    let line = report.lines().find_map(|l| l.strip_prefix("gateways:")).unwrap_or("");
    let mut out: Vec<String> =
        line.split(", ").filter_map(|g| g.split_whitespace().next()).filter(|g| g.parse::<std::net::IpAddr>().is_ok()).map(str::to_owned).collect();
    out.sort();
    out
}
