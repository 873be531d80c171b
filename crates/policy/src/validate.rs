//! Semantic validation: everything the type system cannot say. Each issue
//! carries the path of the offending value so the loader can point at it.

use crate::defaults::{
    BEACON_TIMEOUT_MAX_MS, POLICY_VERSION, ROOM_CODE_DIGITS_RANGE, ROOM_CODE_STEP_RANGE,
    SEGMENT_BYTES_MIN,
};
use crate::model::{Policy, ProcessRule, Requirement, UnlockMethod};
use crate::pem::first_certificate_der;
use crate::types::{Cidr, Sha256Hex};
use std::collections::HashSet;
use std::path::Path;

/// One step in a path into the policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSeg {
    /// A table key.
    Key(String),
    /// An array index.
    Index(usize),
}

/// A semantic problem at a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// Where, as TOML keys and array indices.
    pub path: Vec<PathSeg>,
    /// What is wrong.
    pub message: String,
}

struct Ctx {
    issues: Vec<Issue>,
    path: Vec<PathSeg>,
}

impl Ctx {
    fn push_err(&mut self, extra: &[PathSeg], message: impl Into<String>) {
        let mut path = self.path.clone();
        path.extend_from_slice(extra);
        self.issues.push(Issue {
            path,
            message: message.into(),
        });
    }
    fn err(&mut self, message: impl Into<String>) {
        self.push_err(&[], message);
    }
    fn at<R>(&mut self, seg: PathSeg, f: impl FnOnce(&mut Ctx) -> R) -> R {
        self.path.push(seg);
        let r = f(self);
        self.path.pop();
        r
    }
}

fn key(k: &str) -> PathSeg {
    PathSeg::Key(k.to_string())
}

/// Validates a parsed policy. `base_dir` resolves relative file paths; when
/// it is `None` files are not checked.
pub fn validate(policy: &Policy, base_dir: Option<&Path>) -> Vec<Issue> {
    let mut cx = Ctx {
        issues: Vec::new(),
        path: Vec::new(),
    };
    if policy.version != POLICY_VERSION {
        cx.push_err(
            &[key("version")],
            format!("unsupported version {}, expected {POLICY_VERSION}", policy.version),
        );
    }
    if policy.name.trim().is_empty() {
        cx.push_err(&[key("name")], "must not be empty");
    }
    cx.at(key("hub"), |cx| validate_hub(cx, policy, base_dir));
    validate_locations(&mut cx, policy);
    cx.at(key("processes"), |cx| validate_processes(cx, policy));
    if policy.environment.max_displays == 0 {
        cx.push_err(
            &[key("environment"), key("max-displays")],
            "must be at least 1",
        );
    }
    cx.at(key("lock"), |cx| {
        let lock = &policy.lock;
        if lock.unlock_methods.is_empty() {
            cx.push_err(&[key("unlock-methods")], "needs at least one unlock method (hub, offline-code)");
        }
        let mut seen = HashSet::new();
        for (i, m) in lock.unlock_methods.iter().enumerate() {
            if !seen.insert(*m) {
                cx.push_err(&[key("unlock-methods"), PathSeg::Index(i)], "listed twice");
            }
        }
        if lock.unlock_methods.contains(&UnlockMethod::OfflineCode) && lock.offline_code_secret.is_none() {
            cx.push_err(&[key("unlock-methods")], "`offline-code` needs `offline-code-secret`");
        }
        if lock.max_failed_unlocks == 0 {
            cx.push_err(&[key("max-failed-unlocks")], "must be at least 1");
        }
        if lock.failed_unlock_window_secs == 0 {
            cx.push_err(&[key("failed-unlock-window-secs")], "must be at least 1");
        }
        let mut invigilators = HashSet::new();
        for (i, entry) in lock.invigilators.iter().enumerate() {
            // The PIN hash is an `exam_secure::PasswordHash`: a bad one is an
            // error at load, at its place (before, the kiosk dropped that
            // invigilator without a word, and their PIN never worked).
            if entry.id.trim().is_empty() {
                cx.push_err(&[key("invigilator"), PathSeg::Index(i), key("id")], "must not be empty");
            } else if !invigilators.insert(entry.id.as_str()) {
                cx.push_err(&[key("invigilator"), PathSeg::Index(i), key("id")], format!("invigilator `{}` is listed twice", entry.id));
            }
        }
    });
    let mut ids = HashSet::new();
    let mut keys = HashSet::new();
    for (i, k) in policy.instrument_keys.iter().enumerate() {
        let base = [key("instrument-key"), PathSeg::Index(i)];
        if k.id.trim().is_empty() {
            cx.push_err(&[base[0].clone(), base[1].clone(), key("id")], "must not be empty");
        } else if !ids.insert(k.id.as_str()) {
            cx.push_err(&[base[0].clone(), base[1].clone(), key("id")], format!("duplicate key id `{}`", k.id));
        }
        if !keys.insert(k.public_key) {
            cx.push_err(&[base[0].clone(), base[1].clone(), key("public-key")], "the same key is listed twice");
        }
    }
    cx.at(key("journal"), |cx| {
        let j = &policy.journal;
        for (name, v) in [
            ("epoch-records", j.epoch_records),
            ("epoch-minutes", u64::from(j.epoch_minutes)),
            ("checkpoint-records", j.checkpoint_records),
            ("checkpoint-seconds", u64::from(j.checkpoint_seconds)),
        ] {
            if v == 0 {
                cx.push_err(&[key(name)], "must be at least 1");
            }
        }
        if j.segment_bytes < SEGMENT_BYTES_MIN {
            cx.push_err(&[key("segment-bytes")], format!("must be at least {SEGMENT_BYTES_MIN}"));
        }
        if j.checkpoint_records > j.epoch_records {
            cx.push_err(&[key("checkpoint-records")], "must not exceed epoch-records");
        }
    });
    cx.issues
}

fn validate_hub(cx: &mut Ctx, policy: &Policy, base_dir: Option<&Path>) {
    let hub = &policy.hub;
    if let Err(msg) = check_hub_url(&hub.url) {
        cx.push_err(&[key("url")], msg);
    }
    match (&hub.ca_file, &hub.ca_pem) {
        (Some(_), Some(_)) => cx.push_err(&[key("ca-pem")], "give either `ca-file` or `ca-pem`, not both"),
        (None, None) => cx.err("needs the pinned school CA: `ca-file` or `ca-pem`"),
        (None, Some(pem)) => check_ca(cx, "ca-pem", pem, hub.ca_sha256),
        (Some(file), None) => {
            if let Some(dir) = base_dir {
                let path = dir.join(file);
                match std::fs::read_to_string(&path) {
                    Ok(pem) => check_ca(cx, "ca-file", &pem, hub.ca_sha256),
                    Err(e) => cx.push_err(&[key("ca-file")], format!("cannot read {}: {e}", path.display())),
                }
            }
        }
    }
}

fn check_ca(cx: &mut Ctx, field: &str, pem: &str, expected: Sha256Hex) {
    match first_certificate_der(pem) {
        Ok(der) => {
            let actual = Sha256Hex::digest(&der);
            if actual != expected {
                cx.push_err(
                    &[key("ca-sha256")],
                    format!("does not match the CA certificate in `{field}` (its SHA-256 is {actual})"),
                );
            }
        }
        Err(msg) => cx.push_err(&[key(field)], msg),
    }
}

/// Accepts `https://host[:port][/path]`, and `http://` only for loopback hosts.
fn check_hub_url(url: &str) -> Result<(), String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("`{url}` is not a URL (expected https://hub.example.nl)"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() || authority.contains('@') || authority.contains(char::is_whitespace) {
        return Err(format!("`{url}` has no valid host"));
    }
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        authority.split(':').next().unwrap_or("")
    };
    match scheme {
        "https" => Ok(()),
        "http" => {
            let loopback = host == "localhost"
                || host
                    .parse::<std::net::IpAddr>()
                    .map(|ip| ip.is_loopback())
                    .unwrap_or(false);
            if loopback {
                Ok(())
            } else {
                Err(format!("`{url}`: plain http is only allowed for loopback hosts; use https"))
            }
        }
        other => Err(format!("unsupported scheme `{other}`, expected https")),
    }
}

fn validate_locations(cx: &mut Ctx, policy: &Policy) {
    if policy.locations.is_empty() {
        cx.err("needs at least one `[[location]]`");
        return;
    }
    let mut names = HashSet::new();
    for (i, loc) in policy.locations.iter().enumerate() {
        cx.at(key("location"), |cx| {
            cx.at(PathSeg::Index(i), |cx| {
                if loc.name.trim().is_empty() {
                    cx.push_err(&[key("name")], "must not be empty");
                } else if !names.insert(loc.name.as_str()) {
                    cx.push_err(&[key("name")], format!("duplicate location name `{}`", loc.name));
                }
                if loc.evidence.is_empty() {
                    cx.push_err(&[key("evidence")], "a location needs at least one evidence requirement");
                }
                cx.at(key("evidence"), |cx| {
                    for (j, req) in loc.evidence.iter().enumerate() {
                        cx.at(PathSeg::Index(j), |cx| validate_requirement(cx, policy, req));
                    }
                });
            })
        });
    }
}

fn check_cidrs(cx: &mut Ctx, cidrs: &[Cidr]) {
    if cidrs.is_empty() {
        cx.push_err(&[key("cidrs")], "needs at least one CIDR");
    }
    for (a, ca) in cidrs.iter().enumerate() {
        for (b, cb) in cidrs.iter().enumerate().skip(a + 1) {
            if ca.overlaps(cb) {
                cx.push_err(
                    &[key("cidrs"), PathSeg::Index(b)],
                    format!("{cb} overlaps {ca} (entry {a}); list each network once"),
                );
            }
        }
    }
}

fn validate_requirement(cx: &mut Ctx, policy: &Policy, req: &Requirement) {
    let kind = req.kind();
    cx.at(key(kind), |cx| match req {
        Requirement::Interface(r) => {
            check_cidrs(cx, &r.cidrs);
            if r.interface.as_deref().is_some_and(|n| n.trim().is_empty()) {
                cx.push_err(&[key("interface")], "must not be empty");
            }
        }
        Requirement::Gateway(r) => {
            if r.ip.is_unspecified() || r.ip.is_multicast() {
                cx.push_err(&[key("ip")], format!("{} cannot be a gateway", r.ip));
            }
        }
        Requirement::Wifi(r) => {
            if r.ssid.is_empty() || r.ssid.len() > 32 {
                cx.push_err(&[key("ssid")], "an SSID has 1 to 32 bytes");
            }
            let mut seen = HashSet::new();
            for (i, b) in r.bssids.iter().enumerate() {
                if !seen.insert(*b) {
                    cx.push_err(&[key("bssids"), PathSeg::Index(i)], format!("{b} is listed twice"));
                }
            }
        }
        Requirement::HubSource(r) => {
            check_cidrs(cx, &r.cidrs);
            if r.max_age_secs == 0 {
                cx.push_err(&[key("max-age-secs")], "must be at least 1");
            }
            if policy.hub.echo_public_key.is_none() {
                cx.err("needs `hub.echo-public-key` to check the hub's signed echo");
            }
        }
        Requirement::Beacon(r) => {
            if r.address.port() == 0 {
                cx.push_err(&[key("address")], "needs a port");
            }
            if r.address.ip().is_unspecified() || r.address.ip().is_multicast() {
                cx.push_err(&[key("address")], "needs a unicast address");
            }
            if r.timeout_ms == 0 || r.timeout_ms > BEACON_TIMEOUT_MAX_MS {
                cx.push_err(&[key("timeout-ms")], format!("must be 1..={BEACON_TIMEOUT_MAX_MS}"));
            }
            if r.max_age_ms == 0 {
                cx.push_err(&[key("max-age-ms")], "must be at least 1");
            }
            if r.id.as_deref().is_some_and(|s| s.is_empty() || s.len() > 255) {
                cx.push_err(&[key("id")], "must be 1 to 255 bytes");
            }
        }
        Requirement::RoomCode(r) => {
            if r.room.trim().is_empty() {
                cx.push_err(&[key("room")], "must not be empty");
            }
            if !ROOM_CODE_STEP_RANGE.contains(&r.step_secs) {
                cx.push_err(
                    &[key("step-secs")],
                    format!(
                        "must be {}..={} seconds, found {}",
                        ROOM_CODE_STEP_RANGE.start(),
                        ROOM_CODE_STEP_RANGE.end(),
                        r.step_secs
                    ),
                );
            }
            if !ROOM_CODE_DIGITS_RANGE.contains(&r.digits) {
                cx.push_err(
                    &[key("digits")],
                    format!(
                        "must be {}..={}, found {}",
                        ROOM_CODE_DIGITS_RANGE.start(),
                        ROOM_CODE_DIGITS_RANGE.end(),
                        r.digits
                    ),
                );
            }
        }
        Requirement::AllOf(v) | Requirement::AnyOf(v) => {
            if v.is_empty() {
                cx.err("an empty group: list at least one requirement");
            }
            for (i, inner) in v.iter().enumerate() {
                cx.at(PathSeg::Index(i), |cx| validate_requirement(cx, policy, inner));
            }
        }
    });
}

fn validate_rule(cx: &mut Ctx, rule: &ProcessRule) {
    if rule.name.is_none()
        && rule.exe.is_none()
        && rule.exe_sha256.is_none()
        && rule.cmdline.is_none()
        && rule.parent.is_none()
    {
        cx.err("a process rule needs at least one of name, exe, exe-sha256, cmdline, parent");
    }
    for (field, value) in [
        ("name", &rule.name),
        ("exe", &rule.exe),
        ("cmdline", &rule.cmdline),
        ("parent", &rule.parent),
    ] {
        if let Some(v) = value {
            if v.is_empty() || v.chars().all(|c| c == '*') {
                cx.push_err(&[key(field)], "a pattern that matches everything is not allowed here");
            }
        }
    }
}

fn validate_processes(cx: &mut Ctx, policy: &Policy) {
    let p = &policy.processes;
    if p.sweep_interval_ms < 100 {
        cx.push_err(&[key("sweep-interval-ms")], "must be at least 100");
    }
    if p.kill_grace_ms > 10_000 {
        cx.push_err(&[key("kill-grace-ms")], "must be at most 10000");
    }
    for (list, rules) in [("deny", &p.deny), ("allow", &p.allow)] {
        for (i, rule) in rules.iter().enumerate() {
            cx.at(key(list), |cx| cx.at(PathSeg::Index(i), |cx| validate_rule(cx, rule)));
        }
    }
    let mut ids = HashSet::new();
    for (i, acc) in p.accommodations.iter().enumerate() {
        cx.at(key("accommodation"), |cx| {
            cx.at(PathSeg::Index(i), |cx| {
                if acc.id.trim().is_empty() {
                    cx.push_err(&[key("id")], "must not be empty");
                } else if !ids.insert(acc.id.as_str()) {
                    cx.push_err(&[key("id")], format!("duplicate accommodation id `{}`", acc.id));
                }
                if acc.allow.is_empty() {
                    cx.push_err(&[key("allow")], "an accommodation needs at least one allowed tool");
                }
                for (j, rule) in acc.allow.iter().enumerate() {
                    cx.at(key("allow"), |cx| cx.at(PathSeg::Index(j), |cx| validate_rule(cx, rule)));
                }
            })
        });
    }
}

#[cfg(test)]
mod tests {
    use super::check_hub_url;

    #[test]
    fn hub_urls() {
        assert!(check_hub_url("https://hub.school.nl").is_ok());
        assert!(check_hub_url("https://hub.school.nl:8443/api").is_ok());
        assert!(check_hub_url("http://127.0.0.1:8080").is_ok());
        assert!(check_hub_url("http://[::1]:8080").is_ok());
        assert!(check_hub_url("http://localhost").is_ok());
        assert!(check_hub_url("http://hub.school.nl").is_err());
        assert!(check_hub_url("ftp://hub").is_err());
        assert!(check_hub_url("hub.school.nl").is_err());
        assert!(check_hub_url("https://").is_err());
        assert!(check_hub_url("https://user@evil").is_err());
    }
}
