//! What an answer save costs now that the UI saves at every change (issue
//! 15 point 3): one `AnswerStore::save` — one AES-GCM record appended to
//! the sitting's answer log and `fdatasync`ed — of an open answer that grows
//! as a student types (1 KB and 10 KB of text), on the disk under `target/`.
//! Criterion reports the mean; a plain loop afterwards prints p50/p99/max.

use criterion::{black_box, Criterion};
use kiosk_core::answers::{AnswerKey, AnswerStore};
use std::path::Path;
use std::time::{Duration, Instant};

fn store() -> (tempfile::TempDir, AnswerStore) {
    let dir = tempfile::tempdir_in(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target")).expect("tmp");
    let store = AnswerStore::open_or_create(&dir.path().join("answers"), &AnswerKey::from_bytes([7; 32]), "S1", "I1").expect("store");
    (dir, store)
}

fn main() {
    let mut c = Criterion::default().configure_from_args().sample_size(50).measurement_time(Duration::from_secs(10));
    for size in [1_000usize, 10_000] {
        let text = "x".repeat(size);
        let (_dir, mut s) = store();
        c.bench_function(&format!("answer save, {size} bytes of text"), |b| {
            b.iter(|| s.save("ITM-1", "RESPONSE", black_box(serde_json::json!(text))).expect("save"))
        });
        let (_dir, mut s) = store();
        let mut times: Vec<Duration> = (0..1_000)
            .map(|_| {
                let t = Instant::now();
                s.save("ITM-1", "RESPONSE", serde_json::json!(text)).expect("save");
                t.elapsed()
            })
            .collect();
        times.sort();
        println!(
            "answer save, {size} bytes: p50 {:?}, p99 {:?}, max {:?} over {} saves",
            times[times.len() / 2],
            times[times.len() * 99 / 100],
            times[times.len() - 1],
            times.len()
        );
    }
    c.final_summary();
}
