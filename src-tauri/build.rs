//! Declares the app's commands so Tauri's ACL applies to them: the web view
//! may call only what `capabilities/kiosk.json` grants.

fn main() {
    let attributes = tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(&[
        "view",
        "login",
        "confirm_assignment",
        "start_exam",
        "save_answer",
        "save_note",
        "spell_check",
        "submit",
        "unlock",
        "ui_ready",
        "exam_position",
        "navigation_refused",
        // tools (issue 19)
        "calculate",
        "read_aloud",
    ]));
    tauri_build::try_build(attributes).expect("tauri build step");
}
