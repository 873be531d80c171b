//! Arbitrary bytes as a downloaded `.exam` file: parse, verify against a
//! fixed trusted key, decrypt with a fixed key, import. Must never panic.
#![no_main]

use exam_policy::PublicKeyHex;
use kiosk_core::instrument::{ContentKey, InstrumentTrust, SealedPackage, TrustedSigner};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let trust = InstrumentTrust::new(vec![TrustedSigner { name: "fuzz".into(), public_key: PublicKeyHex([7u8; 32]) }]);
    if let Ok(sealed) = SealedPackage::parse(data.to_vec()) {
        let _ = sealed.header();
        if let Ok(verified) = sealed.verify(&trust) {
            if let Ok(contents) = verified.decrypt(&ContentKey::from_bytes([9u8; 32])) {
                let _ = contents.import();
            }
        }
    }
});
