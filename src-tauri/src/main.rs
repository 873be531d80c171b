//! exam-kiosk: the locked-down exam kiosk.
//!
//! A thin Tauri shell: every command calls [`kiosk_core::kiosk::Kiosk`]; the
//! web view only renders the [`KioskView`] it is sent. The window takes the
//! whole monitor without decorations, stays on top, refuses to close until
//! the exam is handed in, allows navigation only within the kiosk's own
//! pages, and denies new windows.
//!
//! On Windows it is a GUI program (subsystem `windows`): started as the
//! kiosk account's shell it opens no console window behind the exam. Its
//! messages (`--help`, argument errors) then reach only a redirected
//! stdout/stderr. (`cargo xtask test-windows` checks the installed
//! program's PE subsystem.)

#![cfg_attr(windows, windows_subsystem = "windows")]

#[cfg(any(unix, windows))]
mod single_instance;
mod instrument_media;
mod web_instrument;
mod clipboard_guard;
#[cfg(target_os = "linux")]
mod window_guard;

use exam_journal::KeyStore;
use kiosk_core::events::{details, vocabulary, Details, KioskEvent};
use kiosk_core::guard::Scope;
use kiosk_core::kiosk::{Kiosk, KioskOptions, KioskView};
use kiosk_core::session::Notice;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tauri::{Emitter as _, Manager as _, WebviewUrl, WebviewWindowBuilder, WindowEvent};

/// The event that carries every new [`KioskView`] to the web view.
const VIEW_EVENT: &str = "kiosk-view";
/// How often the guard's reports are looked at and the timer is pushed.
const TICK: Duration = Duration::from_millis(250);
/// Background sync to the hub at least this often (and at once after a save).
const SYNC_EVERY: Duration = Duration::from_secs(5);

struct AppState {
    kiosk: Arc<Kiosk>,
}

type CommandResult<T> = Result<T, String>;

#[tauri::command]
async fn view(state: tauri::State<'_, AppState>) -> CommandResult<KioskView> {
    Ok(state.kiosk.view().await)
}

#[tauri::command]
async fn ui_ready(state: tauri::State<'_, AppState>) -> CommandResult<KioskView> {
    state.kiosk.record(KioskEvent::KioskUiReady(vocabulary::Empty {})).await;
    Ok(state.kiosk.view().await)
}

#[tauri::command]
async fn login(
    state: tauri::State<'_, AppState>,
    student_number: String,
    access_code: String,
    room_code: Option<String>,
) -> CommandResult<KioskView> {
    state.kiosk.login(&student_number, &access_code, room_code.as_deref()).await.map_err(|e| e.message)
}

#[tauri::command]
async fn confirm_assignment(state: tauri::State<'_, AppState>) -> CommandResult<KioskView> {
    state.kiosk.confirm_assignment().await.map_err(|e| e.message)
}

#[tauri::command]
async fn start_exam(state: tauri::State<'_, AppState>) -> CommandResult<KioskView> {
    state.kiosk.start_exam().await.map_err(|e| e.message)
}

#[tauri::command]
async fn save_answer(state: tauri::State<'_, AppState>, item_id: String, value: serde_json::Value) -> CommandResult<serde_json::Value> {
    let seq = state.kiosk.save_answer(&item_id, value).await.map_err(|e| e.message)?;
    Ok(serde_json::json!({ "saved": true, "seq": seq }))
}

/// The student's scratchpad text or highlights of an item (issue 19): kept
/// with the answers, never scored.
#[tauri::command]
async fn save_note(state: tauri::State<'_, AppState>, item_id: String, note: exam_protocol::NoteKind, value: serde_json::Value) -> CommandResult<serde_json::Value> {
    let seq = state.kiosk.save_note(&item_id, note, value).await.map_err(|e| e.message)?;
    Ok(serde_json::json!({ "saved": true, "seq": seq }))
}

/// The exam page the student turned to (kept for a resume).
#[tauri::command]
async fn exam_position(state: tauri::State<'_, AppState>, page: u32) -> CommandResult<()> {
    state.kiosk.exam_position(page).await.map_err(|e| e.message)
}

// --- tools (issue 19) ---
/// The calculator (kiosk-core decides whether this item has one, and which).
#[tauri::command]
async fn calculate(
    state: tauri::State<'_, AppState>,
    item_id: String,
    expression: String,
    angle: kiosk_core::tools::AngleUnit,
) -> CommandResult<kiosk_core::tools::CalcResult> {
    state.kiosk.calculate(&item_id, &expression, angle).await.map_err(|e| e.message)
}

/// The Dutch spell-check of the student's saved typed answer on the item
/// (kiosk-core reads it from the answer store; granted per item): the
/// unknown words with their place and suggestions.
#[tauri::command]
async fn spell_check(state: tauri::State<'_, AppState>, item_id: String) -> CommandResult<Vec<kiosk_core::tools::Misspelling>> {
    state.kiosk.spell_check(&item_id).await.map_err(|e| e.message)
}

#[tauri::command]
async fn submit(state: tauri::State<'_, AppState>) -> CommandResult<KioskView> {
    state.kiosk.submit().await.map_err(|e| e.message)
}

/// A frame the page's content security policy refused (the page reports
/// it; the browser does not ask the shell first): journalled as a blocked
/// navigation.
#[tauri::command]
async fn navigation_refused(state: tauri::State<'_, AppState>, url: String, directive: String) -> CommandResult<()> {
    web_instrument::refused_by_policy(&state.kiosk, &url, &directive).await;
    Ok(())
}

/// Read-aloud (issue 19): `text` spoken by the kiosk's engine (espeak-ng) in
/// `lang` at `rate` words per minute, as a WAV `data:` URL for an `<audio>`
/// with each word's share of it (the caption's marked word); only where the
/// accommodation or the instrument grants it, during the exam.
#[tauri::command]
async fn read_aloud(state: tauri::State<'_, AppState>, text: String, lang: String, rate: u16) -> CommandResult<kiosk_core::kiosk::Spoken> {
    state.kiosk.read_aloud(&text, &lang, rate).await.map_err(|e| e.message)
}

#[tauri::command]
async fn unlock(state: tauri::State<'_, AppState>, pin: String, reason: String) -> CommandResult<KioskView> {
    state.kiosk.unlock(&pin, &reason).await.map_err(|e| e.message)
}

/// Command-line options (each also readable from an `EXAM_KIOSK_*`
/// environment variable, which is how the WebDriver tests configure it).
struct Args {
    options: KioskOptions,
}

fn parse_args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let env = |name: &str| std::env::var(name).ok();
    let mut data = env("EXAM_KIOSK_DATA");
    let mut policy = env("EXAM_KIOSK_POLICY");
    let mut store = env("EXAM_KIOSK_STORE");
    let mut scope = env("EXAM_KIOSK_GUARD_SCOPE");
    let mut demo = env("EXAM_KIOSK_DEMO").is_some_and(|v| v == "1");
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--data" => data = args.next(),
            "--policy" => policy = args.next(),
            "--store" => store = args.next(),
            "--guard-scope" => scope = args.next(),
            "--demo" => demo = true,
            "--help" | "-h" => {
                println!("exam-kiosk --data DIR --policy FILE --store keyring|file:PATH [--guard-scope user:UID|tree:PID] [--demo]");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?}; see --help")),
        }
    }
    let data_dir = PathBuf::from(data.ok_or("--data DIR is required")?);
    let policy = PathBuf::from(policy.ok_or("--policy FILE is required")?);
    let key_store: KeyStore = store.unwrap_or_else(|| "keyring".into()).parse()?;
    let guard_scope = scope.map(|s| s.parse::<Scope>()).transpose()?;
    Ok(Args { options: KioskOptions { data_dir, policy, key_store, demo, guard_scope } })
}

/// Switches WebKitGTK's DMA-BUF renderer off unless the machine's
/// administrator chose (`WEBKIT_DISABLE_DMABUF_RENDERER=0` turns it back on).
///
/// Exam screens are forms and text; that renderer's buffers and GL state
/// cost about 120 MB per kiosk (369 → 250 MB resident during an exam,
/// docs/benchmarks.md "Kiosk app"), a lot on the older school PCs the
/// kiosk runs on, and the first paint is faster without it. Runs first in
/// `main`, before any thread exists.
#[cfg(target_os = "linux")]
fn prefer_lean_webkit() {
    const RENDERER_OFF: &str = "WEBKIT_DISABLE_DMABUF_RENDERER";
    if std::env::var_os(RENDERER_OFF).is_none() {
        std::env::set_var(RENDERER_OFF, "1");
    }
}

/// Environment variables that let a program outside the kiosk inspect or
/// script the exam page, or load its own code into the web view (issue 15:
/// `WEBKIT_INSPECTOR_HTTP_SERVER` opened WebKit's remote inspector, with
/// `Runtime.evaluate`, to anyone on that port): every WebKit, JavaScriptCore,
/// GTK and GDK variable (but [`SAFE_ENVIRONMENT`]), GIO/GStreamer modules and
/// GLib debugging, the dynamic loader's preload, audit and search paths
/// (for the web view's own processes), the graphics stack's driver and
/// layer paths, GSettings' backend and schemas (they hold GTK's inspector
/// key binding), and on Windows and macOS the web view's extra browser
/// arguments (`--remote-debugging-port`) and the loader's insertions. Each
/// entry is a prefix; names are compared without case (Windows looks them
/// up so).
const UNSAFE_ENVIRONMENT: &[&str] = &[
    "WEBKIT_",
    "JSC_",
    "GTK_",
    "GTK2_",
    "GTK3_",
    "GDK_",
    "G_DEBUG",
    "G_SLICE",
    "GIO_",
    "GSETTINGS_",
    "GST_",
    "GCONV_PATH",
    "LIBGL_",
    "LIBVA_",
    "MESA_LOADER_",
    "__EGL_",
    "__GLX_",
    "VK_",
    "LD_",
    "DYLD_",
    "WEBVIEW2_",
    // Tauri's own switches (its WebDriver automation is kept only below).
    "TAURI_",
];

/// What is kept of those prefixes, exactly these names: how the web view
/// draws (the machine's administrator turns WebKit's GPU paths off on
/// graphics drivers that fail), which display backend GTK uses, the text
/// scale and theme a student with low vision chose, and the input method
/// that types accents. None loads code of its own choosing.
const SAFE_ENVIRONMENT: &[&str] = &[
    "WEBKIT_DISABLE_DMABUF_RENDERER",
    "WEBKIT_DISABLE_COMPOSITING_MODE",
    "GDK_BACKEND",
    "GDK_SCALE",
    "GDK_DPI_SCALE",
    "GTK_THEME",
    "GTK_IM_MODULE",
];

/// What a WebDriver needs to drive the web view: Tauri's switch and the
/// inspector server WebKitWebDriver connects through. Kept only when the
/// policy allows test automation (`[environment] test-automation`).
const AUTOMATION_ENVIRONMENT: &[&str] = &["TAURI_WEBVIEW_AUTOMATION", "WEBKIT_INSPECTOR_SERVER"];

/// Whether the variable `name` is removed before the web view exists.
fn unsafe_variable(name: &str, automation: bool) -> bool {
    let name = name.to_ascii_uppercase();
    if AUTOMATION_ENVIRONMENT.contains(&name.as_str()) {
        return !automation;
    }
    UNSAFE_ENVIRONMENT.iter().any(|p| name.starts_with(p)) && !SAFE_ENVIRONMENT.contains(&name.as_str())
}

/// Removes what [`unsafe_variable`] names from this process's environment,
/// so the web view and every process it starts never see it; returns the
/// names removed, which the kiosk journals. Runs in `main` before any
/// thread exists.
fn clear_unsafe_environment(automation: bool) -> Vec<String> {
    let mut names: Vec<String> =
        std::env::vars_os().map(|(k, _)| k.to_string_lossy().into_owned()).filter(|k| unsafe_variable(k, automation)).collect();
    names.sort();
    for name in &names {
        std::env::remove_var(name);
    }
    names
}

fn main() {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("exam-kiosk: {message}");
            std::process::exit(2);
        }
    };
    // Only the policy can let a WebDriver in (a policy that does not load
    // lets nothing in; the startup then shows why it does not load).
    let automation = exam_policy::load_policy_file(&args.options.policy).is_ok_and(|p| p.environment.test_automation);
    let driven = automation && std::env::var("TAURI_WEBVIEW_AUTOMATION").as_deref() == Ok("true");
    let cleared = clear_unsafe_environment(automation);
    #[cfg(target_os = "linux")]
    prefer_lean_webkit();
    let demo = args.options.demo;
    // Before any window: a second copy must not cover the running exam.
    #[cfg(any(unix, windows))]
    let instance = match single_instance::namespace(automation, std::env::var(single_instance::NAMESPACE_VAR).ok())
        .and_then(|namespace| single_instance::claim(&args.options.data_dir, &namespace))
    {
        Ok(instance) => instance,
        Err(err) => {
            eprintln!("exam-kiosk: {err}");
            std::process::exit(3);
        }
    };
    let app = instrument_media::register(web_instrument::register(tauri::Builder::default()))
        .invoke_handler(tauri::generate_handler![view, ui_ready, login, confirm_assignment, start_exam, save_answer, save_note, spell_check,
            exam_position, navigation_refused, submit, unlock, calculate, read_aloud])
        .setup(move |app| {
            // Signals are caught from here on, before the startup steps run
            // (until then the default action ends the process).
            #[cfg(unix)]
            let signals = tauri::async_runtime::block_on(async {
                use tokio::signal::unix::{signal, SignalKind};
                (signal(SignalKind::terminate()), signal(SignalKind::interrupt()))
            });
            let handle = app.handle().clone();
            let emitter = handle.clone();
            let kiosk = Arc::new(Kiosk::start(
                args.options,
                Box::new(move |view: &KioskView| {
                    let _ = emitter.emit(VIEW_EVENT, view);
                }),
            ));
            app.manage(AppState { kiosk: kiosk.clone() });
            if !cleared.is_empty() {
                tauri::async_runtime::block_on(kiosk.record(KioskEvent::KioskEnvironmentCleared(vocabulary::EnvironmentCleared { names: cleared.clone() })));
            }
            if automation {
                tauri::async_runtime::block_on(kiosk.record(KioskEvent::KioskTestAutomation(vocabulary::TestAutomation { webdriver: driven })));
            }
            #[cfg(any(unix, windows))]
            {
                let told = kiosk.clone();
                instance.listen(move |attempts| {
                    let told = told.clone();
                    tauri::async_runtime::spawn(async move {
                        told.refused(Notice::SecondInstanceRefused, details(serde_json::json!({"attempts": attempts}))).await;
                    });
                });
            }

            let mut builder = WebviewWindowBuilder::new(app, "main", WebviewUrl::App("index.html".into()))
                .title(if demo { "exam-kiosk (DEMO)" } else { "Examen" })
                .decorations(demo)
                .resizable(demo)
                .always_on_top(!demo)
                .content_protected(true)
                .devtools(false)
                .on_navigation({
                    // The kiosk's own pages, and a web instrument's allowed origins through its proxy.
                    let kiosk = kiosk.clone();
                    move |url| web_instrument::allows_navigation(&kiosk, url)
                });
            if !demo {
                builder = builder.fullscreen(true);
                // No Dock, menu bar, Cmd+Tab or Force Quit (kiosk_core::lockdown::macos).
                #[cfg(target_os = "macos")]
                let _ = kiosk_core::lockdown::macos::apply_if_main_thread();
            }
            let window = builder.build()?;
            // Without a window manager "fullscreen" does not fill the screen: size it ourselves.
            if let Some(monitor) = window.primary_monitor()?.or(window.current_monitor()?) {
                if demo {
                    let size = monitor.size();
                    window.set_size(tauri::PhysicalSize::new(size.width.min(1366), size.height.min(800)))?;
                } else {
                    window.set_position(*monitor.position())?;
                    window.set_size(*monitor.size())?;
                }
            }
            // Back to full screen on its own; no native picker or context menu.
            #[cfg(target_os = "linux")]
            window_guard::install(&window, kiosk.clone(), demo)?;
            // No other program reads or fills the clipboard or primary selection (issue 15 point 6).
            if !demo {
                clipboard_guard::start(&handle, kiosk.clone());
            }
            // A shutdown by signal (systemd stop, Ctrl+C, `kill`) is journalled;
            // when leaving is allowed now, the app exits through RunEvent::Exit,
            // which undoes every startup step and seals the journal with its
            // closing checkpoint. Otherwise the exam goes on.
            #[cfg(unix)]
            {
                let signalled = kiosk.clone();
                let exit_handle = handle.clone();
                tauri::async_runtime::spawn(async move {
                    let (Ok(mut term), Ok(mut int)) = signals else { return };
                    loop {
                        let name = tokio::select! {
                            _ = term.recv() => "SIGTERM",
                            _ = int.recv() => "SIGINT",
                        };
                        signalled.record(KioskEvent::KioskSignal(vocabulary::Signal { signal: name.to_owned() })).await;
                        if signalled.may_exit().await {
                            exit_handle.exit(0);
                            return;
                        }
                    }
                });
            }
            // The invigilator console reaches this PC through the hub's instructions.
            let follower = kiosk.clone();
            tauri::async_runtime::spawn(async move { follower.follow_instructions().await });
            // Its own task: a heartbeat may wait on the hub (or carry out an
            // end, a whole hand-in), and the guard and timer must not.
            let beater = kiosk.clone();
            tauri::async_runtime::spawn(async move {
                let mut every = tokio::time::interval(kiosk_core::kiosk::remote::HEARTBEAT_EVERY);
                loop {
                    every.tick().await;
                    beater.heartbeat().await;
                }
            });
            // Its own task too: answers go to the hub as soon as they are
            // saved (and everything else every few seconds), waiting on the
            // network without holding up the guard, the clock or the saves.
            let syncer = kiosk.clone();
            tauri::async_runtime::spawn(async move {
                loop {
                    syncer.sync_due(SYNC_EVERY).await;
                    syncer.background_sync().await;
                }
            });
            let ticker = kiosk.clone();
            let tick_handle = handle.clone();
            tauri::async_runtime::spawn(async move {
                loop {
                    tokio::time::sleep(TICK).await;
                    ticker.poll_guard().await;
                    ticker.poll_focus().await;
                    let mut view = ticker.view().await;
                    if view.remaining_secs.is_some() {
                        // The UI keeps the instrument it has; the tick carries only the state.
                        view.instrument = None;
                        let _ = tick_handle.emit(VIEW_EVENT, &view);
                    }
                }
            });
            Ok(())
        })
        .on_window_event(|window, event| {
            let Some(state) = window.try_state::<AppState>() else { return };
            let kiosk = state.kiosk.clone();
            match event {
                WindowEvent::CloseRequested { api, .. } => {
                    if !tauri::async_runtime::block_on(kiosk.may_exit()) {
                        api.prevent_close();
                        tauri::async_runtime::spawn(async move {
                            kiosk.refused(Notice::CloseRefused, Details::new()).await;
                        });
                    }
                }
                // kiosk-core decides whether (and after what grace) a focus loss locks.
                WindowEvent::Focused(focused) => {
                    let focused = *focused;
                    let away = kiosk.focus_changed(focused);
                    tauri::async_runtime::spawn(async move { kiosk.journal_focus(focused, away).await });
                }
                _ => {}
            }
        })
        .build(tauri::generate_context!());
    let app = match app {
        Ok(app) => app,
        Err(err) => {
            eprintln!("exam-kiosk: {err}");
            std::process::exit(1);
        }
    };
    app.run(|handle, event| match event {
        tauri::RunEvent::ExitRequested { api, .. } => {
            if let Some(state) = handle.try_state::<AppState>() {
                if !tauri::async_runtime::block_on(state.kiosk.may_exit()) {
                    api.prevent_exit();
                }
            }
        }
        tauri::RunEvent::Exit => {
            if let Some(state) = handle.try_state::<AppState>() {
                // Undo every startup step in reverse: the machine is left as it was.
                tauri::async_runtime::block_on(state.kiosk.shutdown());
            }
        }
        _ => {}
    });
}

#[cfg(test)]
mod tests {
    use super::unsafe_variable;

    /// Every WebKit, GTK and GDK switch goes, also ones nobody listed
    /// before (WebKit's inspector over HTTP, GTK's portal, GDK's pixbuf
    /// loaders, GSettings' schemas with the GTK inspector key binding),
    /// whatever the case; the administrator's renderer choice, the display
    /// backend and a student's text scale and theme stay.
    #[test]
    fn every_webkit_gtk_and_loader_switch_is_removed_and_the_safe_ones_stay() {
        for name in [
            "WEBKIT_INSPECTOR_HTTP_SERVER",
            "webkit_inspector_http_server",
            "WEBKIT_INSPECTOR_SERVER",
            "WEBKIT_SOME_FUTURE_SWITCH",
            "WEBKIT_FORCE_SANDBOX",
            "JSC_useDollarVM",
            "GTK_DEBUG",
            "GTK_MODULES",
            "GTK_USE_PORTAL",
            "GTK_IM_MODULE_FILE",
            "GDK_PIXBUF_MODULE_FILE",
            "GDK_DEBUG",
            "GSETTINGS_SCHEMA_DIR",
            "GSETTINGS_BACKEND",
            "GIO_EXTRA_MODULES",
            "LD_PRELOAD",
            "LD_LIBRARY_PATH",
            "DYLD_INSERT_LIBRARIES",
            "WEBVIEW2_ADDITIONAL_BROWSER_ARGUMENTS",
            "TAURI_WEBVIEW_AUTOMATION",
            "TAURI_DEV",
            "MESA_LOADER_DRIVER_OVERRIDE",
        ] {
            assert!(unsafe_variable(name, false), "{name} must be removed");
        }
        for name in [
            "WEBKIT_DISABLE_DMABUF_RENDERER",
            "WEBKIT_DISABLE_COMPOSITING_MODE",
            "GDK_BACKEND",
            "GDK_SCALE",
            "GTK_THEME",
            "GTK_IM_MODULE",
            "DISPLAY",
            "WAYLAND_DISPLAY",
            "XDG_RUNTIME_DIR",
            "LANG",
            "HOME",
            "PATH",
        ] {
            assert!(!unsafe_variable(name, false), "{name} must stay");
        }
        // WebDriver's two only under the policy's test automation; the rest never.
        assert!(!unsafe_variable("TAURI_WEBVIEW_AUTOMATION", true));
        assert!(!unsafe_variable("WEBKIT_INSPECTOR_SERVER", true));
        assert!(unsafe_variable("WEBKIT_INSPECTOR_HTTP_SERVER", true));
        assert!(unsafe_variable("TAURI_DEV", true));
    }
}
