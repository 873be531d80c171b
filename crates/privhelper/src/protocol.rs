//! The helper's wire protocol, version 1.
//!
//! One request per connection (except [`Request::WatchExec`], which turns the
//! connection into a stream): a single line of JSON, terminated by `\n`, of
//! at most [`MAX_REQUEST_BYTES`]. Every request carries `"v": 1` and an
//! `"op"`; unknown operations, unknown fields and other versions are refused.
//!
//! ```json
//! {"v":1,"op":"ping"}
//! {"v":1,"op":"end_process","pid":4242,"start_ticks":123456}
//! {"v":1,"op":"read_dmi"}
//! {"v":1,"op":"sysrq_disable"}
//! {"v":1,"op":"sysrq_restore"}
//! {"v":1,"op":"watch_exec"}
//! ```
//!
//! Each answer is one line of JSON: `{"ok":true,...}` or
//! `{"ok":false,"error":"..."}`. A `watch_exec` stream sends
//! `{"ok":true,"watching":true}` and then one `{"exec":PID}` or
//! `{"overflow":true}` line per event.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The protocol version this helper speaks.
pub const PROTOCOL_VERSION: u32 = 1;
/// Longest request line accepted, newline included.
pub const MAX_REQUEST_BYTES: usize = 1024;

/// One request (without its version, which [`parse_request`] checks).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Request {
    /// Is the helper there, and which version does it speak?
    Ping,
    /// End one process: SIGTERM, a short grace, SIGKILL, confirmed.
    EndProcess {
        /// Process id.
        pid: u32,
        /// Its start time in clock ticks since boot (`/proc/PID/stat` field
        /// 22); a recycled PID never matches.
        start_ticks: u64,
    },
    /// The machine's DMI identity (vendor, product, serials, UUID).
    ReadDmi,
    /// Switch the magic SysRq key off for the exam (remembering the old value).
    SysrqDisable,
    /// Put the magic SysRq key back as it was before `sysrq_disable`.
    SysrqRestore,
    /// Stream the process ids of every `exec` (the process-event connector).
    WatchExec,
}

impl Request {
    /// The operation's wire name, for logs.
    pub fn op(&self) -> &'static str {
        match self {
            Request::Ping => "ping",
            Request::EndProcess { .. } => "end_process",
            Request::ReadDmi => "read_dmi",
            Request::SysrqDisable => "sysrq_disable",
            Request::SysrqRestore => "sysrq_restore",
            Request::WatchExec => "watch_exec",
        }
    }

    /// The request as one wire line (with version and newline).
    pub fn to_line(&self) -> String {
        let mut value = serde_json::to_value(self).unwrap_or_default();
        if let Some(map) = value.as_object_mut() {
            map.insert("v".into(), PROTOCOL_VERSION.into());
        }
        format!("{value}\n")
    }
}

/// Why a request was refused before it was looked at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// More than [`MAX_REQUEST_BYTES`].
    #[error("request longer than {MAX_REQUEST_BYTES} bytes")]
    Oversized,
    /// Not UTF-8 JSON, or not an object.
    #[error("malformed request: {0}")]
    Malformed(String),
    /// No `v`, or another version.
    #[error("unsupported protocol version {0} (this helper speaks {PROTOCOL_VERSION})")]
    Version(String),
    /// Unknown operation, missing or unknown fields, wrong types.
    #[error("invalid request: {0}")]
    Invalid(String),
}

/// Parses and validates one request line (without its newline).
pub fn parse_request(line: &[u8]) -> Result<Request, RequestError> {
    if line.len() >= MAX_REQUEST_BYTES {
        return Err(RequestError::Oversized);
    }
    let mut value: serde_json::Value =
        serde_json::from_slice(line).map_err(|e| RequestError::Malformed(e.to_string()))?;
    let map = value.as_object_mut().ok_or_else(|| RequestError::Malformed("not a JSON object".into()))?;
    match map.remove("v") {
        Some(serde_json::Value::Number(n)) if n.as_u64() == Some(u64::from(PROTOCOL_VERSION)) => {}
        Some(other) => return Err(RequestError::Version(other.to_string())),
        None => return Err(RequestError::Version("missing".into())),
    }
    let keys: Vec<String> = map.keys().cloned().collect();
    let request: Request = serde_json::from_value(value).map_err(|e| RequestError::Invalid(e.to_string()))?;
    // serde does not deny unknown fields on unit variants of a tagged enum:
    // the request's own fields must be exactly the ones sent.
    let known = serde_json::to_value(&request).unwrap_or_default();
    if let Some(extra) = keys.iter().find(|k| known.get(k.as_str()).is_none()) {
        return Err(RequestError::Invalid(format!("unknown field `{extra}` for op `{}`", request.op())));
    }
    Ok(request)
}

/// The DMI identity fields the helper reads (file names under
/// `/sys/class/dmi/id`); the serials and UUID are readable by root only.
pub const DMI_FIELDS: &[&str] = &[
    "sys_vendor",
    "product_name",
    "product_version",
    "product_serial",
    "product_uuid",
    "board_vendor",
    "board_name",
    "board_serial",
    "chassis_serial",
    "bios_vendor",
    "bios_version",
];

/// One answer line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    /// Whether the request was carried out.
    pub ok: bool,
    /// Why not, when `ok` is false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `ping`: the protocol version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    /// `end_process`: `ended` (with `signal`) or `already_gone`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// `end_process`: the signal that ended it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<String>,
    /// `read_dmi`: the fields that could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dmi: Option<BTreeMap<String, String>>,
    /// `sysrq_*`: the value before the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sysrq_before: Option<String>,
    /// `sysrq_*`: the value now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sysrq_now: Option<String>,
    /// `watch_exec`: the stream has started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watching: Option<bool>,
}

impl Response {
    /// A success with nothing else set.
    pub fn ok() -> Self {
        Self {
            ok: true,
            error: None,
            version: None,
            result: None,
            signal: None,
            dmi: None,
            sysrq_before: None,
            sysrq_now: None,
            watching: None,
        }
    }

    /// A refusal.
    pub fn refused(reason: impl Into<String>) -> Self {
        Self { ok: false, error: Some(reason.into()), ..Self::ok() }
    }

    /// The answer as one wire line.
    pub fn to_line(&self) -> String {
        format!("{}\n", serde_json::to_string(self).unwrap_or_else(|_| r#"{"ok":false}"#.into()))
    }
}

/// One line of a `watch_exec` stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ExecLine {
    /// A process executed a new program.
    Exec {
        /// Its thread-group id.
        exec: u32,
    },
    /// Events were lost; the kiosk should sweep.
    Overflow {
        /// Always true.
        overflow: bool,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip() {
        for request in [
            Request::Ping,
            Request::EndProcess { pid: 7, start_ticks: 99 },
            Request::ReadDmi,
            Request::SysrqDisable,
            Request::SysrqRestore,
            Request::WatchExec,
        ] {
            let line = request.to_line();
            assert!(line.contains("\"v\":1"), "{line}");
            assert_eq!(parse_request(line.trim_end().as_bytes()).unwrap(), request);
        }
    }

    #[test]
    fn bad_requests_are_refused_with_a_reason() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "malformed"),
            (b"not json", "malformed"),
            (b"[1,2]", "malformed"),
            (b"{\"op\":\"ping\"}", "version"),
            (b"{\"v\":2,\"op\":\"ping\"}", "version"),
            (b"{\"v\":\"1\",\"op\":\"ping\"}", "version"),
            (b"{\"v\":1}", "invalid"),
            (b"{\"v\":1,\"op\":\"shell\",\"cmd\":\"id\"}", "invalid"),
            (b"{\"v\":1,\"op\":\"ping\",\"extra\":1}", "invalid"),
            (b"{\"v\":1,\"op\":\"end_process\",\"pid\":-1,\"start_ticks\":1}", "invalid"),
            (b"{\"v\":1,\"op\":\"end_process\",\"pid\":5}", "invalid"),
        ];
        for (line, kind) in cases {
            let err = parse_request(line).unwrap_err();
            let got = match err {
                RequestError::Oversized => "oversized",
                RequestError::Malformed(_) => "malformed",
                RequestError::Version(_) => "version",
                RequestError::Invalid(_) => "invalid",
            };
            assert_eq!(got, *kind, "{}: {err}", String::from_utf8_lossy(line));
        }
        assert_eq!(parse_request(&vec![b' '; MAX_REQUEST_BYTES]), Err(RequestError::Oversized));
    }
}
