//! The process guard and the environment checks of `kioskctl.exe` against
//! real Windows programs under Wine: copies of `room.exe` (room.c, built
//! with mingw-w64) named like a prohibited tool (AnyDesk.exe), an allowed
//! one (Rekenmachine.exe), a screen recorder (obs64.exe) and a VNC server
//! (winvnc.exe), started by a `room.exe start` whose process tree is the
//! guard's scope.

use super::{check, key_file, success, w, Ctx, LIMIT};
use crate::windows::{run_limited, target_dir, Output};
use crate::Result;
use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const ROOM_C: &str = include_str!("../room.c");

/// Wine's own background processes: a guard must never end them.
const WINE_SERVICES: &[&str] = &["services.exe", "winedevice.exe", "plugplay.exe", "svchost.exe", "rpcss.exe"];

/// How long `guard watch --enforce` runs.
const WATCH_SECONDS: u64 = 20;

/// Builds room.exe (a sleeper, a process lister and a starter of programs).
pub(super) fn build_room(root: &Path) -> Result<PathBuf> {
    let dir = target_dir().join("wine-shims");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let source = dir.join("room.c");
    std::fs::write(&source, ROOM_C).map_err(|e| format!("{}: {e}", source.display()))?;
    let exe = root.join("room.exe");
    crate::run(Command::new("x86_64-w64-mingw32-gcc").args(["-O2", "-o"]).arg(&exe).arg(&source))?;
    Ok(exe)
}

/// Copies of room.exe under `names` in a directory of their own.
fn programs(ctx: &Ctx, dir: &str, names: &[&str]) -> Result<Vec<PathBuf>> {
    let dir = ctx.root.join(dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    names
        .iter()
        .map(|name| {
            let path = dir.join(name);
            std::fs::copy(&ctx.room, &path).map_err(|e| format!("{}: {e}", path.display()))?;
            Ok(path)
        })
        .collect()
}

/// A `room.exe start` and the programs it started; when dropped it ends them
/// (end of its stdin), and is ended itself when it does not exit.
struct Room {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    /// Its Windows process id: the guard's scope is its tree.
    pid: u32,
    /// (Windows process id, Windows path) of each program.
    started: Vec<(u32, String)>,
}

/// How long `room.exe` may take to answer (Wine starts programs slowly on a busy machine).
const ROOM_ANSWER: Duration = Duration::from_secs(60);

impl Room {
    fn start(ctx: &Ctx, programs: &[PathBuf]) -> Result<Room> {
        let mut cmd = ctx.wine.command(&ctx.room);
        cmd.arg("start").args(programs.iter().map(|p| w(p))).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null());
        let mut child = cmd.spawn().map_err(|e| format!("cannot start room.exe: {e}"))?;
        let stdout = child.stdout.take().expect("piped");
        let stdin = child.stdin.take();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line.trim_end_matches('\r').to_owned()).is_err() {
                    break;
                }
            }
        });
        let mut room = Room { child, stdin, lines, pid: 0, started: Vec::new() };
        loop {
            let line = room.next_line()?;
            if line == "ready" {
                break;
            }
            if let Some(pid) = line.strip_prefix("room ") {
                room.pid = pid.parse().map_err(|_| format!("room.exe printed {line:?}"))?;
            } else if let Some((pid, program)) = line.strip_prefix("started ").and_then(|r| r.split_once(' ')) {
                room.started.push((pid.parse().map_err(|_| format!("room.exe printed {line:?}"))?, program.to_owned()));
            } else {
                return Err(format!("room.exe printed {line:?}"));
            }
        }
        check(room.pid != 0 && room.started.len() == programs.len(), "room.exe did not start every program")?;
        Ok(room)
    }

    fn next_line(&self) -> Result<String> {
        self.lines.recv_timeout(ROOM_ANSWER).map_err(|_| format!("room.exe said nothing within {} s", ROOM_ANSWER.as_secs()))
    }

    /// Per program (in start order): `None` while it runs, else its exit code.
    fn status(&mut self) -> Result<Vec<Option<u32>>> {
        let stdin = self.stdin.as_mut().ok_or("room.exe's stdin is closed")?;
        writeln!(stdin, "status").and_then(|()| stdin.flush()).map_err(|e| format!("room.exe: {e}"))?;
        let mut states = Vec::new();
        loop {
            let line = self.next_line()?;
            if line == "." {
                break;
            }
            let (_, program) = self.started.get(states.len()).ok_or_else(|| format!("room.exe printed {line:?}"))?;
            match line.strip_prefix(program.as_str()).map(str::trim) {
                Some("running") => states.push(None),
                Some(rest) if rest.starts_with("ended ") => states.push(rest[6..].parse().ok()),
                _ => return Err(format!("room.exe printed {line:?} for {program}")),
            }
        }
        check(states.len() == self.started.len(), format!("room.exe reported {} of {} programs", states.len(), self.started.len()))?;
        Ok(states)
    }
}

impl Drop for Room {
    fn drop(&mut self) {
        // The end of its stdin: room.exe ends its programs and exits.
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // Our own child, by its handle; wineserver -k at the end ends its programs.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every Windows process: (pid, parent pid, name), from `room.exe list`
/// (Toolhelp), without the lister itself and what Wine started for it.
fn processes(ctx: &Ctx) -> Result<Vec<(u32, u32, String)>> {
    let out = run_limited(ctx.wine.command(&ctx.room).arg("list"), LIMIT)?;
    success(&out, "room.exe list")?;
    let all: Vec<(u32, u32, String)> = out
        .stdout
        .lines()
        .filter_map(|l| {
            let mut parts = l.splitn(3, ' ');
            Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?, parts.next()?.trim().to_owned()))
        })
        .collect();
    check(!all.is_empty(), format!("room.exe list printed {:?}", out.stdout))?;
    // The lister is a room.exe that did not start anything (it is no Room's pid: those appear as parents).
    let parents: Vec<u32> = all.iter().map(|p| p.1).collect();
    let lister: Vec<u32> = all.iter().filter(|p| p.2.eq_ignore_ascii_case("room.exe") && !parents.contains(&p.0)).map(|p| p.0).collect();
    Ok(all.into_iter().filter(|p| !lister.contains(&p.0) && !lister.contains(&p.1)).collect())
}

fn named(list: &[(u32, u32, String)], pid: u32, name: &str) -> bool {
    list.iter().any(|p| p.0 == pid && p.2.eq_ignore_ascii_case(name))
}

/// The prefix's `taskkill.exe` moved aside while this lives (put back on
/// drop, also when the scenario fails): a Windows program that starts it
/// then gets "file not found", as under an AppLocker rule.
struct TaskkillBlocked {
    path: PathBuf,
    aside: PathBuf,
}

impl TaskkillBlocked {
    fn new(ctx: &Ctx) -> Result<Self> {
        let path = ctx.wine.prefix().join("drive_c/windows/system32/taskkill.exe");
        let aside = path.with_extension("exe.blocked");
        std::fs::rename(&path, &aside).map_err(|e| format!("cannot move {} aside: {e}", path.display()))?;
        Ok(Self { path, aside })
    }
}

impl Drop for TaskkillBlocked {
    fn drop(&mut self) {
        if let Err(e) = std::fs::rename(&self.aside, &self.path) {
            eprintln!("xtask: windows: cannot put {} back: {e}", self.path.display());
        }
    }
}

/// `guard scan` names the prohibited program; `guard watch --enforce` ends
/// it, journals it, and leaves the allowed program, itself and Wine's own
/// processes running.
pub(super) fn enforce(ctx: &Ctx) -> Result {
    let policy = crate::workspace_root().join("policies/demo.toml");
    let policy = w(&policy);
    let progs = programs(ctx, "programma's", &["AnyDesk.exe", "Rekenmachine.exe"])?;
    let mut room = Room::start(ctx, &progs)?;
    let (prohibited, allowed) = (room.started[0].0, room.started[1].0);
    let scope = format!("tree:{}", room.pid);
    let before = processes(ctx)?;
    check(
        named(&before, prohibited, "AnyDesk.exe") && named(&before, allowed, "Rekenmachine.exe"),
        format!("the programs are not in the process list: {before:?}"),
    )?;

    let scan = ctx.win(&["guard", "scan", "--policy", &policy, "--scope", &scope])?;
    success(&scan, "guard scan")?;
    let would = format!("would end pid {prohibited:>7}  AnyDesk.exe");
    check(scan.stdout.contains(&would), format!("guard scan does not list {would:?}: {}", scan.stdout))?;
    check(!scan.stdout.contains("Rekenmachine"), format!("guard scan lists the allowed program: {}", scan.stdout))?;
    // Without --scope: this user's processes, on Windows this Windows
    // session's. Before, Windows processes had no user id, so that scope
    // held none and the scan said all is well with AnyDesk.exe running.
    let unscoped = ctx.win(&["guard", "scan", "--policy", &policy])?;
    success(&unscoped, "guard scan without --scope")?;
    check(unscoped.stdout.contains(&would), format!("guard scan over this session does not list {would:?}: {}", unscoped.stdout))?;
    check(!unscoped.stdout.contains("Rekenmachine"), format!("guard scan lists the allowed program: {}", unscoped.stdout))?;

    let journal = ctx.root.join("guard journaal");
    let (_, store) = key_file(ctx);
    let (journal_arg, duration) = (w(&journal), WATCH_SECONDS.to_string());
    let watch_args: [&str; 13] = [
        "guard", "watch", "--policy", &policy, "--journal", &journal_arg, "--store", &store, "--scope", &scope, "--enforce",
        "--duration", &duration,
    ];
    // As on a school PC where AppLocker blocks taskkill.exe: the guard must
    // end the program itself (sysinfo would start taskkill.exe and fail).
    let blocked = TaskkillBlocked::new(ctx)?;
    let (watched, during, states) = std::thread::scope(|s| {
        let watch = s.spawn(|| ctx.win(&watch_args));
        // Until the prohibited program has ended (or kioskctl.exe did).
        let deadline = Instant::now() + LIMIT;
        let mut states = room.status();
        while matches!(&states, Ok(s) if s[0].is_none()) && !watch.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(200));
            states = room.status();
        }
        // kioskctl.exe still runs (its duration is not over).
        let during = processes(ctx);
        (watch.join().unwrap_or_else(|_| Err("the watch thread panicked".into())), during, states)
    });
    drop(blocked);
    let watched: Output = watched?;
    let during = during?;
    states?;
    let states = room.status()?;
    check(states[0].is_some(), "the prohibited program still runs")?;
    check(states[1].is_none(), "the allowed program was ended")?;
    check(
        during.iter().any(|p| p.2.eq_ignore_ascii_case("kioskctl.exe")),
        format!("kioskctl.exe was not running after it ended the program: {during:?}"),
    )?;
    success(&watched, "guard watch --enforce")?;
    let ended = format!("guard.process_ended pid {prohibited} AnyDesk.exe");
    check(watched.stdout.contains(&ended), format!("guard watch did not print {ended:?}: {}", watched.stdout))?;
    check(!watched.stdout.contains("Rekenmachine"), format!("guard watch acted on the allowed program: {}", watched.stdout))?;

    // Wine's own services, the room and the allowed program still run, by
    // pid. (Wine's explorer.exe comes and goes by itself, and the console
    // host of the ended program ends with it.)
    let after = processes(ctx)?;
    let kept: Vec<_> = before
        .iter()
        .filter(|p| WINE_SERVICES.iter().any(|s| p.2.eq_ignore_ascii_case(s)) || p.0 == room.pid || p.0 == allowed)
        .collect();
    check(kept.iter().any(|p| p.2.eq_ignore_ascii_case("services.exe")), format!("no services.exe in the prefix: {before:?}"))?;
    let gone: Vec<_> = kept.iter().filter(|p| !named(&after, p.0, &p.2)).collect();
    check(gone.is_empty(), format!("processes the guard should not touch are gone: {gone:?}"))?;
    check(!named(&after, prohibited, "AnyDesk.exe"), "AnyDesk.exe is still in the process list")?;
    check(room.status()?[1].is_none(), "the allowed program no longer runs")?;
    let kept: Vec<String> = kept.iter().map(|p| format!("{} {}", p.2, p.0)).collect();
    println!("xtask: windows:   ended AnyDesk.exe (pid {prohibited}); still running: {}; kioskctl.exe ran on and exited 0", kept.join(", "));

    // The journal names it (read by the Linux kioskctl).
    let shown = ctx.linux(&["journal", "show", "--json", &journal.to_string_lossy()])?;
    success(&shown, "Linux kioskctl journal show (guard journal)")?;
    let journalled = shown.stdout.lines().any(|l| {
        l.contains("\"kind\":\"guard.process_ended\"") && l.contains("\"name\":\"AnyDesk.exe\"") && l.contains(&format!("\"pid\":{prohibited}"))
    });
    check(journalled, format!("no guard.process_ended for AnyDesk.exe (pid {prohibited}) in the journal:\n{}", shown.stdout))?;
    check(!shown.stdout.contains("Rekenmachine"), "the journal names the allowed program")?;
    success(&ctx.linux(&["journal", "verify", &journal.to_string_lossy()])?, "Linux kioskctl journal verify (guard journal)")?;

    // What was started is ended.
    drop(room);
    let left = processes(ctx)?;
    check(
        !left.iter().any(|p| p.0 == allowed || p.2.eq_ignore_ascii_case("Rekenmachine.exe")),
        format!("Rekenmachine.exe outlived its room: {left:?}"),
    )
}

/// One finding of `guard env --json`: (check, checked, detected, action, evidence).
fn findings(json: &str) -> Vec<(String, bool, bool, String, String)> {
    let field = |block: &str, name: &str| {
        let at = block.find(&format!("\"{name}\": "))? + name.len() + 4;
        let rest = &block[at..];
        let end = rest.find([',', '\n']).unwrap_or(rest.len());
        Some(rest[..end].trim().trim_matches('"').to_owned())
    };
    json.split("\"check\": \"")
        .skip(1)
        .filter_map(|block| {
            let check = block.split('"').next()?.to_owned();
            let evidence = block.split("\"evidence\": [").nth(1)?.split(']').next()?.to_owned();
            Some((check, field(block, "checked")? == "true", field(block, "detected")? == "true", field(block, "action")?, evidence))
        })
        .collect()
}

/// `guard env` with the school-pc policy (VM warn, the rest lock): every
/// check is either made (ok, or what it saw) or said to be not made with a
/// warning — never `ok` without having looked. With a screen recorder and a
/// VNC server running under Wine, both checks name them and the exam would lock.
pub(super) fn environment(ctx: &Ctx) -> Result {
    let policy = w(&crate::workspace_root().join("policies/school-pc.toml"));
    let checks = ["virtual-machine", "remote-session", "displays", "screen-capture"];
    let text_name = |check: &str| check.split('-').map(|part| part[..1].to_uppercase() + &part[1..]).collect::<String>();
    let report = |expect_exit: i32| -> Result<Vec<(String, bool, bool, String, String)>> {
        let json = ctx.win(&["guard", "env", "--policy", &policy, "--json"])?;
        let text = ctx.win(&["guard", "env", "--policy", &policy])?;
        for out in [&json, &text] {
            check(out.code == Some(expect_exit), format!("guard env: exit {:?}, expected {expect_exit}\n{}{}", out.code, out.stdout, out.stderr))?;
        }
        let found = findings(&json.stdout);
        let names: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
        check(names == checks, format!("guard env --json reports {names:?}, expected {checks:?}: {}", json.stdout))?;
        for (check_name, checked, detected, action, evidence) in &found {
            let line = text
                .stdout
                .lines()
                .find_map(|l| l.strip_prefix(&text_name(check_name)))
                .map(str::trim)
                .ok_or_else(|| format!("guard env prints no line for {check_name}: {}", text.stdout))?;
            if !checked {
                // The policy acts on every check, so one not made warns.
                check(!detected && action == "warn", format!("{check_name} is not checked but says action {action}"))?;
                check(evidence.contains("not checked"), format!("{check_name}: not checked, and the evidence does not say so: {evidence}"))?;
                check(line == "not checked (warn)", format!("{check_name} is not checked but guard env prints {line:?}"))?;
            } else if !detected {
                check(action == "allow" && line == "ok", format!("{check_name}: checked, nothing found, but {action} / {line:?}"))?;
            } else {
                check(line == action, format!("{check_name}: fired ({action}) but guard env prints {line:?}"))?;
            }
        }
        Ok(found)
    };
    let quiet = report(0)?;
    // Every check is made on Windows (headless Wine has one monitor).
    check(quiet.iter().all(|f| f.1), format!("a check is not made on Windows: {quiet:?}"))?;
    let summary: Vec<String> = quiet.iter().map(|f| format!("{} {}", f.0, if f.2 { f.3.as_str() } else { "nothing found" })).collect();
    check(
        quiet.iter().filter(|f| f.0 != "virtual-machine").all(|f| !f.2),
        format!("a check fired with nothing running under Wine: {quiet:?}"),
    )?;
    // The VM check sees what the Linux kioskctl sees on the same machine
    // (a build machine that is a VM: both fire; bare metal: neither).
    let linux_policy = crate::workspace_root().join("policies/school-pc.toml");
    let linux = ctx.linux(&["guard", "env", "--policy", &linux_policy.to_string_lossy(), "--json"])?;
    let vm = |found: &[(String, bool, bool, String, String)]| found.iter().find(|f| f.0 == "virtual-machine").map(|f| f.2);
    let (win_vm, linux_vm) = (vm(&quiet), vm(&findings(&linux.stdout)));
    check(
        win_vm.is_some() && win_vm == linux_vm,
        format!("the VM check says {win_vm:?} on Windows and {linux_vm:?} on Linux: {quiet:?}\n{}", linux.stdout),
    )?;
    println!("xtask: windows:   {} (the VM verdict is the Linux kioskctl's)", summary.join("; "));

    // A screen recorder and a VNC server under Wine are seen by name.
    let progs = programs(ctx, "opnemers", &["obs64.exe", "winvnc.exe"])?;
    let room = Room::start(ctx, &progs)?;
    let busy = report(1);
    drop(room);
    let busy = busy?;
    let fired = |name: &str, program: &str| {
        busy.iter().find(|f| f.0 == name).is_some_and(|f| f.1 && f.2 && f.3 == "lock" && f.4.contains(program))
    };
    check(fired("screen-capture", "obs64.exe"), format!("the screen-capture check did not name obs64.exe: {busy:?}"))?;
    check(fired("remote-session", "winvnc.exe"), format!("the remote-session check did not name winvnc.exe: {busy:?}"))?;
    println!("xtask: windows:   with obs64.exe and winvnc.exe running: screen-capture and remote-session fire (lock, exit 1)");
    Ok(())
}
