//! Opening an instrument at the start of an exam: a 50-item QTI 3.0 package
//! with 20 MB of media is read from disk, its approval signature and
//! ciphertext hash verified, decrypted (AES-256-GCM), every file checked
//! against the signed manifest, and the QTI imported into the render model
//! (then serialised to JSON, as the UI gets it). Criterion reports the mean;
//! afterwards a plain loop prints p50/max for the whole and per step.

use criterion::{black_box, Criterion};
use exam_policy::SigningKey;
use kiosk_core::instrument::{pack, ContentKey, InstrumentTrust, PackInput, SealedPackage, TrustedSigner};
use ring::rand::{SecureRandom as _, SystemRandom};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const ITEMS: usize = 50;
const MEDIA_BYTES: usize = 20 * 1024 * 1024;

fn item_xml(n: usize) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<qti-assessment-item xmlns="http://www.imsglobal.org/xsd/imsqtiasi_v3p0" identifier="i{n}" title="Vraag {n}" adaptive="false" time-dependent="false">
  <qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="identifier">
    <qti-correct-response><qti-value>B</qti-value></qti-correct-response>
  </qti-response-declaration>
  <qti-outcome-declaration identifier="SCORE" cardinality="single" base-type="float"/>
  <qti-item-body>
    <p>Bekijk de afbeelding en de tabel en beantwoord de vraag. Dit is vraag {n} van de toets.</p>
    <p><img src="../media/m{n}.png" alt="Afbeelding bij vraag {n}"/></p>
    <table><thead><tr><th>Artikel</th><th>Prijs</th></tr></thead>
      <tbody><tr><td>Pasta</td><td>1,29</td></tr><tr><td>Rijst</td><td>2,49</td></tr></tbody></table>
    <qti-choice-interaction response-identifier="RESPONSE" shuffle="true" max-choices="1">
      <qti-prompt>Welk antwoord is juist?</qti-prompt>
      <qti-simple-choice identifier="A">Antwoord A</qti-simple-choice>
      <qti-simple-choice identifier="B">Antwoord B</qti-simple-choice>
      <qti-simple-choice identifier="C">Antwoord C</qti-simple-choice>
      <qti-simple-choice identifier="D">Antwoord D</qti-simple-choice>
    </qti-choice-interaction>
  </qti-item-body>
  <qti-response-processing template="https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/match_correct.xml"/>
</qti-assessment-item>
"#
    )
}

fn build() -> (tempfile::TempDir, PathBuf, InstrumentTrust, ContentKey) {
    let rng = SystemRandom::new();
    let mut files = Vec::new();
    let mut resources = String::new();
    let mut refs = String::new();
    for n in 0..ITEMS {
        // Random bytes: incompressible, like real photos.
        let mut media = vec![0u8; MEDIA_BYTES / ITEMS];
        rng.fill(&mut media).expect("rng");
        files.push((format!("media/m{n}.png"), media));
        files.push((format!("items/i{n}.xml"), item_xml(n).into_bytes()));
        resources.push_str(&format!(
            r#"<resource identifier="i{n}" type="imsqti_item_xmlv3p0" href="items/i{n}.xml"><file href="items/i{n}.xml"/><file href="media/m{n}.png"/></resource>"#
        ));
        refs.push_str(&format!(r#"<qti-assessment-item-ref identifier="ITM-{n}" href="items/i{n}.xml"/>"#));
    }
    files.push((
        "imsmanifest.xml".into(),
        format!(
            r#"<manifest identifier="M"><resources><resource identifier="t" type="imsqti_test_xmlv3p0" href="test.xml"><file href="test.xml"/></resource>{resources}</resources></manifest>"#
        )
        .into_bytes(),
    ));
    files.push((
        "test.xml".into(),
        format!(
            r#"<qti-assessment-test xmlns="http://www.imsglobal.org/xsd/imsqtiasi_v3p0" identifier="bench" title="Bench"><qti-test-part identifier="p" navigation-mode="nonlinear" submission-mode="simultaneous"><qti-assessment-section identifier="s" title="S" visible="true">{refs}</qti-assessment-section></qti-test-part></qti-assessment-test>"#
        )
        .into_bytes(),
    ));
    let signer = SigningKey::generate().expect("key");
    let key = ContentKey::generate().expect("key");
    let input = PackInput { instrument_id: "bench".into(), title: "Bench".into(), version: "1".into(), files };
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
