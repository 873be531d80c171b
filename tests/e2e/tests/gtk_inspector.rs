//! GTK's own inspector on the exam window. GTK 3 opens it with
//! Ctrl+Shift+I or Ctrl+Shift+D when the GSettings key
//! `org.gtk.Settings.Debug enable-inspector-keybinding` is on — a setting
//! of the student's own desktop (dconf, or a schema override anywhere in
//! `XDG_DATA_DIRS`), not of the kiosk. From the inspector a student can
//! switch on the web view's developer extras and so WebKit's inspector,
//! with a script console in the exam page. Here the setting is turned on
//! the way a student on their own laptop could (a schema override in a
//! directory of their own put first in `XDG_DATA_DIRS`), and the keys are
//! pressed at the real kiosk window: no inspector window may open.

use exam_e2e::steps::{self, SCREEN};
use exam_e2e::webdriver::Session;
use exam_e2e::{bin, Display, Driver, Guarded, Stack};
use std::process::Command;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gtk_s_inspector_never_opens_on_the_exam_window() {
    steps::require_tools(&["Xvfb", "xdotool", "glib-compile-schemas", "gsettings"]);
    let schema = std::path::Path::new("/usr/share/glib-2.0/schemas/org.gtk.Settings.Debug.gschema.xml");
    assert!(schema.exists(), "{} is part of GTK 3 (libgtk-3-common)", schema.display());
    let tmp = tempfile::tempdir().unwrap();
    // The student's own schema directory, with the inspector's key binding on.
    let data = tmp.path().join("share");
    let schemas = data.join("glib-2.0/schemas");
    std::fs::create_dir_all(&schemas).unwrap();
    std::fs::copy(schema, schemas.join("org.gtk.Settings.Debug.gschema.xml")).unwrap();
    std::fs::write(
        schemas.join("99_student.gschema.override"),
        "[org.gtk.Settings.Debug]\nenable-inspector-keybinding=true\ninspector-warning=false\n",
    )
    .unwrap();
    let compiled = Command::new("glib-compile-schemas").arg(&schemas).status().unwrap();
    assert!(compiled.success());
    // Precondition: with this XDG_DATA_DIRS, GSettings says the key binding is on.
    let data_dirs = format!("{}:/usr/local/share:/usr/share", data.display());
    let said = Command::new("gsettings")
        .args(["get", "org.gtk.Settings.Debug", "enable-inspector-keybinding"])
        .env("XDG_DATA_DIRS", &data_dirs)
        .env("GSETTINGS_BACKEND", "memory")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&said.stdout).trim(), "true", "the override does not take: {said:?}");

    let stack = Stack::start(&tmp.path().join("stack")).unwrap();
    let quiet = Guarded(Command::new("sleep").arg("3600").spawn().unwrap());
    let display = Display::start().unwrap();
    let mut env = stack.kiosk_env(false, Some(format!("tree:{}", quiet.0.id())));
    env.push(("XDG_DATA_DIRS".into(), data_dirs));
    let driver = Driver::start(&display, &env).unwrap();
    let session = Session::new(&driver, bin("exam-kiosk").to_str().unwrap()).await.unwrap();
    session.wait_for("#screen-login", SCREEN).await.unwrap();
    let kiosk = steps::kiosk_window(&display).unwrap();
    let result = async {
        steps::xdotool(&display, &["windowfocus", "--sync", &kiosk])?;
        // Counts the keys as the page sees them (before its own lockdown).
        session
            .script("window.__seen = 0; window.addEventListener('keydown', e => { if (e.ctrlKey && e.shiftKey) window.__seen++; }, {capture: true}); return true;")
            .await?;
        for keys in ["ctrl+shift+i", "ctrl+shift+d"] {
            steps::xdotool(&display, &["key", "--clearmodifiers", keys])?;
            // An inspector window would be mapped within a moment: look for 3 s.
            let since = Instant::now();
            while since.elapsed() < Duration::from_secs(3) {
                let found = steps::xdotool(&display, &["search", "--onlyvisible", "--name", "Inspector"]).unwrap_or_default();
                if !found.trim().is_empty() {
                    return Err(format!("{keys} opened GTK's inspector on the exam window (windows {found:?})"));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        // The keys did reach the exam window, and it is still the login.
        let seen = session.script("return window.__seen;").await?;
        if seen.as_u64() < Some(2) {
            return Err(format!("the keys did not reach the exam page (seen {seen}): the test proves nothing"));
        }
        session.wait_for("#screen-login", SCREEN).await?;
        Ok::<_, String>(())
    }
    .await;
    session.close().await;
    result.unwrap();
}
