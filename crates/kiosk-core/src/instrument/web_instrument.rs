//! Web instruments of certified suppliers: what the exam committee approves
//! is a small descriptor, `web-instrument.json`, packed, signed and encrypted
//! like a QTI package (so the same approval, the same release of the content
//! key at the start, and the same hub delivery apply):
//!
//! ```json
//! { "format": "exam-kiosk-web-instrument/1",
//!   "title": "Rekenen 3F (leverancier)",
//!   "url": "https://toets.leverancier.example/start?toets=R3F",
//!   "allowed_origins": ["https://toets.leverancier.example", "https://media.leverancier.example:8443"],
//!   "supplier_ca_pem": "-----BEGIN CERTIFICATE-----\n..." }
//! ```
//!
//! `supplier_ca_pem` holds the only trust anchors for the supplier's servers
//! (pinned: no web PKI roots). The kiosk opens it through
//! [`super::web_proxy::WebProxy`].

use super::{seal_files, PackInput, PackageContents};
use super::{ContentKey, PackageError};
use exam_policy::SigningKey;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::CertificateDer;
use serde::{Deserialize, Serialize};

/// The descriptor's path in a package.
pub const WEB_INSTRUMENT_FILE: &str = "web-instrument.json";
/// The descriptor's `format`.
pub const WEB_INSTRUMENT_FORMAT: &str = "exam-kiosk-web-instrument/1";
/// Most allowed origins.
pub const MAX_ORIGINS: usize = 16;
/// Longest URL accepted in a descriptor.
pub const MAX_URL_BYTES: usize = 2048;

/// Why a web instrument descriptor was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebInstrumentError {
    /// Not JSON of the expected shape.
    #[error("web-instrument.json: {0}")]
    Malformed(String),
    /// A URL or origin that is not acceptable.
    #[error("web-instrument.json: {what} {value:?}: {reason}")]
    BadUrl {
        /// Which field.
        what: &'static str,
        /// The value.
        value: String,
        /// Why.
        reason: String,
    },
    /// The supplier CA is missing or does not parse.
    #[error("web-instrument.json: supplier_ca_pem: {0}")]
    BadCa(String),
}

/// An `https` origin: host and port (the port is always explicit here).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin {
    /// Lower-case host name or IP literal (IPv6 in brackets).
    pub host: String,
    /// Port (443 when the URL gives none).
    pub port: u16,
}

impl Origin {
    /// The origin of an `https` URL, or why it has none.
    pub fn of(url: &reqwest::Url) -> Result<Self, String> {
        if url.scheme() != "https" {
            return Err(format!("scheme {:?}: only https", url.scheme()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("user names and passwords in URLs are refused".into());
        }
        // The URL parser lower-cases host names of https URLs; IPv6 comes bracketed.
        let host = url.host_str().filter(|h| !h.is_empty()).ok_or("no host")?.to_ascii_lowercase();
        Ok(Origin { host, port: url.port_or_known_default().unwrap_or(443) })
    }

    /// Parses `https://host[:port]` (nothing after it but an optional `/`).
    pub fn parse(text: &str) -> Result<Self, String> {
        let url = reqwest::Url::parse(text).map_err(|e| e.to_string())?;
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err("an origin has no path, query or fragment".into());
        }
        Self::of(&url)
    }

    /// `https://host:port`.
    pub fn https(&self) -> String {
        format!("https://{}:{}", self.host, self.port)
    }
}

/// A web instrument: start URL, allowed origins, pinned supplier CA.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebInstrument {
    /// Always [`WEB_INSTRUMENT_FORMAT`].
    pub format: String,
    /// Title shown to the student.
    pub title: String,
    /// The start page (`https`, on one of the allowed origins).
    pub url: String,
    /// Origins the instrument may load from and navigate to.
    pub allowed_origins: Vec<String>,
    /// The supplier's CA certificate(s), PEM: the only trust anchors.
    pub supplier_ca_pem: String,
}

impl WebInstrument {
    /// Parses and checks a descriptor.
    pub fn parse(bytes: &[u8]) -> Result<Self, WebInstrumentError> {
        let web: WebInstrument = serde_json::from_slice(bytes).map_err(|e| WebInstrumentError::Malformed(e.to_string()))?;
        web.check()?;
        Ok(web)
    }

    /// Checks format, title, URL, origins and CA.
    pub fn check(&self) -> Result<(), WebInstrumentError> {
        if self.format != WEB_INSTRUMENT_FORMAT {
            return Err(WebInstrumentError::Malformed(format!("format {:?}, expected {WEB_INSTRUMENT_FORMAT:?}", self.format)));
        }
        if self.title.is_empty() || self.title.len() > 200 || self.title.chars().any(char::is_control) {
            return Err(WebInstrumentError::Malformed("title must be 1..200 characters without control characters".into()));
        }
        let origins = self.origins()?;
        let url = self.start_url()?;
        let start = Origin::of(&url).map_err(|reason| WebInstrumentError::BadUrl { what: "url", value: self.url.clone(), reason })?;
        if !origins.contains(&start) {
            return Err(WebInstrumentError::BadUrl {
                what: "url",
                value: self.url.clone(),
                reason: "its origin is not among allowed_origins".into(),
            });
        }
        self.ca_certificates()?;
        Ok(())
    }

    /// The start URL, parsed.
    pub fn start_url(&self) -> Result<reqwest::Url, WebInstrumentError> {
        let bad = |reason: String| WebInstrumentError::BadUrl { what: "url", value: self.url.clone(), reason };
        if self.url.len() > MAX_URL_BYTES {
            return Err(bad(format!("longer than {MAX_URL_BYTES} bytes")));
        }
        reqwest::Url::parse(&self.url).map_err(|e| bad(e.to_string()))
    }

    /// The allowed origins, parsed (1..=[`MAX_ORIGINS`]).
    pub fn origins(&self) -> Result<Vec<Origin>, WebInstrumentError> {
        if self.allowed_origins.is_empty() || self.allowed_origins.len() > MAX_ORIGINS {
            return Err(WebInstrumentError::Malformed(format!("allowed_origins must list 1..={MAX_ORIGINS} origins")));
        }
        self.allowed_origins
            .iter()
            .map(|o| Origin::parse(o).map_err(|reason| WebInstrumentError::BadUrl { what: "allowed origin", value: o.clone(), reason }))
            .collect()
    }

    /// The pinned supplier CA certificates.
    pub fn ca_certificates(&self) -> Result<Vec<CertificateDer<'static>>, WebInstrumentError> {
        let certs = CertificateDer::pem_slice_iter(self.supplier_ca_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| WebInstrumentError::BadCa(e.to_string()))?;
        if certs.is_empty() {
            return Err(WebInstrumentError::BadCa("no certificate".into()));
        }
        Ok(certs)
    }
}

/// The web instrument descriptor of a package (the package format lives in
/// `exam-instrument`, which knows nothing of web instruments).
pub trait WebInstrumentOf {
    /// The web instrument descriptor, when this package is a web instrument
    /// (`Ok(None)` for a QTI package).
    fn web_instrument(&self) -> Result<Option<WebInstrument>, PackageError>;
}

impl WebInstrumentOf for PackageContents {
    fn web_instrument(&self) -> Result<Option<WebInstrument>, PackageError> {
        match self.file(WEB_INSTRUMENT_FILE) {
            None => Ok(None),
            Some(bytes) => WebInstrument::parse(bytes).map(Some).map_err(|e| PackageError::MalformedPayload(e.to_string())),
        }
    }
}

/// Packs a web instrument (the files must hold a valid [`WEB_INSTRUMENT_FILE`];
/// others, e.g. a supplier's documentation, travel along) into a signed,
/// encrypted package. Id and title default to the descriptor's title.
pub fn pack_web(input: &PackInput, signing_key: &SigningKey, content_key: &ContentKey) -> Result<(Vec<u8>, WebInstrument), PackageError> {
    let descriptor = input
        .files
        .iter()
        .find(|(p, _)| p == WEB_INSTRUMENT_FILE)
        .ok_or_else(|| PackageError::Pack(format!("a web instrument needs {WEB_INSTRUMENT_FILE}")))?;
    let web = WebInstrument::parse(&descriptor.1).map_err(|e| PackageError::Pack(e.to_string()))?;
    if !input.tools.is_empty() {
        // The kiosk's tools are for QTI items; a supplier's web page has its own.
        return Err(PackageError::Pack("a web instrument cannot grant the kiosk's read-aloud or spell-check (--tool, --no-spell-check)".into()));
    }
    let bytes = seal_files(input, &slug(&web.title), &web.title, signing_key, content_key)?;
    Ok((bytes, web))
}

fn slug(title: &str) -> String {
    let s: String = title.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    let s = s.trim_matches('-').to_string();
    if s.is_empty() { "web-instrument".into() } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ca_pem() -> String {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.self_signed(&key).unwrap().pem()
    }

    fn descriptor(url: &str, origins: &[&str]) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "format": WEB_INSTRUMENT_FORMAT, "title": "Rekenen 3F", "url": url,
            "allowed_origins": origins, "supplier_ca_pem": ca_pem(),
        }))
        .unwrap()
    }

    #[test]
    fn accepts_a_good_descriptor() {
        let web = WebInstrument::parse(&descriptor("https://Toets.example/start?x=1", &["https://toets.example", "https://m.example:8443/"])).unwrap();
        assert_eq!(web.origins().unwrap()[0], Origin { host: "toets.example".into(), port: 443 });
        assert_eq!(web.origins().unwrap()[1].https(), "https://m.example:8443");
    }

    #[test]
    fn refuses_bad_descriptors_with_the_reason() {
        for (url, origins, why) in [
            ("http://toets.example/", vec!["https://toets.example"], "only https"),
            ("https://other.example/", vec!["https://toets.example"], "not among allowed_origins"),
            ("https://toets.example/", vec!["https://toets.example/pad"], "no path"),
            ("https://toets.example/", vec!["http://toets.example"], "only https"),
            ("https://u:p@toets.example/", vec!["https://toets.example"], "passwords"),
            ("https://toets.example/", vec![], "1..=16"),
        ] {
            let err = WebInstrument::parse(&descriptor(url, &origins)).unwrap_err().to_string();
            assert!(err.contains(why), "{url} {origins:?}: {err}");
        }
        let mut no_ca: serde_json::Value = serde_json::from_slice(&descriptor("https://t.example/", &["https://t.example"])).unwrap();
        no_ca["supplier_ca_pem"] = "not a certificate".into();
        assert!(WebInstrument::parse(&serde_json::to_vec(&no_ca).unwrap()).unwrap_err().to_string().contains("supplier_ca_pem"));
        no_ca["extra"] = 1.into();
        assert!(WebInstrument::parse(&serde_json::to_vec(&no_ca).unwrap()).is_err());
    }
}
