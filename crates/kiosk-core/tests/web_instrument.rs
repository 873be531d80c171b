//! The web-instrument proxy against a real local HTTPS supplier with its own
//! CA: the pinned CA, the exam key header on every request (checked by the
//! supplier-side verifier), redirects, foreign origins, cookies; and the
//! descriptor's trip through a signed, encrypted package.
#![allow(missing_docs)]

#[path = "support/supplier.rs"]
mod supplier;

use exam_policy::SigningKey;
use kiosk_core::instrument::web::SupplierVerifier;
use kiosk_core::instrument::web_instrument::{pack_web, WebInstrument, WEB_INSTRUMENT_FILE, WEB_INSTRUMENT_FORMAT};
use kiosk_core::instrument::web_proxy::{Blocked, ExamKeyContext, ProxyRequest, WebProxy};
use kiosk_core::instrument::{ContentKey, InstrumentTrust, PackInput, PackageError, SealedPackage, TrustedSigner, WebInstrumentOf as _};
use supplier::Supplier;

const BUILD: &str = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";
const POLICY: &str = "fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9";
const NONCE: &[u8; 32] = b"0123456789abcdef0123456789abcdef";

fn keys() -> ExamKeyContext {
    ExamKeyContext { build_hash: BUILD.into(), policy_hash: POLICY.into(), session_nonce: NONCE.to_vec() }
}

async fn supplier() -> Supplier {
    Supplier::start(SupplierVerifier::new(vec![BUILD.into()], POLICY.into(), NONCE.to_vec())).await
}

fn descriptor(s: &Supplier, ca_pem: &str) -> WebInstrument {
    WebInstrument {
        format: WEB_INSTRUMENT_FORMAT.into(),
        title: "Rekenen 3F (leverancier)".into(),
        url: format!("{}/start", s.origin()),
        allowed_origins: vec![s.origin()],
        supplier_ca_pem: ca_pem.into(),
    }
}

fn get(url: &str) -> ProxyRequest {
    ProxyRequest { method: "GET".into(), url: url.into(), headers: vec![("Accept".into(), "text/html".into())], body: vec![] }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn proxies_with_the_exam_key_and_pinned_tls() {
    let s = supplier().await;
    let proxy = WebProxy::new(descriptor(&s, &s.ca_pem), keys()).unwrap();
    let start = proxy.start_url();
    assert_eq!(start, format!("examweb://127.0.0.1:{}/start", s.port));

    let out = proxy.handle(get(&start)).await;
    assert_eq!((out.response.status, out.blocked.clone()), (200, None));
    let page = String::from_utf8(out.response.body).unwrap();
    assert!(page.contains("Toets van de leverancier"));
    // Absolute links to the allowed origin go through the proxy too.
    assert!(page.contains(&format!("href=\"examweb://127.0.0.1:{}/item/2\"", s.port)), "{page}");
    // The cookie stays in the proxy; the web view gets a policy that keeps it inside.
    assert_eq!(header(&out.response.headers, "set-cookie"), None);
    let csp = header(&out.response.headers, "content-security-policy").unwrap();
    assert!(csp.contains(&format!("examweb://127.0.0.1:{}", s.port)) && csp.contains("sandbox") && !csp.contains("allow-popups"), "{csp}");

    // The next request carries the supplier's cookie, and a fresh, valid header.
    let out = proxy.handle(get(&format!("{start}/../item/2?x=1"))).await;
    assert_eq!(out.response.status, 200, "{:?}", out.blocked);
    // A POST with a body passes on, keyed like any other request.
    let post = ProxyRequest { method: "POST".into(), url: format!("examweb://127.0.0.1:{}/item/2", s.port), headers: vec![], body: b"antwoord=B".to_vec() };
    assert_eq!(proxy.handle(post).await.response.status, 200);

    let seen = s.seen();
    assert_eq!(seen.len(), 3);
    for r in &seen {
        assert_eq!(r.verdict.as_deref(), Ok(BUILD), "{} {}", r.method, r.url);
    }
    assert_eq!(seen[1].url, format!("https://127.0.0.1:{}/item/2?x=1", s.port));
    assert_eq!(seen[1].cookie.as_deref(), Some("sessie=abc123"));
    assert_eq!(seen[2].body, b"antwoord=B");
}

#[tokio::test]
async fn redirects_inside_pass_and_foreign_ones_are_blocked() {
    let s = supplier().await;
    let proxy = WebProxy::new(descriptor(&s, &s.ca_pem), keys()).unwrap();
    let base = format!("examweb://127.0.0.1:{}", s.port);

    let inside = proxy.handle(get(&format!("{base}/redirect-inside"))).await;
    assert_eq!((inside.response.status, inside.blocked), (303, None));
    assert_eq!(header(&inside.response.headers, "location"), Some(format!("{base}/item/2").as_str()));

    let away = proxy.handle(get(&format!("{base}/redirect-away"))).await;
    assert_eq!(away.response.status, 403);
    assert_eq!(
        away.blocked,
        Some(Blocked::ForeignRedirect { from: format!("https://127.0.0.1:{}/redirect-away", s.port), to: "https://example.org/stolen".into() })
    );
    assert!(String::from_utf8(away.response.body).unwrap().contains("geblokkeerd"));
    assert_eq!(header(&away.response.headers, "location"), None);

    // Another origin, another port of the same host, plain https or a bad URL: refused without a request.
    let before = s.seen().len();
    for url in ["examweb://example.org/", &format!("examweb://127.0.0.1:{}/", s.port + 1), &format!("https://127.0.0.1:{}/start", s.port), "examweb://"] {
        let out = proxy.handle(get(url)).await;
        assert_eq!(out.response.status, 403, "{url}");
        assert!(matches!(out.blocked, Some(Blocked::ForeignOrigin { .. })), "{url}: {:?}", out.blocked);
        assert!(proxy.allows_navigation(url).is_err());
    }
    assert!(proxy.allows_navigation(&format!("{base}/item/2")).is_ok());
    let trace = ProxyRequest { method: "TRACE".into(), url: format!("{base}/start"), ..Default::default() };
    assert!(matches!(proxy.handle(trace).await.blocked, Some(Blocked::Method { .. })));
    assert_eq!(s.seen().len(), before, "nothing refused reached the supplier");
}

#[tokio::test]
async fn another_ca_is_not_trusted() {
    let s = supplier().await;
    let impostor = supplier().await; // same address pattern, but a CA the instrument does not pin
    let proxy = WebProxy::new(descriptor(&s, &impostor.ca_pem), keys()).unwrap();
    let out = proxy.handle(get(&proxy.start_url())).await;
    match out.blocked {
        Some(Blocked::Upstream { detail, .. }) => assert!(detail.contains("certificate") || detail.contains("issuer"), "{detail}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(out.response.status, 502);
    assert!(s.seen().is_empty(), "no request was sent over the unpinned connection");
}

#[tokio::test]
async fn a_wrong_session_nonce_is_refused_by_the_supplier() {
    let s = supplier().await;
    let other_sitting = ExamKeyContext { session_nonce: b"another sitting's nonce.........".to_vec(), ..keys() };
    let proxy = WebProxy::new(descriptor(&s, &s.ca_pem), other_sitting).unwrap();
    assert_eq!(proxy.handle(get(&proxy.start_url())).await.response.status, 403);
    assert_eq!(s.seen()[0].verdict, Err("exam key does not verify".into()));
}

#[test]
fn the_descriptor_travels_signed_and_encrypted() {
    let signer = SigningKey::generate().unwrap();
    let key = ContentKey::generate().unwrap();
    let trust = InstrumentTrust::new(vec![TrustedSigner { name: "examencommissie".into(), public_key: signer.public_key() }]);
    let web = WebInstrument {
        format: WEB_INSTRUMENT_FORMAT.into(),
        title: "Rekenen 3F (leverancier)".into(),
        url: "https://toets.leverancier.example/start".into(),
        allowed_origins: vec!["https://toets.leverancier.example".into()],
        supplier_ca_pem: {
            let k = rcgen::KeyPair::generate().unwrap();
            rcgen::CertificateParams::new(vec!["x".to_string()]).unwrap().self_signed(&k).unwrap().pem()
        },
    };
    let input = PackInput {
        version: "1".into(),
        files: vec![(WEB_INSTRUMENT_FILE.into(), serde_json::to_vec(&web).unwrap())],
        ..Default::default()
    };
    let (bytes, packed) = pack_web(&input, &signer, &key).unwrap();
    assert_eq!(packed, web);
    let contents = SealedPackage::parse(bytes.clone()).unwrap().verify(&trust).unwrap().decrypt(&key).unwrap();
    assert_eq!(contents.header().instrument_id, "rekenen-3f--leverancier");
    assert_eq!(contents.web_instrument().unwrap(), Some(web.clone()));
    // A changed byte anywhere in the ciphertext: refused before anything is shown.
    let mut changed = bytes;
    let last = changed.len() - 20;
    changed[last] ^= 1;
    let refused = SealedPackage::parse(changed).unwrap().verify(&trust).unwrap_err();
    assert!(matches!(refused, PackageError::ContentMismatch(_)), "{refused}");
    // A descriptor that is not acceptable is not packed.
    let mut bad = web;
    bad.url = "https://elders.example/".into();
    let input = PackInput { files: vec![(WEB_INSTRUMENT_FILE.into(), serde_json::to_vec(&bad).unwrap())], ..Default::default() };
    assert!(pack_web(&input, &signer, &key).unwrap_err().to_string().contains("not among allowed_origins"));
}
