//! `cargo xtask rehearsal`: plays a scripted exam morning against a real
//! exam-hub (3 rooms, 60 students, simulated mutual-TLS kiosks, headless
//! Chromium) and checks the proces-verbaal and the results against it; the
//! outputs (console screenshots, proces-verbaal PDFs and their pages as
//! PNG, the results CSV, summary.txt) go to `target/rehearsal/`
//! (`$CARGO_TARGET_DIR/rehearsal/` when that is set). See
//! `exam_console_tests::rehearsal`.

use exam_console_tests::{browser, exam_hub_bin, rehearsal, require};

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    if let Err(why) = browser::tools() {
        eprintln!("rehearsal: {why}");
        std::process::exit(2);
    }
    require(&exam_hub_bin());
    let outcome = rehearsal::run().await;
    println!("rehearsal: played and checked in {:.0} s; outputs in {}:", outcome.took.as_secs_f64(), outcome.dir.display());
    for file in &outcome.files {
        println!("  {}", file.display());
    }
}
