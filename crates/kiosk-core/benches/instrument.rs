//! Opening an instrument at the start of an exam: a 50-item QTI 3.0 package
//! with 20 MB of media is read from disk, its approval signature and
//! ciphertext hash verified, decrypted (AES-256-GCM), every file checked
//! against the signed manifest, and the QTI imported into the render model
//! (then serialised to JSON, as the UI gets it). Criterion reports the mean;
//! afterwards a plain loop prints p50/max for the whole and per step.

#[path = "support/package.rs"]
mod package;

use criterion::{black_box, Criterion};
use exam_policy::SigningKey;
use kiosk_core::instrument::{pack, ContentKey, InstrumentTrust, PackInput, SealedPackage, TrustedSigner};
use ring::rand::{SecureRandom as _, SystemRandom};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const ITEMS: usize = 50;
const MEDIA_BYTES: usize = 20 * 1024 * 1024;

fn build() -> (tempfile::TempDir, PathBuf, InstrumentTrust, ContentKey) {
    let rng = SystemRandom::new();
    let files = package::files(ITEMS, MEDIA_BYTES, |buf| rng.fill(buf).expect("rng"));
    let signer = SigningKey::generate().expect("key");
    let key = ContentKey::generate().expect("key");
    let input = PackInput { instrument_id: "bench".into(), title: "Bench".into(), version: "1".into(), files, ..Default::default() };
    let (bytes, _) = pack(&input, &signer, &key).expect("pack");
    let dir = tempfile::tempdir_in(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target")).expect("tmp");
    let path = dir.path().join("bench.exam");
    std::fs::write(&path, bytes).expect("write");
    let trust = InstrumentTrust::new(vec![TrustedSigner { name: "bench".into(), public_key: signer.public_key() }]);
    (dir, path, trust, key)
}

fn open(path: &Path, trust: &InstrumentTrust, key: &ContentKey) -> [Duration; 5] {
    let t0 = Instant::now();
    let sealed = SealedPackage::read(path).expect("read");
    let t1 = Instant::now();
    let verified = sealed.verify(trust).expect("verify");
    let t2 = Instant::now();
    let contents = verified.decrypt(key).expect("decrypt");
    let t3 = Instant::now();
    let instrument = contents.import().expect("import");
    let json = instrument.render_json().expect("json");
    let t4 = Instant::now();
    black_box((contents.file("media/m0.png").map(<[u8]>::len), json.len()));
    [t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0]
}

fn main() {
    let (_dir, path, trust, key) = build();
    let size = std::fs::metadata(&path).expect("meta").len();
    let mut c = Criterion::default().configure_from_args().sample_size(10).warm_up_time(Duration::from_secs(1));
    c.bench_function("instrument/open_50_items_20MB (read+verify+decrypt+import+json)", |b| {
        b.iter(|| open(&path, &trust, &key))
    });
    c.final_summary();

    const RUNS: usize = 30;
    let mut runs: Vec<[Duration; 5]> = (0..RUNS).map(|_| open(&path, &trust, &key)).collect();
    let names = ["read file", "verify signature + SHA-256", "decrypt + per-file SHA-256", "QTI import + JSON", "total"];
    println!("\npackage: {ITEMS} items, {:.1} MB on disk; {RUNS} runs", size as f64 / 1e6);
    for (i, name) in names.iter().enumerate() {
        runs.sort_by_key(|r| r[i]);
        println!(
            "{name:<30} p50 {:>8.1} ms   max {:>8.1} ms",
            runs[RUNS / 2][i].as_secs_f64() * 1e3,
            runs[RUNS - 1][i].as_secs_f64() * 1e3
        );
    }
}
