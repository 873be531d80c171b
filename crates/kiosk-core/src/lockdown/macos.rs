//! macOS lockdown (BYOD) through AppKit (FFI via objc2; with
//! [`super::windows`] the only place in kiosk-core where `unsafe` is
//! allowed). Checked for `aarch64-apple-darwin` by `cargo xtask
//! check-platforms`; not yet run on a Mac.
//!
//! [`apply_presentation_options`] hides the Dock and the menu bar and
//! disables process switching (Cmd+Tab), Force Quit (Cmd+Opt+Esc), session
//! termination (log out, restart) and hiding the app; [`restore_presentation_options`]
//! puts back what was there. They must run on the main thread (AppKit's
//! rule), so the shell calls them.
//!
//! Automatic Assessment Configuration (`AEAssessmentSession`) locks the Mac
//! down further (no screenshots, no other apps, no dictation), but only for
//! apps Apple granted the `com.apple.developer.automatic-assessment-configuration`
//! entitlement (`installer/macos/exam-kiosk.entitlements`); without it the
//! session fails to start and the presentation options are what remains.

use objc2::MainThreadMarker;
use objc2_app_kit::{NSApplication, NSApplicationPresentationOptions};

/// The options the exam runs with.
pub fn exam_options() -> NSApplicationPresentationOptions {
    // DisableProcessSwitching requires HideDock (or AutoHideDock): AppKit
    // rejects the combination otherwise.
    NSApplicationPresentationOptions::HideDock
        | NSApplicationPresentationOptions::HideMenuBar
        | NSApplicationPresentationOptions::DisableProcessSwitching
        | NSApplicationPresentationOptions::DisableForceQuit
        | NSApplicationPresentationOptions::DisableSessionTermination
        | NSApplicationPresentationOptions::DisableHideApplication
        | NSApplicationPresentationOptions::DisableAppleMenu
}

/// Applies [`exam_options`]; returns the options that were set before.
pub fn apply_presentation_options(mtm: MainThreadMarker) -> NSApplicationPresentationOptions {
    let app = NSApplication::sharedApplication(mtm);
    let before = app.presentationOptions();
    app.setPresentationOptions(exam_options());
    before
}

/// Puts back the options [`apply_presentation_options`] returned.
pub fn restore_presentation_options(mtm: MainThreadMarker, before: NSApplicationPresentationOptions) {
    NSApplication::sharedApplication(mtm).setPresentationOptions(before);
}

/// [`apply_presentation_options`] when called on the main thread (the
/// shell's setup hook); `None` elsewhere. macOS drops the options when the
/// app quits, so nothing outlives the kiosk.
pub fn apply_if_main_thread() -> Option<NSApplicationPresentationOptions> {
    MainThreadMarker::new().map(apply_presentation_options)
}
