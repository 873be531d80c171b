//! The exam-morning rehearsal (`cargo xtask rehearsal`) as a test: the
//! scripted morning is played against a real hub and its proces-verbaal and
//! results are checked against what was played (see
//! `exam_console_tests::rehearsal`).
#![allow(missing_docs)]

use exam_console_tests::{browser, exam_hub_bin, rehearsal, require};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_exam_morning_rehearsed() {
    browser::tools().unwrap_or_else(|why| panic!("{why}"));
    require(&exam_hub_bin());
    let outcome = rehearsal::run().await;
    eprintln!("rehearsal: {:.0} s, outputs in {}", outcome.took.as_secs_f64(), outcome.dir.display());
}
