//! Instrument packages end to end: pack the QTI fixtures, verify, decrypt,
//! import; and every kind of hostile package refused with its reason.

use exam_policy::SigningKey;
use kiosk_core::instrument::qti::{Node, Processing, QtiError, SectionPart};
use kiosk_core::instrument::{
    build_payload, pack, seal_payload, ContentKey, InstrumentTrust, PackInput, PackageError, SealedPackage, TrustedSigner,
};
use ring::digest::{digest, SHA256};
use std::path::{Path, PathBuf};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(rel)
}

fn trust_for(key: &SigningKey) -> InstrumentTrust {
    InstrumentTrust::new(vec![TrustedSigner { name: "examencommissie".into(), public_key: key.public_key() }])
}

fn input(dir: &str) -> PackInput {
    PackInput { instrument_id: String::new(), title: String::new(), version: "2025.1".into(), files: PackInput::from_dir(&fixture(dir)).unwrap(), ..Default::default() }
}

struct Packed {
    bytes: Vec<u8>,
    signer: SigningKey,
    key: ContentKey,
}

fn packed(dir: &str) -> Packed {
    let signer = SigningKey::generate().unwrap();
    let key = ContentKey::generate().unwrap();
    let (bytes, _) = pack(&input(dir), &signer, &key).unwrap();
    Packed { bytes, signer, key }
}

fn open(p: &Packed, bytes: Vec<u8>) -> Result<kiosk_core::instrument::qti::Instrument, PackageError> {
    SealedPackage::parse(bytes)?.verify(&trust_for(&p.signer))?.decrypt(&p.key)?.import()
}

fn interaction_kinds(nodes: &[Node], out: &mut Vec<&'static str>) {
    for n in nodes {
        match n {
            Node::ChoiceInteraction(c) => out.push(if c.max_choices == 1 { "choice-single" } else { "choice-multiple" }),
            Node::OrderInteraction(_) => out.push("order"),
            Node::TextEntryInteraction(_) => out.push("text-entry"),
            Node::ExtendedTextInteraction(_) => out.push("extended-text"),
            Node::MatchInteraction(_) => out.push("match"),
            Node::InlineChoiceInteraction(_) => out.push("inline-choice"),
            Node::GapMatchInteraction(_) => out.push("gap-match"),
            Node::Element { children, .. } => interaction_kinds(children, out),
            _ => {}
        }
    }
}

#[test]
fn demo_instrument_round_trip_with_every_interaction_type() {
    let p = packed("instruments/demo");
    let instrument = open(&p, p.bytes.clone()).unwrap();
    assert_eq!(instrument.test.item_count, 10);
    assert_eq!(instrument.test.identifier, "demo-verkoop-2");
    let mut kinds = Vec::new();
    for item in instrument.items() {
        interaction_kinds(&item.body, &mut kinds);
    }
    kinds.sort();
    kinds.dedup();
    assert_eq!(
        kinds,
        ["choice-multiple", "choice-single", "extended-text", "gap-match", "inline-choice", "match", "order", "text-entry"]
    );
    let section = &instrument.test.test_parts[0].sections[0];
    assert_eq!(section.rubric_blocks.len(), 1);
    assert!(matches!(section.parts[0], SectionPart::Item(_)));
    // Images and tables come through; the image is served from the package.
    let json = instrument.render_json().unwrap();
    assert!(json.contains("\"tag\":\"table\"") && json.contains("\"src\":\"media/schap.png\""));
    // The render model never carries the answers.
    assert!(!json.contains("correct") && !json.contains("mapping") && !json.contains("qti-value"));
    // Every item and response of the real model passes the kiosk's save
    // check (issue 15 point 9), and so does every correct answer the
    // package's scoring holds, in the shape the hub scores (choice ids,
    // "source target" and "choice gap" pairs, an order): the value check
    // takes what a student can give. Ids it does not have do not pass.
    let known = kiosk_core::instrument::answer_ids::AnswerIds::of(&instrument.test);
    let cleared = serde_json::Value::Null;
    for item in instrument.items() {
        let responses: Vec<(&str, &serde_json::Value)> = item.responses.iter().map(|r| (r.identifier.as_str(), &cleared)).collect();
        known.check(&item.ref_identifier, &responses).unwrap();
    }
    let mut correct_answers = 0;
    for item in &instrument.scoring.items {
        for response in item.responses.iter().filter(|r| !r.correct.is_empty()) {
            let value = match response.cardinality {
                exam_protocol::scoring::Cardinality::Single => serde_json::json!(response.correct[0]),
                _ => serde_json::json!(response.correct),
            };
            known.check(&item.ref_identifier, &[(response.identifier.as_str(), &value)]).unwrap_or_else(|e| panic!("the correct answer {value} does not fit: {e}"));
            correct_answers += 1;
        }
    }
    assert!(correct_answers >= 6, "the demo test's scoring has correct answers for its interactions ({correct_answers})");
    assert!(known.check("../../../../tmp/x", &[("RESPONSE", &cleared)]).is_err());
    // The UI gets the render model as before, with each image's URL.
    let running = kiosk_core::instrument::running::RunningInstrument::qti(
        instrument.test.clone(),
        [("media/schap.png".to_owned(), "exammedia://localhost/media/schap.png".to_owned())].into(),
    );
    let mut ui = serde_json::to_value(&running).unwrap();
    assert_eq!(ui["media"]["media/schap.png"], "exammedia://localhost/media/schap.png");
    ui.as_object_mut().unwrap().remove("media");
    assert_eq!(ui, serde_json::from_str::<serde_json::Value>(&json).unwrap(), "the same model as render_json");
    let v01 = &instrument.scoring.items[0];
    assert_eq!(v01.responses[0].correct, ["B"]);
    assert!(matches!(&v01.processing, Processing::Template { uri } if uri.ends_with("match_correct.xml")));
}

#[test]
fn real_qti3_examples_import() {
    let p = packed("qti/examples");
    let instrument = open(&p, p.bytes.clone()).unwrap();
    assert_eq!(instrument.test.item_count, 8);
    let titles: Vec<&str> = instrument.items().iter().map(|i| i.title.as_str()).collect();
    assert!(titles.contains(&"Unattended Luggage") && titles.contains(&"Grand Prix of Bahrain"));
    // Kennisnet's Dutch item: feedback is left out by design, and says so.
    let p = packed("qti/kennisnet");
    let instrument = open(&p, p.bytes.clone()).unwrap();
    assert_eq!(instrument.test.notices.len(), 2);
    assert!(instrument.test.notices.iter().all(|n| n.construct == "<qti-feedback-block>"));
    assert_eq!(instrument.items()[0].stylesheets, ["resources/stylesheet.css"]);
    assert!(matches!(&instrument.scoring.items[0].processing, Processing::Custom { rules: Some(rules), manual: None } if rules.len() == 2));
}

#[test]
fn header_is_readable_and_verifiable_without_the_key() {
    let p = packed("instruments/demo");
    let sealed = SealedPackage::parse(p.bytes.clone()).unwrap();
    assert_eq!(sealed.header().instrument_id, "demo-verkoop-2");
    assert_eq!(sealed.header().version, "2025.1");
    assert_eq!(sealed.header().approval_key_id, p.signer.public_key().key_id().to_string());
    let verified = sealed.verify(&trust_for(&p.signer)).unwrap();
    assert_eq!(verified.signer().name, "examencommissie");
    let file_sha = hex::encode(digest(&SHA256, &p.bytes));
    assert_eq!(verified.file_sha256(), file_sha);
}

// ---- hostile packages ----

fn header_len(bytes: &[u8]) -> usize {
    u32::from_be_bytes(bytes[8..12].try_into().unwrap()) as usize
}

#[test]
fn changed_header_signature_or_content_is_refused() {
    let p = packed("instruments/demo");
    let hl = header_len(&p.bytes);
    // A changed title (same length, still valid JSON): the signature no longer matches.
    let mut b = p.bytes.clone();
    let text = String::from_utf8(b[12..12 + hl].to_vec()).unwrap().replace("Demo:", "Demo;");
    b[12..12 + hl].copy_from_slice(text.as_bytes());
    assert!(matches!(open(&p, b), Err(PackageError::BadSignature)));
    // A flipped signature bit.
    let mut b = p.bytes.clone();
    b[12 + hl + 3] ^= 1;
    assert!(matches!(open(&p, b), Err(PackageError::BadSignature)));
    // A flipped ciphertext bit (a changed file inside).
    let mut b = p.bytes.clone();
    let last = b.len() - 100;
    b[last] ^= 0x80;
    assert!(matches!(open(&p, b), Err(PackageError::ContentMismatch(_))));
    // Incomplete download, and bytes appended.
    let b = p.bytes[..p.bytes.len() - 1].to_vec();
    assert!(matches!(open(&p, b), Err(PackageError::Truncated(_))));
    let mut b = p.bytes.clone();
    b.push(0);
    assert!(matches!(open(&p, b), Err(PackageError::Truncated(_))));
    // Not a package at all.
    assert!(matches!(open(&p, b"PK\x03\x04zipzip".to_vec()), Err(PackageError::NotAPackage)));
}

/// Issue 19: the instrument grants read-aloud and the spell-check to
/// everyone, and switches the spell-check off on an item, in the signed
/// header: the kiosk's test carries it; a package without it is as before;
/// a student cannot switch a grant on by changing the header; an item the
/// test does not have is refused at pack, naming it.
#[test]
fn the_instruments_tools_travel_signed_in_the_header() {
    use kiosk_core::instrument::{InstrumentTool, InstrumentTools};
    let signer = SigningKey::generate().unwrap();
    let key = ContentKey::generate().unwrap();
    let mut inp = input("instruments/demo");
    inp.tools.grant("voorlezen".parse::<InstrumentTool>().unwrap());
    inp.tools.grant(InstrumentTool::SpellCheck);
    inp.tools.no_spell_check.insert("ITM-v10".into());
    let (bytes, imported) = pack(&inp, &signer, &key).unwrap();
    assert_eq!(imported.test.tools, inp.tools);
    let p = Packed { bytes, signer, key };
    let sealed = SealedPackage::parse(p.bytes.clone()).unwrap();
    assert_eq!(sealed.header().tools, inp.tools, "readable without the content key");
    let opened = open(&p, p.bytes.clone()).unwrap();
    assert_eq!(opened.test.tools, inp.tools);
    assert!(opened.render_json().unwrap().contains("\"no_spell_check\":[\"ITM-v10\"]"));
    // Without tools the header has no such field at all.
    let plain = packed("instruments/demo");
    let hl = header_len(&plain.bytes);
    assert!(!String::from_utf8_lossy(&plain.bytes[12..12 + hl]).contains("tools"));
    assert_eq!(open(&plain, plain.bytes.clone()).unwrap().test.tools, InstrumentTools::default());
    // Moving the switched-off item by hand (same length, valid JSON): the signature fails.
    let hl = header_len(&p.bytes);
    let mut b = p.bytes.clone();
    let text = String::from_utf8(b[12..12 + hl].to_vec()).unwrap().replace("\"ITM-v10\"", "\"ITM-v03\"");
    assert_ne!(text.as_bytes(), &p.bytes[12..12 + hl]);
    b[12..12 + hl].copy_from_slice(text.as_bytes());
    assert!(matches!(open(&p, b), Err(PackageError::BadSignature)));
    // An item the test does not have: refused at pack, with the test's items named.
    let mut typo = input("instruments/demo");
    typo.tools.no_spell_check.insert("ITM-v11".into());
    let err = pack(&typo, &p.signer, &p.key).unwrap_err().to_string();
    assert!(err.contains("switched off on ITM-v11, which the test does not have") && err.contains("ITM-v10"), "{err}");
}

#[test]
fn untrusted_signer_and_wrong_key_are_refused() {
    let p = packed("instruments/demo");
    let other = SigningKey::generate().unwrap();
    let err = SealedPackage::parse(p.bytes.clone()).unwrap().verify(&trust_for(&other)).unwrap_err();
    assert!(matches!(err, PackageError::UntrustedKey { .. }), "{err}");
    assert!(SealedPackage::parse(p.bytes.clone()).unwrap().verify(&InstrumentTrust::default()).is_err());
    let verified = SealedPackage::parse(p.bytes.clone()).unwrap().verify(&trust_for(&p.signer)).unwrap();
    let err = verified.decrypt(&ContentKey::generate().unwrap()).unwrap_err();
    assert!(matches!(err, PackageError::WrongKey), "{err}");
    assert!(ContentKey::from_base64("c2hvcnQ=").is_err());
}

#[test]
fn header_size_bombs_are_refused_before_allocation() {
    let p = packed("instruments/demo");
    let mut b = p.bytes.clone();
    b[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
    assert!(matches!(SealedPackage::parse(b), Err(PackageError::TooLarge { what: "package header", .. })));
    // A signed header that declares a 1 TB payload: refused by the size check.
    let hl = header_len(&p.bytes);
    let text = String::from_utf8(p.bytes[12..12 + hl].to_vec()).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut h = v.clone();
    h["payload_bytes"] = serde_json::json!(1u64 << 40);
    h["ciphertext_bytes"] = serde_json::json!((1u64 << 40) + 16);
    let hb = serde_json::to_vec(&h).unwrap();
    let mut b = p.bytes[..8].to_vec();
    b.extend_from_slice(&(hb.len() as u32).to_be_bytes());
    b.extend_from_slice(&hb);
    b.extend_from_slice(&p.bytes[12 + hl..]);
    assert!(matches!(SealedPackage::parse(b), Err(PackageError::TooLarge { .. })));
    // Unknown header fields are refused too.
    let mut h = v;
    h["extra"] = serde_json::json!(1);
    let hb = serde_json::to_vec(&h).unwrap();
    let mut b = p.bytes[..8].to_vec();
    b.extend_from_slice(&(hb.len() as u32).to_be_bytes());
    b.extend_from_slice(&hb);
    b.extend_from_slice(&p.bytes[12 + hl..]);
    assert!(matches!(SealedPackage::parse(b), Err(PackageError::MalformedHeader(_))));
}

/// A payload with a hand-written manifest, signed by a trusted key: what a
/// compromised packer (or a buggy one) could produce.
fn sealed_raw(entries: &[(&str, &[u8], u64)], trailing: &[u8]) -> Packed {
    let files: Vec<serde_json::Value> = entries
        .iter()
        .map(|(path, bytes, size)| serde_json::json!({"path": path, "size": size, "sha256": hex::encode(digest(&SHA256, bytes))}))
        .collect();
    let manifest = serde_json::to_vec(&serde_json::json!({ "files": files })).unwrap();
    let mut payload = b"EXAMPAY1".to_vec();
    payload.extend_from_slice(&(manifest.len() as u32).to_be_bytes());
    payload.extend_from_slice(&manifest);
    for (_, bytes, _) in entries {
        payload.extend_from_slice(bytes);
    }
    payload.extend_from_slice(trailing);
    let mut manifest_hash = [0u8; 32];
    manifest_hash.copy_from_slice(digest(&SHA256, &manifest).as_ref());
    let content: u64 = entries.iter().map(|(_, b, _)| b.len() as u64).sum();
    let signer = SigningKey::generate().unwrap();
    let key = ContentKey::generate().unwrap();
    let bytes = seal_payload("evil", "Evil", "1", 0, payload, manifest_hash, entries.len() as u64, content, &signer, &key).unwrap();
    Packed { bytes, signer, key }
}

fn decrypt_err(p: &Packed) -> PackageError {
    SealedPackage::parse(p.bytes.clone()).unwrap().verify(&trust_for(&p.signer)).unwrap().decrypt(&p.key).unwrap_err()
}

#[test]
fn path_escapes_in_a_signed_payload_are_refused() {
    for bad in ["../etc/passwd", "/etc/passwd", "items/../../x", "a\\b.xml", "C:/x", "a//b", "./a", "a/", "x\u{0}y"] {
        let p = sealed_raw(&[(bad, b"x", 1)], b"");
        let err = decrypt_err(&p);
        assert!(matches!(err, PackageError::BadPath { .. }), "{bad:?}: {err}");
    }
    // Two names for one file on a case-insensitive disk; a name that is file and directory.
    let p = sealed_raw(&[("a.xml", b"x", 1), ("A.XML", b"y", 1)], b"");
    assert!(matches!(decrypt_err(&p), PackageError::BadPath { .. }));
    let p = sealed_raw(&[("a", b"x", 1), ("a/b", b"y", 1)], b"");
    assert!(matches!(decrypt_err(&p), PackageError::BadPath { .. }));
}

#[test]
fn size_lies_and_changed_files_in_a_signed_payload_are_refused() {
    // Declared sizes bigger than the payload ("bomb" sizes) or bigger than allowed.
    let p = sealed_raw(&[("a.xml", b"abc", 1 << 40)], b"");
    assert!(matches!(decrypt_err(&p), PackageError::FileTooLarge { ref path, .. } if path == "a.xml"));
    let p = sealed_raw(&[("a.xml", b"abc", 1 << 20)], b"");
    assert!(matches!(decrypt_err(&p), PackageError::MalformedPayload(_)));
    // Bytes hidden after the last file.
    let p = sealed_raw(&[("a.xml", b"abc", 3)], b"hidden");
    assert!(matches!(decrypt_err(&p), PackageError::MalformedPayload(_)));
    // A file whose hash does not match (size right, content different).
    let files: Vec<(String, Vec<u8>)> = vec![("a.xml".into(), b"abc".to_vec())];
    let (mut payload, hash) = build_payload(&files).unwrap();
    let n = payload.len();
    payload[n - 1] = b'X';
    let signer = SigningKey::generate().unwrap();
    let key = ContentKey::generate().unwrap();
    let bytes = seal_payload("i", "t", "1", 0, payload, hash, 1, 3, &signer, &key).unwrap();
    let err = decrypt_err(&Packed { bytes, signer, key });
    assert!(matches!(err, PackageError::FileChanged { ref path } if path == "a.xml"), "{err}");
}

#[test]
fn a_missing_file_is_refused_at_pack_and_at_open() {
    let mut inp = input("qti/examples");
    inp.files.retain(|(p, _)| p != "items/order.xml");
    let signer = SigningKey::generate().unwrap();
    let key = ContentKey::generate().unwrap();
    let err = pack(&inp, &signer, &key).unwrap_err();
    assert!(matches!(err, PackageError::Qti(QtiError::MissingFile { ref path, .. }) if path == "items/order.xml"), "{err}");
    // Signed anyway (bypassing pack): the kiosk refuses at import.
    let (payload, hash) = build_payload(&inp.files).unwrap();
    let content = inp.files.iter().map(|(_, b)| b.len() as u64).sum();
    let bytes = seal_payload("i", "t", "1", 0, payload, hash, inp.files.len() as u64, content, &signer, &key).unwrap();
    let p = Packed { bytes, signer, key };
    assert!(matches!(open(&p, p.bytes.clone()), Err(PackageError::Qti(QtiError::MissingFile { .. }))));
    // A missing image.
    let mut inp = input("qti/examples");
    inp.files.retain(|(p, _)| p != "img/sign.png");
    assert!(matches!(pack(&inp, &p.signer, &p.key), Err(PackageError::Qti(QtiError::MissingFile { .. }))));
}

#[test]
fn pack_refuses_symlinks() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("imsmanifest.xml"), "<manifest/>").unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("/etc/passwd", tmp.path().join("passwd")).unwrap();
        assert!(matches!(PackInput::from_dir(tmp.path()), Err(PackageError::Pack(_))));
    }
}

#[test]
fn content_key_file_is_private() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("x.exam.key");
    let key = ContentKey::generate().unwrap();
    key.save(&path).unwrap();
    assert_eq!(ContentKey::load(&path).unwrap(), key);
    assert!(key.save(&path).is_err(), "never overwritten");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    assert_eq!(format!("{key:?}"), "ContentKey(..)");
}

/// Issue 18: audio, video and their caption tracks travel to the web view
/// like images (the shell's exammedia: scheme), from the decrypted package;
/// the package's XML (items, stimuli) and anything else never do.
#[test]
fn audio_and_captions_are_served_like_images_and_xml_is_not() {
    use kiosk_core::instrument::media::{hold, lookup, media_url, media_urls, MediaSlot};
    let p = packed("qti/content");
    let contents = SealedPackage::parse(p.bytes.clone()).unwrap().verify(&trust_for(&p.signer)).unwrap().decrypt(&p.key).unwrap();
    let wav = std::fs::read(fixture("qti/content/media/toon.wav")).unwrap();
    let urls = media_urls(&contents.import().unwrap().test, &contents);
    let slot = MediaSlot::default();
    hold(&slot, contents, urls.into_keys());
    assert_eq!(lookup(&slot, &media_url("media/toon.wav")), Some((wav, "audio/wav")));
    assert_eq!(lookup(&slot, &media_url("media/toon.vtt")).map(|(_, t)| t), Some("text/vtt"));
    assert_eq!(lookup(&slot, &media_url("img/dijk.png")).map(|(_, t)| t), Some("image/png"));
    // Issue 19: an item's reference material that is a PDF (naslag), for pdf.js.
    let pdf = std::fs::read(fixture("qti/content/img/formulekaart.pdf")).unwrap();
    assert_eq!(lookup(&slot, &media_url("img/formulekaart.pdf")), Some((pdf, "application/pdf")));
    for not_served in ["stimuli/dijken.xml", "items/sjabloon.xml", "imsmanifest.xml"] {
        assert_eq!(lookup(&slot, &media_url(not_served)), None, "{not_served}");
    }
}
