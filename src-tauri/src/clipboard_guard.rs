//! Clipboard isolation during the exam (issue 15 point 6): no other program
//! on the display can read what the web view puts on the session's
//! selections, and nothing another program put there stays there.
//!
//! WebKitGTK puts selected text on the PRIMARY selection by itself (the
//! page cannot stop that) and writes the CLIPBOARD on copy; on X11 both are
//! the display server's, readable by every client. The page keeps its own
//! clipboard (`ui/js/lockdown.js`) and uses neither. This guard, on the GTK
//! main thread, for as long as the kiosk runs in exam mode (not demo):
//!
//! * refuses every other program's request for either selection: GDK's
//!   event handler answers each `SelectionRequest` for PRIMARY or CLIPBOARD
//!   with "no conversion" before GTK (and so WebKit) sees it. Requests from
//!   inside this process never become such events (GTK serves them
//!   directly), so WebKit keeps working;
//! * keeps other programs' content off both selections: whenever another
//!   program takes one, GTK tells the previous owner (our `clear` callback)
//!   or reports the new owner (`owner-change`), and the guard takes it back
//!   at once with empty text (a high-priority idle, before the display's
//!   next requests are handled). CLIPBOARD is also taken back from WebKit;
//!   PRIMARY is left to WebKit while WebKit holds it (WebKit drops the
//!   student's text selection when it loses PRIMARY — the X11 rule — which
//!   made selecting text in an answer impossible), its requests refused.
//!
//! A program that keeps retaking a selection (`while :; do xsel -b -i -n
//! <notes; done`) owns it most of the time all the same: the guard pauses
//! [`linux::INSIST_PAUSE`] between its takes so as not to spin. Pastes are
//! therefore also cancelled in the web view itself: the kiosk's own page
//! does so in `ui/js/lockdown.js` (and keeps its own clipboard), and every
//! other frame — a web instrument's `examweb:` page and whatever it frames —
//! gets [`FRAME_SCRIPT`], a WebKit user script injected into all frames at
//! document start (in every mode, demo included, as the page's own refusal), which cancels every `paste` (Ctrl+V, Shift+Insert, the
//! context menu) and the middle-click paste. Such a program is journalled as
//! `kiosk.clipboard_retaken` (which selection, how often), at most once per
//! episode (takes back within [`linux::EPISODE_GAP`] of each other) and at
//! most once per [`linux::RETAKEN_EVERY`].
//!
//! GTK3's clipboard API is the same on Wayland (cage). There a client may
//! set a selection only with the serial of one of its own input events,
//! not older than the current selection's: a take back while another
//! program has the keyboard focus is refused by the compositor while GTK
//! reports it done, so on Wayland both selections are also taken anew each
//! time the kiosk's window gets the keyboard focus back (with the newest
//! serial). E2e `wayland_clipboard` runs the kiosk as a Wayland client of
//! cage 0.1.4 with wl-copy/wl-paste as the other program (they must take
//! the focus there: cage offers no data-control protocol, and no primary
//! selection at all); e2e `clipboard` runs it under Xvfb.
//!
//! The journal gets one `kiosk.clipboard_isolated` event (which selections),
//! never anything of their content: students' rights, events only.

use kiosk_core::kiosk::Kiosk;
use std::sync::Arc;

/// Injected into every frame except the kiosk's own page (the top frame
/// from `tauri:`/`tauri.localhost`, which `ui/js/lockdown.js` guards with
/// its in-page clipboard): cancels every paste before the page sees it, so
/// nothing another program put on a selection reaches a web instrument's
/// fields. Copy within such a frame reaches no selection either (the guard
/// takes CLIPBOARD back from WebKit), so nothing of use is lost.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub const FRAME_SCRIPT: &str = r#"(function () {
  var own = window === window.top && (location.protocol === 'tauri:' || location.hostname === 'tauri.localhost');
  if (own) return;
  var stop = function (e) { e.preventDefault(); e.stopImmediatePropagation(); };
  window.addEventListener('paste', stop, true);
  window.addEventListener('beforeinput', function (e) {
    if (e.inputType === 'insertFromPaste' || e.inputType === 'insertFromPasteAsQuotation') stop(e);
  }, true);
  // The middle click pastes PRIMARY on release (X11).
  ['mousedown', 'mouseup', 'auxclick'].forEach(function (type) {
    window.addEventListener(type, function (e) { if (e.button === 1) stop(e); }, true);
  });
})();"#;

/// Injects [`FRAME_SCRIPT`] into every frame the web view loads from now
/// on (every mode: the kiosk's page cancels outside pastes in demo mode as
/// well). Called by `window_guard::install` with the other refusals that
/// apply to every page, before the exam's frames exist.
#[cfg(target_os = "linux")]
pub fn cancel_pastes_in_frames(view: &webkit2gtk::WebView) {
    use webkit2gtk::{UserContentManagerExt as _, WebViewExt as _};
    let Some(manager) = view.user_content_manager() else {
        eprintln!("exam-kiosk: no user content manager; pastes in frames are not cancelled");
        return;
    };
    let script = webkit2gtk::UserScript::new(
        FRAME_SCRIPT,
        webkit2gtk::UserContentInjectedFrames::AllFrames,
        webkit2gtk::UserScriptInjectionTime::Start,
        &[],
        &[],
    );
    manager.add_script(&script);
}

/// Starts the guard on the GTK main thread (Linux). Elsewhere the page's
/// own clipboard is the isolation: Windows and macOS have no primary
/// selection that the web engine fills by itself, and the page never reads
/// or writes the system clipboard (not tested there).
pub fn start(app: &tauri::AppHandle, kiosk: Arc<Kiosk>) {
    #[cfg(target_os = "linux")]
    {
        let retaken_kiosk = kiosk.clone();
        let retaken = move |selection: &'static str, takes: u32| {
            let kiosk = retaken_kiosk.clone();
            tauri::async_runtime::spawn(async move {
                kiosk.record(kiosk_core::events::KioskEvent::KioskClipboardRetaken(kiosk_core::events::vocabulary::ClipboardRetaken { selection: selection.to_owned(), takes })).await;
            });
        };
        let result = app.run_on_main_thread(move || {
            let selections = linux::install(std::rc::Rc::new(retaken));
            tauri::async_runtime::spawn(async move {
                kiosk.record(kiosk_core::events::KioskEvent::KioskClipboardIsolated(kiosk_core::events::vocabulary::ClipboardIsolated {
                    selections: serde_json::to_value(&selections).unwrap_or_default(),
                }))
                .await;
            });
        });
        if let Err(err) = result {
            eprintln!("exam-kiosk: clipboard guard not started: {err}");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (app, kiosk);
}

#[cfg(target_os = "linux")]
mod linux {
    use gtk::gdk;
    use gtk::glib;
    use gtk::prelude::*;
    use std::cell::Cell;
    use std::rc::Rc;
    use std::time::{Duration, Instant};

    /// Told once per episode of a program retaking a selection (its name,
    /// how many takes back so far).
    pub(super) type Retaken = Rc<dyn Fn(&'static str, u32)>;

    /// One selection (CLIPBOARD or PRIMARY) the kiosk keeps empty.
    struct Selection {
        name: &'static str,
        atom: gdk::Atom,
        clipboard: gtk::Clipboard,
        /// Not taken back while something in this process (WebKit) holds it.
        leave_to_webkit: bool,
        /// Our empty content is what the selection holds now.
        ours: Cell<bool>,
        /// We are replacing our own content (its `clear` is not a loss).
        replacing: Cell<bool>,
        /// A re-take is already queued.
        queued: Cell<bool>,
        /// When the guard last took the selection.
        last_take: Cell<Option<Instant>>,
        /// Episodes of a program retaking it.
        insistence: Cell<Insistence>,
        retaken: Retaken,
    }

    /// An insistence episode: takes back that follow each other within
    /// [`EPISODE_GAP`]; journalled when it reaches [`RETAKES_NOTED`] takes,
    /// once per episode and at most once per [`RETAKEN_EVERY`].
    pub(super) const EPISODE_GAP: Duration = Duration::from_secs(5);
    const RETAKES_NOTED: u32 = 10;
    pub(super) const RETAKEN_EVERY: Duration = Duration::from_secs(60);

    #[derive(Debug, Clone, Copy, Default)]
    pub(super) struct Insistence {
        /// The last take back of the episode.
        last: Option<Instant>,
        /// Takes back in this episode.
        takes: u32,
        /// This episode was journalled.
        told: bool,
        /// When an episode was last journalled.
        last_told: Option<Instant>,
    }

    impl Insistence {
        /// A take back (after another program took the selection) at `now`:
        /// the new state, and `Some(takes)` when it is to be journalled now.
        pub(super) fn took_back(self, now: Instant) -> (Insistence, Option<u32>) {
            let mut next = self;
            if self.last.is_none_or(|last| now.saturating_duration_since(last) > EPISODE_GAP) {
                next.takes = 0;
                next.told = false;
            }
            next.last = Some(now);
            next.takes = next.takes.saturating_add(1);
            let due = !next.told
                && next.takes >= RETAKES_NOTED
                && self.last_told.is_none_or(|t| now.saturating_duration_since(t) >= RETAKEN_EVERY);
            if due {
                next.told = true;
                next.last_told = Some(now);
            }
            (next, due.then_some(next.takes))
        }
    }

    /// Taken back at once, except right after the last time: a program that
    /// insists (a clipboard manager that "prevents an empty clipboard") gets
    /// it back every [`INSIST_PAUSE`] instead of in a busy loop. Other
    /// programs' requests are refused meanwhile all the same.
    const INSISTING: Duration = Duration::from_millis(20);
    pub(super) const INSIST_PAUSE: Duration = Duration::from_millis(100);

    /// Dropped by GTK when our content leaves the selection (the `clear`
    /// callback of `gtk_clipboard_set_with_data`): someone else took it.
    struct LostOnDrop(std::rc::Weak<Selection>);

    impl Drop for LostOnDrop {
        fn drop(&mut self) {
            let Some(selection) = self.0.upgrade() else { return };
            if selection.replacing.get() {
                return;
            }
            selection.ours.set(false);
            queue_take(&selection, Duration::ZERO);
        }
    }

    /// Text targets, all served as the empty string.
    fn targets() -> Vec<gtk::TargetEntry> {
        ["UTF8_STRING", "STRING", "TEXT", "COMPOUND_TEXT", "text/plain", "text/plain;charset=utf-8"]
            .iter()
            .enumerate()
            .map(|(i, t)| gtk::TargetEntry::new(t, gtk::TargetFlags::empty(), i as u32))
            .collect()
    }

    /// Makes the selection ours, with empty content.
    fn take(selection: &Rc<Selection>) {
        let lost = LostOnDrop(Rc::downgrade(selection));
        selection.replacing.set(true);
        let owned = selection.clipboard.set_with_data(&targets(), move |_, data, _| {
            let _ = &lost;
            data.set_text("");
        });
        selection.replacing.set(false);
        selection.ours.set(owned);
        selection.last_take.set(Some(Instant::now()));
        if !owned {
            // The display refused (no timestamp yet, or a compositor without
            // this selection): try again shortly.
            queue_take(selection, Duration::from_millis(250));
        }
    }

    /// Takes the selection back from the main loop: not from inside GTK's
    /// `clear` (the new owner's content is being stored then), but at high
    /// priority, before the display's requests (default priority) are served.
    fn queue_take(selection: &Rc<Selection>, after: Duration) {
        if selection.queued.replace(true) {
            return;
        }
        let insisting = selection.last_take.get().is_some_and(|t| t.elapsed() < INSISTING);
        let after = if after.is_zero() && insisting { INSIST_PAUSE } else { after };
        let selection = selection.clone();
        let run = move || {
            selection.queued.set(false);
            let webkit_holds = selection.leave_to_webkit && owned_here(&selection.atom);
            if !selection.ours.get() && !webkit_holds {
                if !owned_here(&selection.atom) {
                    // Another program holds it (not WebKit, not us).
                    let (next, due) = selection.insistence.get().took_back(Instant::now());
                    selection.insistence.set(next);
                    if let Some(takes) = due {
                        (selection.retaken)(selection.name, takes);
                    }
                }
                take(&selection);
            }
        };
        if after.is_zero() {
            let mut run = Some(run);
            glib::idle_add_local_full(glib::Priority::HIGH, move || {
                if let Some(run) = run.take() {
                    run();
                }
                glib::ControlFlow::Break
            });
        } else {
            glib::timeout_add_local_once(after, run);
        }
    }

    /// Whether a window of this process owns the selection (GDK knows only
    /// its own windows: another program's owner reads as none).
    fn owned_here(atom: &gdk::Atom) -> bool {
        gdk::selection_owner_get(atom).is_some()
    }

    /// Answers every other program's request for PRIMARY or CLIPBOARD with
    /// "no conversion" (an empty reply, at once), whoever in this process
    /// owns the selection; every other event goes to GTK as before.
    fn refuse_other_programs() {
        let wayland = gdk::Display::default().is_some_and(|d| d.type_().name() == "GdkWaylandDisplay");
        gdk::Event::set_handler(Some(move |event: &mut gdk::Event| {
            if wayland && event.event_type() == gdk::EventType::FocusChange && event.downcast_ref::<gdk::EventFocus>().is_some_and(|f| f.is_in()) {
                retake_on_focus();
            }
            if event.event_type() == gdk::EventType::SelectionRequest {
                if let Some(request) = event.downcast_ref::<gdk::EventSelection>() {
                    let selection = request.selection();
                    let name = selection.name();
                    if name == "PRIMARY" || name == "CLIPBOARD" {
                        if let Some(requestor) = request.requestor() {
                            let display = requestor.display();
                            gdk::selection_send_notify_for_display(&display, &requestor, &selection, &request.target(), &gdk::ATOM_NONE, request.time());
                        }
                        return;
                    }
                }
            }
            gtk::main_do_event(event);
        }));
    }

    thread_local! {
        /// The guarded selections (GTK main thread).
        static GUARDED: std::cell::RefCell<Vec<Rc<Selection>>> = const { std::cell::RefCell::new(Vec::new()) };
    }

    /// Wayland: a client may set a selection only with the serial of an
    /// input event of its own, and the compositor refuses one older than
    /// the current selection's. A take back while another program has the
    /// keyboard focus (cage: wl-copy's window) is therefore refused, yet
    /// GTK reports it as done; and a selection set while the kiosk had no
    /// focus is only told to it when it gets the focus back. So every time
    /// the kiosk's window gets the keyboard back, both selections are taken
    /// anew, with that newest serial (e2e `wayland_clipboard`: without this
    /// the other program kept the clipboard).
    fn retake_on_focus() {
        GUARDED.with(|guarded| {
            for selection in guarded.borrow().iter() {
                selection.ours.set(false);
                queue_take(selection, Duration::ZERO);
            }
        });
    }

    /// Owns CLIPBOARD and PRIMARY from now on; returns their names. Must run
    /// on the GTK main thread; the guard lives as long as the process.
    pub(super) fn install(retaken: Retaken) -> Vec<&'static str> {
        let mut names = Vec::new();
        refuse_other_programs();
        for (name, atom, leave_to_webkit) in [("CLIPBOARD", gdk::SELECTION_CLIPBOARD, false), ("PRIMARY", gdk::SELECTION_PRIMARY, true)] {
            let selection = Rc::new(Selection {
                name,
                atom,
                clipboard: gtk::Clipboard::get(&atom),
                leave_to_webkit,
                ours: Cell::new(false),
                replacing: Cell::new(false),
                queued: Cell::new(false),
                last_take: Cell::new(None),
                insistence: Cell::new(Insistence::default()),
                retaken: retaken.clone(),
            });
            // Another owner that GTK learns of only by the display's notice
            // (e.g. Wayland, or a selection nobody here owned): take it back.
            let watched = Rc::downgrade(&selection);
            selection.clipboard.connect_local("owner-change", false, move |_| {
                if let Some(selection) = watched.upgrade() {
                    if !selection.ours.get() {
                        queue_take(&selection, Duration::ZERO);
                    }
                }
                None
            });
            take(&selection);
            names.push(selection.name);
            // Kept for the life of the process (the signal handler holds only a weak reference).
            GUARDED.with(|guarded| guarded.borrow_mut().push(selection));
        }
        names
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::linux::{Insistence, EPISODE_GAP, RETAKEN_EVERY};
    use std::time::{Duration, Instant};

    /// `takes` takes back, 100 ms apart, from `now` on (advanced past
    /// them): the take counts that were journalled meanwhile.
    fn retakes(state: &mut Insistence, now: &mut Instant, takes: usize) -> Vec<u32> {
        let mut told = Vec::new();
        for _ in 0..takes {
            let (next, due) = state.took_back(*now);
            *state = next;
            told.extend(due);
            *now += Duration::from_millis(100);
        }
        told
    }

    /// A program retaking the clipboard every ~100 ms for a minute is
    /// journalled once, not 600 times; a new episode later once more.
    #[test]
    fn a_retaking_program_is_journalled_once_per_episode_and_rate_limited() {
        let start = Instant::now();
        let mut state = Insistence::default();
        let mut now = start;
        assert_eq!(retakes(&mut state, &mut now, 600), vec![10]);
        // A pause, then a new episode: journalled again once RETAKEN_EVERY has passed.
        now += EPISODE_GAP + Duration::from_secs(1);
        assert_eq!(retakes(&mut state, &mut now, 20), vec![10]);
        // A new episode soon after that one: not journalled (rate limit).
        now += EPISODE_GAP + Duration::from_secs(1);
        assert!(now - start < Duration::from_secs(60) + RETAKEN_EVERY);
        assert_eq!(retakes(&mut state, &mut now, 20), Vec::<u32>::new());
    }

    #[test]
    fn a_single_take_back_is_not_journalled() {
        let (_, due) = Insistence::default().took_back(Instant::now());
        assert_eq!(due, None);
    }
}
