//! A small HTTPS "supplier" for web-instrument tests: its own CA (rcgen), a
//! certificate for 127.0.0.1/localhost, TLS over tokio-rustls, HTTP/1.1 with
//! one request per connection. It checks the exam key header of every request
//! with the supplier-side `SupplierVerifier` and records the verdict.
//! Shared by kiosk-core's proxy test and the end-to-end test (`#[path]`).
#![allow(dead_code, missing_docs)]

use kiosk_core::instrument::web::{SupplierVerifier, HEADER_NAME};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// One request as the supplier saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// Full URL as received (`https://127.0.0.1:PORT/path?query`).
    pub url: String,
    /// The verifier's verdict on the exam key header.
    pub verdict: Result<String, String>,
    pub cookie: Option<String>,
    pub body: Vec<u8>,
}

pub struct Supplier {
    pub ca_pem: String,
    pub port: u16,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Supplier {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The pages: (status, extra headers, content type, body) for a path.
fn page(path: &str, port: u16) -> (u16, Vec<(String, String)>, &'static str, String) {
    let html = |title: &str, body: &str| {
        format!("<!doctype html><html lang=\"nl\"><head><meta charset=\"utf-8\"><title>{title}</title></head><body>{body}</body></html>")
    };
    match path {
        "/start" => (
            200,
            vec![("set-cookie".into(), "sessie=abc123; Path=/; Secure; HttpOnly".into())],
            "text/html; charset=utf-8",
            html(
                "Leverancier: start",
                &format!(
                    "<h1 id=\"supplier-title\">Toets van de leverancier</h1>\
                     <a id=\"next\" href=\"/item/2\">Volgende vraag</a> \
                     <a id=\"absolute\" href=\"https://127.0.0.1:{port}/item/2\">Absoluut</a> \
                     <a id=\"away\" href=\"/redirect-away\">Weg</a> \
                     <a id=\"inside\" href=\"/redirect-inside\">Binnen</a> \
                     <a id=\"foreign\" href=\"https://example.net/elsewhere\">Elders</a>"
                ),
            ),
        ),
        "/item/2" => (200, vec![], "text/html; charset=utf-8", html("Vraag 2", "<h1 id=\"item-2\">Vraag 2</h1><a id=\"back\" href=\"/start\">Terug</a>")),
        "/redirect-away" => (302, vec![("location".into(), "https://example.org/stolen".into())], "text/plain", String::new()),
        "/redirect-inside" => (303, vec![("location".into(), "/item/2".into())], "text/plain", String::new()),
        "/logout" => (200, vec![("set-cookie".into(), "sessie=; Max-Age=0".into())], "text/plain", "bye".into()),
        _ => (404, vec![], "text/plain", "not found".into()),
    }
}

impl Supplier {
    /// Starts on 127.0.0.1 (a random port), verifying with `verifier`.
    pub async fn start(verifier: SupplierVerifier) -> Self {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(rcgen::DnType::CommonName, "Leverancier test-CA");
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .unwrap()
            .signed_by(&leaf_key, &issuer)
            .unwrap();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf.der().clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
            )
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let verifier = Arc::new(Mutex::new(verifier));
        let task = {
            let seen = seen.clone();
            tokio::spawn(async move {
                loop {
                    let Ok((tcp, _)) = listener.accept().await else { continue };
                    let (acceptor, seen, verifier) = (acceptor.clone(), seen.clone(), verifier.clone());
                    tokio::spawn(async move {
                        let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                        let Some((method, target, headers, body)) = read_request(&mut tls).await else { return };
                        let url = format!("https://127.0.0.1:{port}{target}");
                        let header = headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(HEADER_NAME)).map(|(_, v)| v.as_str());
                        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
                        let verdict = verifier.lock().unwrap().verify(header, &url, now);
                        let cookie = headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("cookie")).map(|(_, v)| v.clone());
                        let ok = verdict.is_ok();
                        seen.lock().unwrap().push(Seen { method, url, verdict, cookie, body });
                        let path = target.split('?').next().unwrap_or("/");
                        let (status, extra, content_type, body) =
                            if ok { page(path, port) } else { (403, vec![], "text/plain", "exam key refused".to_string()) };
                        let mut head = format!("HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n", body.len());
                        for (n, v) in extra {
                            head.push_str(&format!("{n}: {v}\r\n"));
                        }
                        head.push_str("\r\n");
                        let _ = tls.write_all(head.as_bytes()).await;
                        let _ = tls.write_all(body.as_bytes()).await;
                        let _ = tls.shutdown().await;
                    });
                }
            })
        };
        Supplier { ca_pem: ca.pem(), port, seen, task }
    }

    pub fn origin(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

type Request = (String, String, Vec<(String, String)>, Vec<u8>);

async fn read_request(tls: &mut (impl tokio::io::AsyncRead + Unpin)) -> Option<Request> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = tls.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if buf.len() > 64 * 1024 {
            return None;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, target) = (first.next()?.to_string(), first.next()?.to_string());
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':')).map(|(n, v)| (n.trim().to_string(), v.trim().to_string())).collect();
    let length: usize = headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("content-length")).and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length.min(1 << 20) {
        let n = tls.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some((method, target, headers, body))
}
