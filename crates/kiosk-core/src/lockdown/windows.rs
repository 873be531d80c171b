//! Windows lockdown through the Win32 API (FFI; the one place in kiosk-core
//! besides [`super::macos`] where `unsafe` is allowed — see
//! docs/architecture.md, "unsafe code"). Compiled for
//! `x86_64-pc-windows-gnu` by `cargo xtask check-platforms`; not yet run on
//! Windows.
//!
//! * A low-level keyboard hook (`WH_KEYBOARD_LL`) on its own thread with a
//!   message loop swallows what [`super::keys::blocked`] names: Alt+Tab,
//!   the Windows keys, Ctrl+Esc, Alt+Esc, Alt+F4.
//! * Ctrl+Alt+Del cannot be blocked by any program: it switches to the
//!   secure desktop. A watch compares the input desktop with the kiosk's
//!   (`Default`) twice a second and reports [`LockdownEvent::SecureDesktop`]
//!   so the kiosk locks.
//! * [`exclude_from_capture`] sets `WDA_EXCLUDEFROMCAPTURE` on the kiosk's
//!   window: screenshots, recorders and remote viewers see black.
//! * [`clear_clipboard`] empties the clipboard at the exam's start and end
//!   (`crate::clipboard::clear`).
//! * [`ClipboardHistoryOff`] turns the user's clipboard history (Win+V) and
//!   cloud clipboard off for the exam (they keep copies that
//!   `EmptyClipboard` does not remove) and puts the settings back after.

use super::keys::{blocked, Modifiers};
use super::{LockdownError, LockdownEvent};
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use windows_sys::Win32::Foundation::{LPARAM, LRESULT, WPARAM};
use windows_sys::Win32::System::LibraryLoader::GetModuleHandleW;
use windows_sys::Win32::System::StationsAndDesktops::{
    CloseDesktop, GetUserObjectInformationW, OpenInputDesktop, DESKTOP_READOBJECTS, UOI_NAME,
};
use windows_sys::Win32::System::Threading::GetCurrentThreadId;
use windows_sys::Win32::UI::Input::KeyboardAndMouse::{GetAsyncKeyState, VK_CONTROL};
use winreg::enums::{HKEY_CURRENT_USER, KEY_READ, KEY_WRITE, REG_CREATED_NEW_KEY, REG_DWORD};
use winreg::{RegKey, RegValue};
use windows_sys::Win32::UI::WindowsAndMessaging::{
    CallNextHookEx, GetMessageW, PostThreadMessageW, SetWindowDisplayAffinity, SetWindowsHookExW,
    UnhookWindowsHookEx, HC_ACTION, KBDLLHOOKSTRUCT, LLKHF_ALTDOWN, MSG, WDA_EXCLUDEFROMCAPTURE, WH_KEYBOARD_LL,
    WM_QUIT,
};

/// How often the secure-desktop watch looks.
const DESKTOP_POLL: Duration = Duration::from_millis(500);
/// Key presses swallowed since the hook was installed (for the journal).
static SWALLOWED: AtomicU64 = AtomicU64::new(0);

/// The hook: swallow what `keys::blocked` names, pass everything else on.
unsafe extern "system" fn keyboard_hook(code: i32, wparam: WPARAM, lparam: LPARAM) -> LRESULT {
    if code == HC_ACTION as i32 {
        // SAFETY: for WH_KEYBOARD_LL with HC_ACTION, lparam points to a
        // KBDLLHOOKSTRUCT that is valid for the duration of this call; we
        // only read it.
        let event = unsafe { &*(lparam as *const KBDLLHOOKSTRUCT) };
        let alt = event.flags & LLKHF_ALTDOWN != 0;
        // SAFETY: GetAsyncKeyState has no preconditions; a negative value
        // means the key is down.
        let ctrl = unsafe { GetAsyncKeyState(i32::from(VK_CONTROL)) } < 0;
        if blocked(event.vkCode, Modifiers { alt, ctrl }).is_some() {
            SWALLOWED.fetch_add(1, Ordering::Relaxed);
            // Non-zero: the key goes nowhere.
            return 1;
        }
    }
    // SAFETY: the hook chain requires passing our own arguments on unchanged.
    unsafe { CallNextHookEx(std::ptr::null_mut(), code, wparam, lparam) }
}

/// True while the input desktop is the kiosk's (`Default`); false on the
/// secure desktop (Ctrl+Alt+Del, UAC, lock screen), which an ordinary user
/// cannot even open.
pub fn input_desktop_is_default() -> bool {
    // SAFETY: plain call; the returned handle is checked and closed below.
    let desktop = unsafe { OpenInputDesktop(0, 0, DESKTOP_READOBJECTS) };
    if desktop.is_null() {
        return false;
    }
    let mut name = [0u16; 64];
    let mut needed = 0u32;
    // SAFETY: `name` is a writable buffer of the length we pass (in bytes);
    // `needed` is a valid out-pointer; `desktop` is the open handle.
    let ok = unsafe {
        GetUserObjectInformationW(
            desktop,
            UOI_NAME,
            name.as_mut_ptr().cast::<c_void>(),
            std::mem::size_of_val(&name) as u32,
            &mut needed,
        )
    };
    // SAFETY: `desktop` came from OpenInputDesktop and is closed once.
    unsafe { CloseDesktop(desktop) };
    let len = name.iter().position(|c| *c == 0).unwrap_or(name.len());
    ok != 0 && String::from_utf16_lossy(&name[..len]).eq_ignore_ascii_case("Default")
}

/// Sets `WDA_EXCLUDEFROMCAPTURE` on the kiosk's window: captures and remote
/// viewers see nothing of it. `hwnd` is the window handle's value (from the
/// shell: `window.hwnd()?.0 as isize`); it is an opaque handle, never
/// dereferenced here.
pub fn exclude_from_capture(hwnd: isize) -> Result<(), LockdownError> {
    // SAFETY: the call validates the handle itself and fails on a stale one;
    // it only changes a display attribute of that window.
    let ok = unsafe { SetWindowDisplayAffinity(hwnd as *mut c_void, WDA_EXCLUDEFROMCAPTURE) };
    if ok == 0 {
        return Err(LockdownError::Os {
            what: "SetWindowDisplayAffinity",
            reason: std::io::Error::last_os_error().to_string(),
        });
    }
    Ok(())
}

/// The user's clipboard settings (`HKEY_CURRENT_USER`) that keep copies of
/// what is copied beyond the clipboard itself.
pub const CLIPBOARD_KEY: &str = r"Software\Microsoft\Clipboard";
/// The values under [`CLIPBOARD_KEY`] set to 0 during the exam: the
/// clipboard history (Win+V; Settings > System > Clipboard), the cloud
/// clipboard ("sync across your devices") and its automatic upload. These
/// are the values the Settings app writes; Microsoft documents only the
/// machine policies (`AllowClipboardHistory`, `AllowCrossDeviceClipboard`,
/// docs/platforms.md), which a school should set instead.
pub const CLIPBOARD_SETTINGS: [&str; 3] = ["EnableClipboardHistory", "EnableCloudClipboard", "CloudClipboardAutomaticUpload"];

/// The clipboard history and cloud clipboard switched off for the current
/// user; [`ClipboardHistoryOff::restore`] (or dropping it) puts back each
/// value exactly as it was — its type and bytes, or its absence — and
/// removes [`CLIPBOARD_KEY`] again when the kiosk created it.
///
/// What is already in the history is not cleared: that is
/// `Windows.ApplicationModel.DataTransfer.Clipboard.ClearHistory`, a WinRT
/// call that `windows-sys` (the Win32 API only) does not reach.
pub struct ClipboardHistoryOff {
    path: String,
    created_key: bool,
    before: Vec<(&'static str, Option<RegValue<'static>>)>,
    restored: bool,
}

impl ClipboardHistoryOff {
    /// Switches the history and cloud clipboard off for the current user.
    pub fn apply() -> Result<Self, LockdownError> {
        Self::apply_at(CLIPBOARD_KEY)
    }

    /// The same under another key of `HKEY_CURRENT_USER` (tests).
    fn apply_at(path: &str) -> Result<Self, LockdownError> {
        let os = |what: &'static str| move |e: std::io::Error| LockdownError::Os { what, reason: format!("HKEY_CURRENT_USER\\{path}: {e}") };
        let (key, disposition) = RegKey::predef(HKEY_CURRENT_USER).create_subkey(path).map_err(os("RegCreateKeyExW"))?;
        let mut off = Self { path: path.into(), created_key: disposition == REG_CREATED_NEW_KEY, before: Vec::new(), restored: false };
        for name in CLIPBOARD_SETTINGS {
            let before = match key.get_raw_value(name) {
                Ok(value) => Some(value),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                // Dropping `off` puts back what was changed so far.
                Err(e) => return Err(os("RegQueryValueExW")(e)),
            };
            off.before.push((name, before));
            key.set_value(name, &0u32).map_err(os("RegSetValueExW"))?;
        }
        Ok(off)
    }

    /// What was switched off, for the journal.
    pub fn applied(&self) -> String {
        let before: Vec<String> = self
            .before
            .iter()
            .map(|(name, value)| match value {
                Some(value) if value.vtype == REG_DWORD => format!("{name} {value}"),
                Some(_) => format!("{name} (not a number)"),
                None => format!("{name} not set"),
            })
            .collect();
        format!("clipboard history and cloud clipboard off for this user (before: {})", before.join(", "))
    }

    /// Puts every value back as it was.
    pub fn restore(mut self) -> Result<String, LockdownError> {
        self.restore_inner()?;
        Ok("clipboard history and cloud clipboard settings restored".into())
    }

    fn restore_inner(&mut self) -> Result<(), LockdownError> {
        if self.restored {
            return Ok(());
        }
        self.restored = true;
        let path = &self.path;
        let os = |what: &'static str| move |e: std::io::Error| LockdownError::Os { what, reason: format!("HKEY_CURRENT_USER\\{path}: {e}") };
        let hkcu = RegKey::predef(HKEY_CURRENT_USER);
        let key = hkcu.open_subkey_with_flags(path, KEY_READ | KEY_WRITE).map_err(os("RegOpenKeyExW"))?;
        let mut first_error = None;
        for (name, before) in &self.before {
            let result = match before {
                Some(value) => key.set_raw_value(name, value),
                None => match key.delete_value(name) {
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                    other => other,
                },
            };
            match result {
                Err(e) if first_error.is_none() => {
                    first_error = Some(os(if before.is_some() { "RegSetValueExW" } else { "RegDeleteValueW" })(e))
                }
                _ => {}
            }
        }
        if let Some(error) = first_error {
            return Err(error);
        }
        // A key the kiosk made is removed again, unless something else was put in it since.
        if self.created_key {
            let info = key.query_info().map_err(os("RegQueryInfoKeyW"))?;
            drop(key);
            if info.values == 0 && info.sub_keys == 0 {
                hkcu.delete_subkey(path).map_err(os("RegDeleteKeyW"))?;
            }
        }
        Ok(())
    }
}

impl Drop for ClipboardHistoryOff {
    fn drop(&mut self) {
        let _ = self.restore_inner();
    }
}

/// The running keyboard hook and secure-desktop watch, and the clipboard
/// history switched off.
pub struct Engaged {
    clipboard: Option<ClipboardHistoryOff>,
    hook_thread: Option<JoinHandle<()>>,
    hook_thread_id: u32,
    watch_stop: Arc<AtomicBool>,
    watch_thread: Option<JoinHandle<()>>,
}

impl Engaged {
    /// Switches the clipboard history off, installs the hook (on its own
    /// thread with a message loop, as low-level hooks require) and starts
    /// the desktop watch. When a part fails, the parts before it are undone.
    pub fn start(on_event: impl Fn(LockdownEvent) + Send + 'static) -> Result<Self, LockdownError> {
        let clipboard = ClipboardHistoryOff::apply()?;
        let (tx, rx) = std::sync::mpsc::channel();
        let hook_thread = std::thread::Builder::new()
            .name("keyboard-hook".into())
            .spawn(move || {
                // SAFETY: no preconditions.
                let thread_id = unsafe { GetCurrentThreadId() };
                // SAFETY: a null name asks for this executable's module handle.
                let module = unsafe { GetModuleHandleW(std::ptr::null()) };
                // SAFETY: `keyboard_hook` has the HOOKPROC signature and lives
                // for the whole program; thread id 0 = a global low-level hook.
                let hook = unsafe { SetWindowsHookExW(WH_KEYBOARD_LL, Some(keyboard_hook), module, 0) };
                if hook.is_null() {
                    let _ = tx.send(Err(std::io::Error::last_os_error().to_string()));
                    return;
                }
                let _ = tx.send(Ok(thread_id));
                // SAFETY: an all-zero MSG is a valid value of this plain C struct.
                let mut msg: MSG = unsafe { std::mem::zeroed() };
                // The hook runs inside this loop; WM_QUIT (from `stop`) ends it.
                // SAFETY: `msg` is a valid out-pointer; null HWND = this thread's messages.
                while unsafe { GetMessageW(&mut msg, std::ptr::null_mut(), 0, 0) } > 0 {}
                // SAFETY: `hook` is the handle installed above, removed once.
                unsafe { UnhookWindowsHookEx(hook) };
            })
            .map_err(|e| LockdownError::Os { what: "spawn keyboard-hook thread", reason: e.to_string() })?;
        let hook_thread_id = match rx.recv() {
            Ok(Ok(id)) => id,
            Ok(Err(reason)) => return Err(LockdownError::Os { what: "SetWindowsHookExW", reason }),
            Err(_) => return Err(LockdownError::Os { what: "SetWindowsHookExW", reason: "hook thread died".into() }),
        };

        let watch_stop = Arc::new(AtomicBool::new(false));
        let stop = watch_stop.clone();
        let watch_thread = std::thread::Builder::new()
            .name("secure-desktop-watch".into())
            .spawn(move || {
                let mut on_kiosk_desktop = true;
                while !stop.load(Ordering::Relaxed) {
                    let now = input_desktop_is_default();
                    if now != on_kiosk_desktop {
                        on_event(if now { LockdownEvent::KioskDesktop } else { LockdownEvent::SecureDesktop });
                        on_kiosk_desktop = now;
                    }
                    std::thread::sleep(DESKTOP_POLL);
                }
            })
            .map_err(|e| LockdownError::Os { what: "spawn secure-desktop watch", reason: e.to_string() })?;
        Ok(Self {
            clipboard: Some(clipboard),
            hook_thread: Some(hook_thread),
            hook_thread_id,
            watch_stop,
            watch_thread: Some(watch_thread),
        })
    }

    /// What is engaged, for the journal.
    pub fn applied(&self) -> Vec<String> {
        let mut applied = vec![
            "keyboard hook: Alt+Tab, Windows keys, Ctrl+Esc, Alt+Esc, Alt+F4 swallowed".into(),
            "secure-desktop watch (Ctrl+Alt+Del)".into(),
        ];
        applied.extend(self.clipboard.as_ref().map(ClipboardHistoryOff::applied));
        applied
    }

    /// Removes the hook, stops the watch and puts the clipboard settings back.
    pub fn stop(mut self) -> Result<Vec<String>, LockdownError> {
        self.stop_inner();
        let mut released = vec![format!("keyboard hook removed ({} key presses swallowed)", SWALLOWED.load(Ordering::Relaxed))];
        if let Some(clipboard) = self.clipboard.take() {
            released.push(clipboard.restore()?);
        }
        Ok(released)
    }

    fn stop_inner(&mut self) {
        // SAFETY: posting WM_QUIT to the hook thread's queue; a thread that
        // already ended makes the call fail harmlessly.
        unsafe { PostThreadMessageW(self.hook_thread_id, WM_QUIT, 0, 0) };
        if let Some(thread) = self.hook_thread.take() {
            let _ = thread.join();
        }
        self.watch_stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.watch_thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Engaged {
    fn drop(&mut self) {
        self.stop_inner();
    }
}

/// Empties the Windows clipboard (every format). Another program may hold
/// it open for a moment (a clipboard manager reading it), so opening is
/// retried for up to a second before that is an error.
pub fn clear_clipboard() -> std::io::Result<()> {
    use windows_sys::Win32::System::DataExchange::{CloseClipboard, EmptyClipboard, OpenClipboard};
    let deadline = std::time::Instant::now() + Duration::from_secs(1);
    // SAFETY: OpenClipboard takes an optional window (none: the clipboard is
    // opened for this thread) and no pointers.
    while unsafe { OpenClipboard(std::ptr::null_mut()) } == 0 {
        if std::time::Instant::now() > deadline {
            return Err(std::io::Error::last_os_error());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: this thread has the clipboard open (above).
    let emptied = unsafe { EmptyClipboard() } != 0;
    let error = std::io::Error::last_os_error();
    // SAFETY: closes the clipboard this thread opened.
    unsafe { CloseClipboard() };
    if emptied {
        Ok(())
    } else {
        Err(error)
    }
}

#[cfg(test)]
mod tests {
    use windows_sys::Win32::System::DataExchange::{
        CloseClipboard, CountClipboardFormats, OpenClipboard, SetClipboardData,
    };
    use windows_sys::Win32::System::Memory::{GlobalAlloc, GlobalLock, GlobalUnlock, GMEM_MOVEABLE};

    /// CF_UNICODETEXT (winuser.h).
    const CF_UNICODETEXT: u32 = 13;

    /// Puts `text` on the clipboard the way another program would.
    fn put_text(text: &str) {
        let wide: Vec<u16> = text.encode_utf16().chain([0]).collect();
        // SAFETY: a fresh movable block of exactly `wide`'s size; it is
        // locked, filled within its size and unlocked before the clipboard
        // takes it over (SetClipboardData owns it on success).
        unsafe {
            assert_ne!(OpenClipboard(std::ptr::null_mut()), 0, "{}", std::io::Error::last_os_error());
            let block = GlobalAlloc(GMEM_MOVEABLE, wide.len() * 2);
            assert!(!block.is_null());
            let target = GlobalLock(block).cast::<u16>();
            assert!(!target.is_null());
            std::ptr::copy_nonoverlapping(wide.as_ptr(), target, wide.len());
            GlobalUnlock(block);
            assert!(!SetClipboardData(CF_UNICODETEXT, block).is_null(), "{}", std::io::Error::last_os_error());
            CloseClipboard();
        }
    }

    /// How many formats the clipboard holds.
    fn formats() -> i32 {
        // SAFETY: no arguments; reads the clipboard's format count.
        unsafe { CountClipboardFormats() }
    }

    /// Issue 21: `clipboard::clear` knew only the Linux tools, so on Windows
    /// it said "no display session" and the exam could not start
    /// (`afscherming toegepast`); now text another program put there is gone.
    #[test]
    fn clearing_removes_another_programs_text() {
        put_text("antwoord van buiten het examen");
        assert!(formats() > 0, "the text is on the clipboard");
        crate::clipboard::clear().unwrap();
        assert_eq!(formats(), 0, "the clipboard is empty");
        // Clearing an empty clipboard is fine too.
        crate::clipboard::clear().unwrap();
    }

    /// Issue 21: Windows' clipboard history (Win+V) and cloud clipboard
    /// keep copies that `EmptyClipboard` does not remove; the kiosk did not
    /// touch them. Now they are 0 during the exam, and afterwards every
    /// value is back as it was: a number, a value of another type, a value
    /// that was not there, and a key that was not there. (Under a test key
    /// of HKEY_CURRENT_USER, not the user's own settings.)
    #[test]
    fn clipboard_history_is_off_during_the_exam_and_restored_after() {
        use super::{ClipboardHistoryOff, CLIPBOARD_SETTINGS};
        use winreg::enums::{HKEY_CURRENT_USER, REG_DWORD, REG_SZ};
        use winreg::{RegKey, RegValue};
        let hkcu = RegKey::predef(HKEY_CURRENT_USER);
        let base = format!(r"Software\exam-kiosk-tests\{}", std::process::id());
        let [history, cloud, upload] = CLIPBOARD_SETTINGS;
        let read = |key: &RegKey, name: &str| key.get_raw_value(name).ok().map(|v| (v.vtype, v.bytes.into_owned()));

        // Settings the user made: history on, cloud never set, upload as text.
        let path = format!(r"{base}\Clipboard");
        let (key, _) = hkcu.create_subkey(&path).unwrap();
        key.set_value(history, &1u32).unwrap();
        key.set_value(upload, &"1").unwrap();
        let off = ClipboardHistoryOff::apply_at(&path).unwrap();
        for name in CLIPBOARD_SETTINGS {
            assert_eq!(key.get_value::<u32, _>(name).unwrap(), 0, "{name} is off during the exam");
            assert_eq!(read(&key, name).unwrap().0, REG_DWORD);
        }
        let applied = off.applied();
        assert!(applied.contains("EnableClipboardHistory 1") && applied.contains("EnableCloudClipboard not set"), "{applied}");
        assert_eq!(off.restore().unwrap(), "clipboard history and cloud clipboard settings restored");
        assert_eq!(read(&key, history), Some((REG_DWORD, 1u32.to_le_bytes().to_vec())));
        assert_eq!(read(&key, cloud), None, "a value that was not there is removed again");
        let text: RegValue = key.get_raw_value(upload).unwrap();
        assert_eq!((text.vtype, key.get_value::<String, _>(upload).unwrap()), (REG_SZ, "1".to_string()), "type and bytes as they were");
        drop(key);

        // No key at all: made for the exam, gone after (here by dropping, as in a panic).
        let path = format!(r"{base}\Absent");
        assert!(hkcu.open_subkey(&path).is_err());
        let off = ClipboardHistoryOff::apply_at(&path).unwrap();
        assert_eq!(hkcu.open_subkey(&path).unwrap().get_value::<u32, _>(history).unwrap(), 0);
        drop(off);
        let err = hkcu.open_subkey(&path).err().expect("the key the kiosk made is removed");
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);

        hkcu.delete_subkey_all(&base).unwrap();
    }
}
