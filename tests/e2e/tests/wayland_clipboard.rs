//! Clipboard isolation during the exam on Wayland (issue 15 point 6, the
//! twin of `clipboard.rs`, which runs under X11): the real kiosk as a
//! native Wayland client (`GDK_BACKEND=wayland`) under cage, the compositor
//! the kiosk session runs in (installer/linux), with wl-clipboard's
//! `wl-copy` and `wl-paste` as "the rest of the machine".
//!
//! How the pieces fit on a machine without a screen:
//!
//! * cage 0.1.4 (Debian 12) refuses to run as root ("Unable to drop root"),
//!   so a root test runs it as `nobody` (setpriv) in a runtime directory of
//!   its own; the kiosk and the wl-clipboard tools connect to its socket;
//! * cage's wlroots X11 backend draws into a window on the test's own Xvfb
//!   and turns that window's X input into a real Wayland keyboard and
//!   pointer: xdotool's key presses there reach the kiosk as `wl_keyboard`
//!   events from the compositor. (The headless backend with
//!   `WLR_LIBINPUT_NO_DEVICES=1` gives the seat no keyboard at all: no key
//!   reaches any client, and wl-copy fails with "This seat has no
//!   keyboard". Debian 12 has no `wtype` and cage 0.1.4 offers no
//!   virtual-keyboard protocol anyway.)
//! * cage 0.1.4 offers neither `zwlr_data_control_manager_v1` nor a primary
//!   selection protocol. wl-copy and wl-paste therefore use their fallback:
//!   a window of their own ("wl-clipboard") that takes the keyboard focus
//!   for a moment, which is how any other Wayland program would have to do
//!   it there. No Wayland client of cage has a primary selection to read or
//!   fill (`wl-paste --primary`: "The compositor does not seem to support
//!   primary selection"); the test checks that it is so, and checks PRIMARY
//!   like CLIPBOARD on a compositor that offers it.
//!
//! The same checks run under sway 1.7, a desktop compositor (as a student's
//! own laptop may run) that offers `zwlr_data_control_manager_v1` and a
//! primary selection: there another program sets and reads both selections
//! without ever taking the focus, the kiosk cannot take them back (its
//! input serials are older), and what must hold is that nothing of them is
//! pasted and nothing of an answer — copied, or selected with keys or the
//! mouse — is what the other program reads. Under cage an X program on
//! cage's Xwayland (xsel, whose clipboard wlroots bridges to Wayland) is
//! tried as well.
//!
//! Checks (each made, all reported at once): real keys reach the kiosk
//! through cage; text another program put on the clipboard is taken back
//! (the other program loses the selection) and is not pasted into an
//! answer by Ctrl+V or Shift+Insert; an answer selected and copied
//! (Ctrl+A, Ctrl+C) is not what another program reads from the clipboard;
//! copy/paste inside the exam still works; the journal names the isolation
//! and holds no clipboard text; left alone past the window guard's arming
//! time, the exam does not lock and no window disturbance is journalled. One kiosk, every process (compositor,
//! driver, kiosk, Xvfb, wl-copy) ended when the test ends, also on failure.
//! Screenshots go to target/e2e/wayland-clipboard/.

use exam_e2e::scenario::{shot, Observed};
use exam_e2e::steps::{self, SCREEN};
use exam_e2e::webdriver::Session;
use exam_e2e::{bin, workspace, Display, Driver, Guarded, Stack};
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use x11rb::connection::Connection as _;
use x11rb::protocol::xproto::{ConnectionExt as _, MapState};

/// What another program puts on the clipboard.
const OUTSIDE_CLIPBOARD: &str = "BUITEN-WAYLAND-6610";
const OUTSIDE_PRIMARY: &str = "BUITEN-WAYLAND-SELECTIE-2284";
/// What an X program under cage's Xwayland puts on the clipboard.
const OUTSIDE_X: &str = "BUITEN-XWAYLAND-5150";
/// What the student types (and copies) in the exam.
const ANSWER: &str = "Ik bied WAYLAND-ANTWOORD-4417 mijn excuses aan";
const ANSWER_MARK: &str = "WAYLAND-ANTWOORD-4417";
/// Typed with real keys to see that they reach the kiosk through cage.
const TYPED: &str = "toetsen";

const TEXT_ENTRY: &str = "[data-item-id=\"ITM-v03\"] input.text-entry";
const EXTENDED_TEXT: &str = "[data-item-id=\"ITM-v04\"] textarea";
/// The item's own text (exam content) and a word of it.
const ITEM_TEXT: &str = "[data-item-id=\"ITM-v04\"] .item-body p";
const ITEM_MARK: &str = "waterkoker";

/// The user cage runs as when the test runs as root (cage refuses root).
const NOBODY: u32 = 65534;

/// The two wlroots compositors the test runs the kiosk under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// cage 0.1.4: the installed kiosk session's compositor; no data-control
    /// protocol, no primary selection.
    Cage,
    /// sway 1.7: a desktop compositor (as on a student's own laptop) that
    /// offers `zwlr_data_control_manager_v1` — another program reads and
    /// sets the clipboard without the keyboard focus — and a primary
    /// selection.
    Sway,
}

impl Kind {
    fn program(self) -> &'static str {
        match self {
            Kind::Cage => "cage",
            Kind::Sway => "sway",
        }
    }
}

/// A compositor on the test's Xvfb (wlroots' X11 backend: its window there
/// is the output, the X keyboard and pointer are the seat's). Ended with its
/// whole process group (the compositor, its children, Xwayland) when dropped.
struct Compositor {
    kind: Kind,
    child: Child,
    /// Its runtime directory (owned by the user cage runs as).
    runtime: tempfile::TempDir,
    /// The Wayland socket (an absolute path works as `WAYLAND_DISPLAY`).
    socket: PathBuf,
    log: PathBuf,
}

impl Compositor {
    fn start(kind: Kind, display: &Display, log: &Path) -> Result<Self, String> {
        // In /tmp itself: the user the compositor runs as must reach it.
        let runtime = tempfile::Builder::new().prefix("exam-e2e-wayland-").tempdir_in("/tmp").map_err(|e| e.to_string())?;
        let as_root = std::fs::metadata("/proc/self").map_err(|e| e.to_string())?.uid() == 0;
        // sway's own configuration: no X11 clients (only Wayland ones here),
        // no borders, no bar; the kiosk asks for full screen itself.
        let config = runtime.path().join("sway.conf");
        std::fs::write(&config, "xwayland disable\ndefault_border none\nfocus_follows_mouse no\n").map_err(|e| e.to_string())?;
        let mut cmd = if as_root {
            // Both refuse to run as root ("Unable to drop root").
            std::os::unix::fs::chown(runtime.path(), Some(NOBODY), Some(NOBODY)).map_err(|e| format!("chown runtime dir: {e}"))?;
            std::os::unix::fs::chown(&config, Some(NOBODY), Some(NOBODY)).map_err(|e| format!("chown sway.conf: {e}"))?;
            let mut cmd = Command::new("setpriv");
            cmd.args([format!("--reuid={NOBODY}"), format!("--regid={NOBODY}"), "--clear-groups".into(), "--".into(), kind.program().into()]);
            cmd
        } else {
            Command::new(kind.program())
        };
        match kind {
            Kind::Cage => cmd.args(["-d", "--", "sleep", "3600"]),
            Kind::Sway => cmd.arg("-c").arg(&config),
        };
        cmd.env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("DISPLAY", &display.name)
            .env("XDG_RUNTIME_DIR", runtime.path())
            .env("WLR_BACKENDS", "x11")
            .env("WLR_RENDERER", "pixman")
            .env("WLR_LIBINPUT_NO_DEVICES", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?);
        // Its own process group: dropping it ends cage and all it started.
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let child = cmd.spawn().map_err(|e| format!("{}: {e}", kind.program()))?;
        let mut cage = Self { kind, child, socket: runtime.path().join("wayland-0"), runtime, log: log.to_owned() };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(name) = std::fs::read_dir(cage.runtime.path())
                .ok()
                .and_then(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).find(|n| n.starts_with("wayland-") && !n.ends_with(".lock")))
            {
                cage.socket = cage.runtime.path().join(name);
                if std::os::unix::net::UnixStream::connect(&cage.socket).is_ok() {
                    return Ok(cage);
                }
            }
            if let Ok(Some(status)) = cage.child.try_wait() {
                return Err(format!("{} exited ({status}): {}", kind.program(), cage.log_text()));
            }
            if Instant::now() > deadline {
                return Err(format!("{} did not start within 20 s: {}", kind.program(), cage.log_text()));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The environment of a Wayland client of this compositor.
    fn client_env(&self) -> Vec<(String, String)> {
        vec![
            ("WAYLAND_DISPLAY".to_owned(), self.socket.display().to_string()),
            ("XDG_RUNTIME_DIR".to_owned(), self.runtime.path().display().to_string()),
        ]
    }

    /// A wl-clipboard tool as another Wayland client of this compositor.
    fn tool(&self, tool: &str) -> Command {
        let mut cmd = Command::new("timeout");
        cmd.args(["10", tool]).env_remove("DISPLAY").envs(self.client_env());
        cmd
    }

    /// cage's Xwayland display (`:N`), as cage gave it to its child (cage
    /// starts Xwayland when the first X client connects).
    fn x_display(&self) -> Result<String, String> {
        let cage = self.child.id().to_string();
        for entry in std::fs::read_dir("/proc").map_err(|e| e.to_string())?.flatten() {
            let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
            // pid (comm) state ppid …
            let ppid = stat.rsplit_once(") ").and_then(|(_, rest)| rest.split(' ').nth(1));
            if ppid == Some(cage.as_str()) {
                let environ = std::fs::read(entry.path().join("environ")).map_err(|e| e.to_string())?;
                if let Some(display) = environ.split(|b| *b == 0).find_map(|v| v.strip_prefix(b"DISPLAY=")) {
                    return Ok(String::from_utf8_lossy(display).into_owned());
                }
            }
        }
        Err("cage gave its child no DISPLAY (built without Xwayland?)".into())
    }

    /// An X program (xsel) as a client of cage's Xwayland, as the user cage
    /// runs as (Xwayland lets only that user in).
    fn x_tool(&self, x_display: &str, args: &[&str]) -> Result<Command, String> {
        let as_root = std::fs::metadata("/proc/self").map_err(|e| e.to_string())?.uid() == 0;
        let mut cmd = if as_root {
            let mut cmd = Command::new("setpriv");
            cmd.args([format!("--reuid={NOBODY}"), format!("--regid={NOBODY}"), "--clear-groups".into(), "--".into(), "timeout".into()]);
            cmd
        } else {
            Command::new("timeout")
        };
        cmd.args(["10", "xsel"]).args(args).env_clear().env("PATH", "/usr/bin:/bin").env("DISPLAY", x_display).env("HOME", self.runtime.path());
        Ok(cmd)
    }
}

impl Drop for Compositor {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).stderr(Stdio::null()).status();
        let deadline = Instant::now() + Duration::from_secs(3);
        while self.child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = Command::new("kill").args(["-KILL", "--", &group]).stderr(Stdio::null()).status();
        let _ = self.child.wait();
    }
}

/// The compositor's window on the Xvfb (the only one mapped): where real X
/// input enters the compositor.
fn compositor_window(display: &Display) -> Result<String, String> {
    let (conn, screen) = x11rb::connect(Some(&display.name)).map_err(|e| e.to_string())?;
    let root = conn.setup().roots[screen].root;
    let tree = conn.query_tree(root).map_err(|e| e.to_string())?.reply().map_err(|e| e.to_string())?;
    let mut mapped = Vec::new();
    for window in tree.children {
        let attrs = conn.get_window_attributes(window).map_err(|e| e.to_string())?.reply().map_err(|e| e.to_string())?;
        if attrs.map_state == MapState::VIEWABLE {
            mapped.push(window);
        }
    }
    match mapped.as_slice() {
        [window] => Ok(window.to_string()),
        // A kiosk that fell back to X11 would have a window of its own here.
        other => Err(format!("expected only the compositor's window on the X server, found {} mapped windows", other.len())),
    }
}

/// Real key presses into the compositor's window: the compositor sends them to the
/// focused Wayland client (the kiosk).
fn keys(display: &Display, window: &str, keys: &[&str]) -> Result<(), String> {
    steps::xdotool(display, &["windowfocus", "--sync", window])?;
    for key in keys {
        steps::xdotool(display, &["key", "--clearmodifiers", key])?;
        std::thread::sleep(Duration::from_millis(150));
    }
    Ok(())
}

/// Focuses the field through WebDriver (a click), in the middle of the view.
async fn focus_field(session: &Session, css: &str) -> Result<(), String> {
    let field = session.wait_for(css, SCREEN).await?;
    session.script(&format!("document.querySelector('{}').scrollIntoView({{ block: 'center' }}); return true", css.replace('\'', "\\'"))).await?;
    session.click(&field).await
}

/// The middle of an element, in the page's (and so the full-screen
/// window's) coordinates, as xdotool arguments.
async fn centre(session: &Session, css: &str) -> Result<(String, String), String> {
    let at = session
        .script(&format!(
            "const e = document.querySelector('{0}'); e.scrollIntoView({{ block: 'center' }}); const r = e.getBoundingClientRect(); return [Math.round(r.left + r.width / 2), Math.round(r.top + r.height / 2)]",
            css.replace('\'', "\\'")
        ))
        .await?;
    Ok((at[0].as_i64().unwrap_or(0).to_string(), at[1].as_i64().unwrap_or(0).to_string()))
}

/// Whether the lock screen is up (a focus loss of more than a second locks).
async fn locked(session: &Session) -> Result<bool, String> {
    let v = session.script("const e = document.getElementById('unlock-pin'); return !!e && e.offsetParent !== null").await?;
    Ok(v == serde_json::Value::Bool(true))
}

/// Another program (wl-copy, in the foreground: ended with the test) puts
/// `text` on the clipboard or the primary selection. Under cage its window
/// takes the keyboard focus for a moment (no data-control protocol there);
/// under sway it sets the selection through data-control, without the focus.
fn outside_owner(cage: &Compositor, primary: bool, text: &str) -> Result<Guarded, String> {
    let mut cmd = Command::new("wl-copy");
    cmd.env_remove("DISPLAY").envs(cage.client_env()).arg("--foreground");
    if primary {
        cmd.arg("--primary");
    }
    let child = cmd.arg(text).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().map_err(|e| format!("wl-copy: {e}"))?;
    Ok(Guarded(child))
}

/// What another program reads from the clipboard (or the primary selection)
/// right now: `Ok(text)`, or `Err` with wl-paste's complaint.
fn read_selection(cage: &Compositor, primary: bool) -> Result<Result<String, String>, String> {
    let mut cmd = cage.tool("wl-paste");
    cmd.arg("--no-newline");
    if primary {
        cmd.arg("--primary");
    }
    let out = cmd.stdin(Stdio::null()).output().map_err(|e| format!("wl-paste: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    Ok(if out.status.success() { Ok(text) } else { Err(format!("{}{}", String::from_utf8_lossy(&out.stderr).trim(), text)) })
}

/// Whether the compositor offers Wayland clients a primary selection.
fn primary_offered(cage: &Compositor) -> Result<bool, String> {
    match read_selection(cage, true)? {
        Err(why) if why.contains("does not seem to support primary selection") => Ok(false),
        _ => Ok(true),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exam_clipboard_is_its_own_on_wayland() {
    the_exam_clipboard_is_its_own(Kind::Cage).await
}

/// Under a compositor with data-control and a primary selection (sway, as a
/// student's own laptop may run) another program reads and sets both
/// selections without ever taking the keyboard focus.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exam_clipboard_is_its_own_under_a_compositor_with_data_control() {
    the_exam_clipboard_is_its_own(Kind::Sway).await
}

async fn the_exam_clipboard_is_its_own(kind: Kind) {
    steps::require_tools(&["Xvfb", kind.program(), "wl-copy", "wl-paste", "xdotool", "xsel", "timeout", "setpriv"]);
    let out = workspace().join(format!("target/e2e/wayland-clipboard/{}", kind.program()));
    std::fs::create_dir_all(&out).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let stack = Stack::start(tmp.path()).unwrap();
    // The guard watches a quiet process tree, not the developer's session.
    let quiet = Guarded(Command::new("sleep").arg("3600").spawn().unwrap());
    let scope = format!("tree:{}", quiet.0.id());
    let display = Display::start().unwrap();
    let cage = Compositor::start(kind, &display, &out.join("compositor.log")).unwrap();
    // The exam mode (not demo): the shell's clipboard guard is part of it.
    let mut env = stack.kiosk_env(false, Some(scope));
    env.push(("GDK_BACKEND".to_owned(), "wayland".to_owned()));
    env.extend(cage.client_env());
    let driver = Driver::start(&display, &env).unwrap();
    let started = Instant::now();
    let session = Session::new(&driver, bin("exam-kiosk").to_str().unwrap()).await.unwrap();
    let mut observed = Observed::default();
    let result = scenario(&session, &stack, &display, &cage, &mut observed, started).await;
    if result.is_err() {
        let _ = shot(&session, &out, &mut observed, "failure").await;
    }
    session.close().await;
    // Everything this test started ends here, in this order, also when a
    // check failed (the asserts below come after).
    drop(driver);
    let cage_log = cage.log_text();
    drop(cage);
    drop(display);
    let (problems, notes) = result.unwrap_or_else(|e| {
        // What the kiosk saw (its window and session events) says why a screen did not come.
        let journal = steps::journal_records(&stack.kiosk_data.join("journal")).unwrap_or_default();
        let seen: Vec<String> = journal
            .iter()
            .filter(|r| r["kind"].as_str().is_some_and(|k| k.starts_with("kiosk.") || k.starts_with("session.")))
            .map(|r| format!("{} {}", r["kind"], r["payload"]))
            .collect();
        panic!("{e}\n{}'s log:\n{cage_log}\nthe kiosk's journal:\n{}", kind.program(), seen.join("\n"))
    });
    for note in &notes {
        eprintln!("note: {note}");
    }
    assert!(problems.is_empty(), "the exam's clipboard is not its own on Wayland:\n- {}", problems.join("\n- "));

    let journal = stack.kiosk_data.join("journal");
    let records = steps::journal_records(&journal).unwrap();
    let raw = serde_json::to_string(&records).unwrap();
    for text in [ANSWER_MARK, OUTSIDE_CLIPBOARD, OUTSIDE_PRIMARY, OUTSIDE_X] {
        assert!(!raw.contains(text), "the journal holds events, never clipboard contents ({text})");
    }
    assert!(records.iter().any(|r| r["kind"] == "kiosk.clipboard_isolated"), "the journal says the clipboard was isolated during the exam");
    let disturbed: Vec<String> = records.iter().filter(|r| r["kind"] == "kiosk.window_disturbed").map(|r| r["payload"].to_string()).collect();
    assert!(disturbed.is_empty(), "nothing moved, resized or hid the kiosk's window, yet the guard journalled: {disturbed:?}");
    assert!(steps::journal_verifies(&journal));
    drop(quiet);
}

/// Returns what did not hold and notes on what could not be checked here.
async fn scenario(
    session: &Session,
    stack: &Stack,
    display: &Display,
    cage: &Compositor,
    observed: &mut Observed,
    started: Instant,
) -> Result<(Vec<String>, Vec<String>), String> {
    let out = workspace().join(format!("target/e2e/wayland-clipboard/{}", cage.kind.program()));
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    steps::into_exam(session, &stack.students[0]).await?;
    // Only the compositor's window is on the X server: the kiosk is a Wayland client.
    let window = compositor_window(display)?;
    session.wait_for(TEXT_ENTRY, SCREEN).await?;

    // 0. Real keys reach the kiosk through the compositor (else every
    // check below would pass for want of a key press).
    focus_field(session, TEXT_ENTRY).await?;
    steps::xdotool(display, &["windowfocus", "--sync", &window])?;
    steps::xdotool(display, &["type", "--delay", "50", TYPED])?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let typed = steps::value_of(session, TEXT_ENTRY).await?;
    if typed != TYPED {
        return Err(format!("keys typed into the compositor's window should reach the kiosk's field: it holds {typed:?}"));
    }
    steps::clear_field(session, TEXT_ENTRY).await?;

    let primary = primary_offered(cage)?;
    if !primary {
        notes.push("this compositor offers Wayland clients no primary selection: no other program can fill or read one, so PRIMARY is not checked".to_owned());
    }
    let selections: &[bool] = if primary { &[false, true] } else { &[false] };

    // 1. Outside → in: another program puts text on the clipboard (and primary).
    let mut owners = Vec::new();
    for &sel in selections {
        owners.push((sel, outside_owner(cage, sel, if sel { OUTSIDE_PRIMARY } else { OUTSIDE_CLIPBOARD })?));
        // Its window takes the focus for a moment; the kiosk gets it back.
        tokio::time::sleep(Duration::from_millis(1500)).await;
    }
    for (sel, owner) in &mut owners {
        if owner.0.try_wait().map_err(|e| e.to_string())?.is_none() {
            // wl-copy --foreground exits when another client takes the selection.
            // Under data-control another program sets a selection without
            // the focus, and a Wayland client may set one only with the
            // serial of an input event newer than that (the kiosk's take
            // back is refused): there it may keep it, and what matters is
            // that nothing of it is pasted (below).
            let message = format!("another program still holds the {} during the exam", name(*sel));
            match cage.kind {
                Kind::Cage => problems.push(message),
                Kind::Sway => notes.push(message),
            }
        }
    }
    if locked(session).await? {
        problems.push("the exam locked while another program put text on the clipboard".into());
        steps::unlock(session, "wayland clipboard test").await?;
    }
    focus_field(session, TEXT_ENTRY).await?;
    for (how, key) in [("Ctrl+V", "ctrl+v"), ("Shift+Insert", "shift+Insert")] {
        keys(display, &window, &[key])?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let value = steps::value_of(session, TEXT_ENTRY).await?;
        if value.contains(OUTSIDE_CLIPBOARD) || value.contains(OUTSIDE_PRIMARY) {
            problems.push(format!("{how} pasted outside text into an answer: {value:?}"));
        }
        steps::clear_field(session, TEXT_ENTRY).await?;
    }
    if primary {
        // A middle click pastes PRIMARY.
        let (x, y) = centre(session, TEXT_ENTRY).await?;
        steps::xdotool(display, &["mousemove", "--window", &window, "--sync", &x, &y])?;
        steps::xdotool(display, &["click", "2"])?;
        tokio::time::sleep(Duration::from_millis(800)).await;
        let value = steps::value_of(session, TEXT_ENTRY).await?;
        if value.contains(OUTSIDE_PRIMARY) {
            problems.push(format!("a middle click pasted outside text into an answer: {value:?}"));
        }
        steps::clear_field(session, TEXT_ENTRY).await?;
    }
    drop(owners);
    shot(session, &out, observed, "after-outside-paste").await?;

    // 2. Answer → out: the student types an answer, selects it and copies it.
    session.type_into(&session.wait_for(EXTENDED_TEXT, SCREEN).await?, ANSWER).await?;
    focus_field(session, EXTENDED_TEXT).await?;
    keys(display, &window, &["ctrl+a", "ctrl+c"])?;
    tokio::time::sleep(Duration::from_millis(800)).await;
    for &sel in selections {
        match read_selection(cage, sel)? {
            Ok(text) if text.contains(ANSWER_MARK) => {
                problems.push(format!("after Ctrl+A, Ctrl+C in an answer another program reads it from the {}: {text:?}", name(sel)))
            }
            // Empty, or "Nothing is copied": the answer did not leave.
            _ => {}
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    if primary {
        // Selected with the mouse (a triple click selects a paragraph), the
        // answer and the item's own text: WebKit offers a selection made in
        // the page as PRIMARY, which a data-control client reads without the
        // focus. Neither may reach another program. (The item's text cannot
        // be selected at all — `user-select: none` in ui/css/kiosk.css —
        // so only the answer must be selected for its check to mean something.)
        for (what, css, mark, selectable) in [("an answer", EXTENDED_TEXT, ANSWER_MARK, true), ("the item's text", ITEM_TEXT, ITEM_MARK, false)] {
            let (x, y) = centre(session, css).await?;
            steps::xdotool(display, &["mousemove", "--window", &window, "--sync", &x, &y])?;
            steps::xdotool(display, &["click", "--repeat", "3", "--delay", "80", "1"])?;
            tokio::time::sleep(Duration::from_millis(800)).await;
            let selected = session.script("return String(window.getSelection()) || (document.activeElement && document.activeElement.value ? document.activeElement.value.substring(document.activeElement.selectionStart, document.activeElement.selectionEnd) : '')").await?;
            if selectable && !selected.as_str().is_some_and(|t| t.contains(mark)) {
                problems.push(format!("a triple click on {what} should select it (else the check below means nothing): selected {selected}"));
            }
            if let Ok(text) = read_selection(cage, true)? {
                if text.contains(mark) {
                    problems.push(format!("{what}, selected with the mouse, is what another program reads from the primary selection: {text:?}"));
                }
            }
        }
    }
    if locked(session).await? {
        problems.push("the exam locked while another program read the clipboard".into());
        steps::unlock(session, "wayland clipboard test").await?;
    }

    // 2b. cage runs Xwayland for X programs, and wlroots bridges the X
    // clipboard to its Wayland clients (an X client reads the Wayland
    // clipboard without the focus). An X program's text is not pasted, and
    // an answer copied in the exam is not what it reads.
    if cage.kind == Kind::Cage {
        let x_display = cage.x_display()?;
        let mut owner = cage.x_tool(&x_display, &["--clipboard", "--input", "--nodetach"])?;
        let mut owner = Guarded(owner.stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().map_err(|e| format!("xsel: {e}"))?);
        if let Some(mut input) = owner.0.stdin.take() {
            std::io::Write::write_all(&mut input, OUTSIDE_X.as_bytes()).map_err(|e| e.to_string())?;
        }
        tokio::time::sleep(Duration::from_millis(1500)).await;
        if let Some(status) = owner.0.try_wait().map_err(|e| e.to_string())? {
            return Err(format!("an X program under cage's Xwayland ({x_display}) could not hold the clipboard ({status}): the check would mean nothing"));
        }
        focus_field(session, TEXT_ENTRY).await?;
        keys(display, &window, &["ctrl+v"])?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let value = steps::value_of(session, TEXT_ENTRY).await?;
        if value.contains(OUTSIDE_X) {
            problems.push(format!("Ctrl+V pasted an X program's text (cage's Xwayland) into an answer: {value:?}"));
        }
        steps::clear_field(session, TEXT_ENTRY).await?;
        focus_field(session, EXTENDED_TEXT).await?;
        keys(display, &window, &["ctrl+a", "ctrl+c"])?;
        tokio::time::sleep(Duration::from_millis(800)).await;
        for selection in ["--clipboard", "--primary"] {
            let out = cage.x_tool(&x_display, &[selection, "--output"])?.stdin(Stdio::null()).output().map_err(|e| format!("xsel: {e}"))?;
            if !out.status.success() {
                return Err(format!("an X program could not read {selection} on cage's Xwayland: {}", String::from_utf8_lossy(&out.stderr)));
            }
            let text = String::from_utf8_lossy(&out.stdout);
            if text.contains(ANSWER_MARK) {
                problems.push(format!("after Ctrl+A, Ctrl+C in an answer an X program under cage's Xwayland reads it ({selection}): {text:?}"));
            }
        }
        drop(owner);
    }

    // 3. Inside: Ctrl+V in another answer pastes what was copied in the
    // exam (so Ctrl+C did copy, and check 2 means something).
    focus_field(session, TEXT_ENTRY).await?;
    keys(display, &window, &["ctrl+v"])?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pasted = steps::value_of(session, TEXT_ENTRY).await?;
    if pasted != ANSWER {
        problems.push(format!("Ctrl+V inside the exam should paste the copied answer {ANSWER:?}, the field holds {pasted:?}"));
    }
    shot(session, &out, observed, "after-inside-paste").await?;

    // 4. Left alone, the window stays put past the time the window guard
    // arms (at the latest 10 s after the start: ARM_AFTER in src-tauri's
    // window_guard.rs): no lock. Before, GTK's unmap events of WebKit's
    // child windows reached the toplevel's handler and, on Wayland (cage:
    // the installed session), no map event followed — the guard took the
    // window for unmapped and the exam locked 10 s after the kiosk started.
    let armed = Duration::from_secs(12);
    tokio::time::sleep(armed.saturating_sub(started.elapsed())).await;
    if locked(session).await? {
        problems.push("the exam locked with its window left alone (the window guard took it for moved, resized or hidden)".into());
    }
    Ok((problems, notes))
}

fn name(primary: bool) -> &'static str {
    if primary {
        "primary selection"
    } else {
        "clipboard"
    }
}
