#![allow(missing_docs)] // criterion_group! generates undocumented public items
//! Journal benchmarks: durable append against the physical limit
//! (`write` + `fdatasync` of the same bytes), group-commit throughput, and
//! verification throughput. Figures go into docs/benchmarks.md.
//!
//! Files are written under `target/bench-journal` (the real disk, not a tmpfs).

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use exam_journal::{verify_journal, Event, Journal, JournalConfig, SigningKey, VerifyOptions};
use std::io::Write as _;
use std::path::PathBuf;

fn bench_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-journal").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.parent().unwrap()).unwrap();
    dir
}

fn event(i: u64) -> Event {
    Event::new("guard.process_ended", &serde_json::json!({"pid": i, "name": "AnyDesk", "rule": "deny:remote", "outcome": "ended"}))
        .unwrap()
}

fn durable_append(c: &mut Criterion) {
    let mut group = c.benchmark_group("durable_append");
    let dir = bench_dir("append");
    let mut journal = Journal::open(&dir, SigningKey::generate().unwrap().0, JournalConfig::default()).unwrap();
    let ev = event(1);
    let frame_len = {
        let r = journal.append(&ev).unwrap();
        let records = exam_journal::read_records(&dir).unwrap();
        records[r.seq as usize].1.frame.len()
    };
    group.bench_function("journal_append", |b| b.iter(|| journal.append(&ev).unwrap()));
    drop(journal);

    let baseline_dir = bench_dir("baseline");
    std::fs::create_dir_all(&baseline_dir).unwrap();
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(baseline_dir.join("raw")).unwrap();
    let bytes = vec![0x5au8; frame_len];
    group.bench_function("baseline_write_fdatasync", |b| {
        b.iter(|| {
            file.write_all(&bytes).unwrap();
            file.sync_data().unwrap();
        })
    });
    group.finish();
}

fn group_commit(c: &mut Criterion) {
    const BATCH: u64 = 1_000;
    let mut group = c.benchmark_group("group_commit");
    group.throughput(Throughput::Elements(BATCH));
    group.sample_size(20);
    let dir = bench_dir("group");
    let mut journal = Journal::open(&dir, SigningKey::generate().unwrap().0, JournalConfig::default()).unwrap();
    let events: Vec<Event> = (0..BATCH).map(event).collect();
    group.bench_function("append_batch_1000", |b| b.iter(|| journal.append_batch(&events).unwrap()));
    group.finish();
}

fn verification(c: &mut Criterion) {
    const RECORDS: u64 = 10_000;
    let dir = bench_dir("verify");
    let mut journal = Journal::open(&dir, SigningKey::generate().unwrap().0, JournalConfig::default()).unwrap();
    let events: Vec<Event> = (0..RECORDS).map(event).collect();
    journal.append_batch(&events).unwrap();
    let total = journal.len();
    drop(journal);
    let mut group = c.benchmark_group("verify");
    group.throughput(Throughput::Elements(total));
    group.sample_size(10);
    group.bench_function("verify_journal_10k", |b| {
        b.iter_batched(|| (), |()| verify_journal(&dir, &VerifyOptions::default()).unwrap(), BatchSize::PerIteration)
    });
    group.finish();
}

criterion_group!(benches, durable_append, group_commit, verification);
criterion_main!(benches);
