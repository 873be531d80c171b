//! Arbitrary bytes as the *decrypted payload* of a correctly signed package
//! (what a compromised packer could produce): sealed with a fixed key, then
//! opened as the kiosk does. Reaches the payload parser and the QTI importer
//! behind the signature. Must never panic.
#![no_main]

use exam_policy::SigningKey;
use kiosk_core::instrument::{seal_payload, ContentKey, InstrumentTrust, SealedPackage, TrustedSigner};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn signer() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| SigningKey::generate().expect("key"))
}

fuzz_target!(|data: &[u8]| {
    let key = ContentKey::from_bytes([9u8; 32]);
    let manifest_hash = [0u8; 32];
    // The manifest hash is taken from the payload's own manifest when it has one.
    let hash = if data.len() >= 12 {
        let n = u32::from_be_bytes([data[8], data[9], data[10], data[11]]) as usize;
        data.get(12..12 + n).map(|m| {
            ring_digest(m)
        })
    } else {
        None
    };
    let Ok(bytes) = seal_payload("fuzz", "Fuzz", "1", 0, data.to_vec(), hash.unwrap_or(manifest_hash), 1, 0, signer(), &key) else { return };
    let trust = InstrumentTrust::new(vec![TrustedSigner { name: "fuzz".into(), public_key: signer().public_key() }]);
    if let Ok(contents) = SealedPackage::parse(bytes).and_then(|s| s.verify(&trust)).and_then(|v| v.decrypt(&key)) {
        let _ = contents.import();
    }
});

fn ring_digest(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, data).as_ref());
    out
}
