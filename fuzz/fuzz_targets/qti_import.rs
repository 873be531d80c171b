//! Arbitrary bytes as an item file inside an otherwise valid QTI 3.0
//! content package; also as the test and as the manifest. Must never panic.
#![no_main]

use kiosk_core::instrument::qti::import;
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;

const MANIFEST: &str = r#"<manifest identifier="M"><resources><resource identifier="t" type="imsqti_test_xmlv3p0" href="test.xml"><file href="test.xml"/></resource></resources></manifest>"#;
const TEST: &str = r#"<qti-assessment-test identifier="T" title="T"><qti-test-part identifier="P" navigation-mode="linear" submission-mode="individual"><qti-assessment-section identifier="S" title="S" visible="true"><qti-assessment-item-ref identifier="I" href="items/item.xml"/></qti-assessment-section></qti-test-part></qti-assessment-test>"#;

fuzz_target!(|data: &[u8]| {
    for slot in ["items/item.xml", "test.xml", "imsmanifest.xml"] {
        let mut files: BTreeMap<&str, &[u8]> = BTreeMap::new();
        files.insert("imsmanifest.xml", MANIFEST.as_bytes());
        files.insert("test.xml", TEST.as_bytes());
        files.insert("items/img.png", b"x");
        files.insert(slot, data);
        let _ = import(&|p: &str| files.get(p).copied());
    }
});
