//! Location evidence: is this workstation in an approved exam location?
//!
//! Each collector is independent: interface addresses, default gateway and
//! its MAC, Wi-Fi, the hub's signed echo of our source address, location
//! beacons and the room code. [`gather`] runs them for a policy; [`decide`]
//! turns the evidence into a serialisable [`Decision`] for the journal.
//! What each evidence type proves, and what not: `docs/location.md`.

pub mod beacon;
pub mod hub_echo;
pub mod parse;
pub mod platform;
pub mod totp;

use exam_policy::{canonical_ip, BeaconReq, MacAddr, Policy, Requirement};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::path::PathBuf;

pub use beacon::{BeaconFailure, BeaconProof};
pub use hub_echo::{HubEcho, SignedHubEcho};
pub use platform::NetworkPlatform;
pub use totp::{RoomCodeError, RoomCodeVerifier, RoomSecret};

/// An address on a local interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterfaceAddr {
    /// Interface name (`?` when unknown).
    pub interface: String,
    /// The address.
    pub addr: IpAddr,
    /// Its prefix length.
    pub prefix: u8,
}

/// A default gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gateway {
    /// Outgoing interface.
    pub interface: String,
    /// Gateway address.
    pub ip: IpAddr,
    /// Its MAC from the neighbour table, if there is an entry.
    pub mac: Option<MacAddr>,
}

/// A connected Wi-Fi network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WifiLink {
    /// Interface, when known.
    pub interface: Option<String>,
    /// Network name.
    pub ssid: String,
    /// Access point.
    pub bssid: Option<MacAddr>,
}

/// What the Wi-Fi collector saw. "No Wi-Fi" is an answer, not an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WifiObservation {
    /// Connected networks (empty: none).
    pub links: Vec<WifiLink>,
    /// Which tool answered (`nmcli`, `iw`, or `none`).
    pub source: String,
    /// Why there are no links, when there are none.
    pub note: Option<String>,
}

impl WifiObservation {
    /// No Wi-Fi, with the reason.
    pub fn none(reason: &str) -> Self {
        WifiObservation {
            links: Vec::new(),
            source: "none".into(),
            note: Some(reason.to_string()),
        }
    }
}

/// A collector's result: the data, or why it could not be collected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Collected<T> {
    /// Collected.
    Ok(T),
    /// Not collected, and why.
    Failed(String),
}

impl<T> From<Result<T, String>> for Collected<T> {
    fn from(r: Result<T, String>) -> Self {
        match r {
            Ok(v) => Collected::Ok(v),
            Err(e) => Collected::Failed(e),
        }
    }
}

/// The hub-echo evidence: a verified observed address, or why there is none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HubSourceEvidence {
    /// No echo was supplied (no hub connection yet).
    Absent,
    /// A valid echo.
    Verified {
        /// The address the hub saw.
        observed: IpAddr,
        /// The hub's timestamp.
        hub_time_ms: u64,
    },
    /// An echo that did not verify.
    Invalid(String),
}

/// One beacon challenge and its result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BeaconEvidence {
    /// The beacon requirement as in the policy.
    pub beacon: BeaconReq,
    /// The proof, or the failure.
    pub result: Result<BeaconProof, BeaconFailure>,
}

/// The room-code evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RoomCodeEvidence {
    /// No code was typed.
    NotEntered,
    /// The code is the current code of this room (and was not used before).
    Accepted {
        /// The room.
        room: String,
    },
    /// Refused, and why.
    Refused(RoomCodeError),
    /// The policy asks for a room code but a secret could not be read.
    Unavailable(String),
}

/// Everything gathered for one location check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// The device that checked.
    pub device_id: String,
    /// When, unix ms.
    pub collected_at_ms: u64,
    /// How long gathering took, µs.
    pub duration_us: u64,
    /// Interface addresses.
    pub interfaces: Collected<Vec<InterfaceAddr>>,
    /// Default gateways.
    pub gateways: Collected<Vec<Gateway>>,
    /// Wi-Fi.
    pub wifi: WifiObservation,
    /// The hub's echo.
    pub hub_source: HubSourceEvidence,
    /// Each distinct beacon in the policy.
    pub beacons: Vec<BeaconEvidence>,
    /// The room code.
    pub room_code: RoomCodeEvidence,
}

/// Inputs for [`gather`] beyond the policy.
pub struct ProbeInput<'a> {
    /// This device's id (sent to beacons, expected in the hub echo).
    pub device_id: String,
    /// The room code the student typed, if any.
    pub room_code: Option<String>,
    /// Verifier state (never a code twice, rate limit).
    pub room_codes: &'a mut RoomCodeVerifier,
    /// The hub's signed echo, if the hub client has one.
    pub hub_echo: Option<SignedHubEcho>,
    /// The nonce the kiosk sent to the hub (hex), to bind the echo.
    pub hub_echo_nonce: Option<String>,
    /// Directory that relative secret paths in the policy are relative to.
    pub policy_dir: Option<PathBuf>,
}

fn walk_policy<'a>(policy: &'a Policy, f: &mut dyn FnMut(&'a Requirement)) {
    for loc in &policy.locations {
        for r in &loc.evidence {
            r.walk(f);
        }
    }
}

/// Runs every collector the policy needs. Beacons are challenged in
/// parallel, each with its own timeout.
pub fn gather(policy: &Policy, platform: &dyn NetworkPlatform, input: ProbeInput<'_>) -> Evidence {
    let started = std::time::Instant::now();
    let collected_at_ms = beacon::unix_ms();

    let mut beacon_reqs: Vec<&BeaconReq> = Vec::new();
    let mut room_reqs = Vec::new();
    let (mut need_wifi, mut need_gw, mut need_if) = (false, false, false);
    let mut resolve = Vec::new();
    walk_policy(policy, &mut |r| match r {
        Requirement::Beacon(b) if !beacon_reqs.contains(&b) => beacon_reqs.push(b),
        Requirement::RoomCode(rc) => room_reqs.push(rc),
        Requirement::Wifi(_) => need_wifi = true,
        Requirement::Gateway(g) => {
            need_gw = true;
            if g.mac.is_some() {
                resolve.push(g.ip);
            }
        }
        Requirement::Interface(_) => need_if = true,
        _ => {}
    });

    const NOT_NEEDED: &str = "not needed by the policy";
    let interfaces = if need_if { platform.interfaces().into() } else { Collected::Failed(NOT_NEEDED.into()) };
    let gateways = if need_gw { platform.gateways(&resolve).into() } else { Collected::Failed(NOT_NEEDED.into()) };
    let wifi = if need_wifi {
        platform.wifi()
    } else {
        WifiObservation::none(NOT_NEEDED)
    };

    let hub_source = match (&input.hub_echo, &policy.hub.echo_public_key) {
        (None, _) => HubSourceEvidence::Absent,
        (Some(_), None) => HubSourceEvidence::Invalid("the policy has no hub echo key".into()),
        (Some(echo), Some(key)) => match hub_echo::verify(echo, key, &input.device_id, input.hub_echo_nonce.as_deref()) {
            Ok(()) => HubSourceEvidence::Verified {
                observed: echo.echo.observed,
                hub_time_ms: echo.echo.time_ms,
            },
            Err(e) => HubSourceEvidence::Invalid(e),
        },
    };

    let room_code = match (&input.room_code, room_reqs.is_empty()) {
        (None, _) => RoomCodeEvidence::NotEntered,
        (Some(_), true) => RoomCodeEvidence::Unavailable("the policy asks for no room code".into()),
        (Some(code), false) => {
            let mut secrets = Vec::new();
            let mut problem = None;
            for rc in &room_reqs {
                match RoomSecret::from_req(rc, input.policy_dir.as_deref()) {
                    Ok(s) => secrets.push(s),
                    Err(e) => problem = Some(e),
                }
            }
            if secrets.is_empty() {
                RoomCodeEvidence::Unavailable(problem.unwrap_or_default())
            } else {
                match input.room_codes.verify(code, &secrets, beacon::unix_ms()) {
                    Ok(room) => RoomCodeEvidence::Accepted { room },
                    Err(e) => RoomCodeEvidence::Refused(e),
                }
            }
        }
    };

    let mut evidence = Evidence {
        device_id: input.device_id,
        collected_at_ms,
        duration_us: 0,
        interfaces,
        gateways,
        wifi,
        hub_source,
        beacons: Vec::new(),
        room_code,
    };

    // Beacons last, in parallel, and only those of locations that can still
    // hold: a kiosk at home does not send challenges to school addresses.
    let wanted: Vec<&BeaconReq> = beacon_reqs
        .iter()
        .copied()
        .filter(|b| {
            policy.locations.iter().any(|loc| {
                let req = loc.requirement();
                let mut uses = false;
                req.walk(&mut |r| uses |= matches!(r, Requirement::Beacon(x) if x == *b));
                uses && eval("", &req, &evidence, collected_at_ms, true).0
            })
        })
        .collect();
    let device_id = evidence.device_id.clone();
    let probed: Vec<Result<BeaconProof, BeaconFailure>> = std::thread::scope(|s| {
        let handles: Vec<_> = wanted
            .iter()
            .map(|b| {
                let id = device_id.as_str();
                s.spawn(move || beacon::probe(b, id))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(BeaconFailure::Local("beacon check crashed".into()))))
            .collect()
    });
    let probed: Vec<(&BeaconReq, Result<BeaconProof, BeaconFailure>)> = wanted.into_iter().zip(probed).collect();
    evidence.beacons = beacon_reqs
        .iter()
        .map(|b| BeaconEvidence {
            beacon: (*b).clone(),
            result: probed
                .iter()
                .find(|(w, _)| *w == *b)
                .map(|(_, r)| r.clone())
                .unwrap_or(Err(BeaconFailure::NotChallenged)),
        })
        .collect();
    evidence.duration_us = started.elapsed().as_micros() as u64;
    evidence
}

/// One leaf requirement and whether it held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// Where in the location's evidence, e.g. `evidence[2].any-of[0]`.
    pub path: String,
    /// The evidence kind, e.g. `beacon`.
    pub kind: String,
    /// What was required, e.g. `beacon 10.20.4.2:7207`.
    pub requirement: String,
    /// Whether it held.
    pub held: bool,
    /// What was seen, or why it failed.
    pub detail: String,
}

/// A location that did not match, with every requirement that failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationRefusal {
    /// The location.
    pub location: String,
    /// The failed requirements.
    pub failed: Vec<Check>,
}

/// The outcome of a location check (goes into the journal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "decision")]
pub enum Decision {
    /// In an approved location.
    Approved {
        /// The first location whose evidence held.
        location: String,
        /// The evidence that held.
        held: Vec<Check>,
    },
    /// Not in any approved location.
    Refused {
        /// Per location, every failed requirement.
        locations: Vec<LocationRefusal>,
    },
}

impl Decision {
    /// Whether approved.
    pub fn is_approved(&self) -> bool {
        matches!(self, Decision::Approved { .. })
    }
}

fn leaf(path: &str, req: &Requirement, requirement: String, result: Result<String, String>) -> (bool, Vec<Check>, Vec<Check>) {
    let (held, detail) = match result {
        Ok(d) => (true, d),
        Err(d) => (false, d),
    };
    let check = Check {
        path: path.to_string(),
        kind: req.kind().to_string(),
        requirement,
        held,
        detail,
    };
    if held {
        (true, vec![check], vec![])
    } else {
        (false, vec![], vec![check])
    }
}

fn list<T: std::fmt::Display>(items: &[T]) -> String {
    items.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

/// Evaluates one requirement: (held, leaves that held, leaves that failed).
fn eval(path: &str, req: &Requirement, ev: &Evidence, now_ms: u64, optimistic: bool) -> (bool, Vec<Check>, Vec<Check>) {
    match req {
        Requirement::AllOf(v) | Requirement::AnyOf(v) => {
            let all = matches!(req, Requirement::AllOf(_));
            let (mut held, mut failed) = (Vec::new(), Vec::new());
            let mut count = 0;
            for (i, r) in v.iter().enumerate() {
                let sub = if path.is_empty() {
                    format!("evidence[{i}]")
                } else {
                    format!("{path}.{}[{i}]", req.kind())
                };
                let (ok, h, f) = eval(&sub, r, ev, now_ms, optimistic);
                count += usize::from(ok);
                held.extend(h);
                failed.extend(f);
            }
            let ok = if all { count == v.len() } else { count > 0 };
            if all || !ok {
                (ok, held, failed)
            } else {
                // any-of that held: failed alternatives are not failures.
                (ok, held, Vec::new())
            }
        }
        Requirement::Interface(r) => {
            let want = format!("an address in {}{}", list(&r.cidrs), r.interface.as_ref().map(|i| format!(" on {i}")).unwrap_or_default());
            let result = match &ev.interfaces {
                Collected::Failed(e) => Err(format!("interfaces not collected: {e}")),
                Collected::Ok(addrs) => {
                    let hit = addrs.iter().find(|a| {
                        r.interface.as_ref().is_none_or(|i| *i == a.interface)
                            && r.cidrs.iter().any(|c| c.contains(&canonical_ip(a.addr)))
                    });
                    match hit {
                        Some(a) => Ok(format!("{} has {}/{}", a.interface, a.addr, a.prefix)),
                        None => Err(format!(
                            "no interface address in {}; seen: {}",
                            list(&r.cidrs),
                            addrs.iter().map(|a| format!("{}/{}", a.addr, a.prefix)).collect::<Vec<_>>().join(", ")
                        )),
                    }
                }
            };
            leaf(path, req, want, result)
        }
        Requirement::Gateway(r) => {
            let want = format!("default gateway {}{}", r.ip, r.mac.map(|m| format!(" with MAC {m}")).unwrap_or_default());
            let result = match &ev.gateways {
                Collected::Failed(e) => Err(format!("gateways not collected: {e}")),
                Collected::Ok(gws) => match gws.iter().find(|g| g.ip == r.ip) {
                    None => Err(format!(
                        "default gateway is not {}; seen: {}",
                        r.ip,
                        if gws.is_empty() { "no default gateway".into() } else { gws.iter().map(|g| g.ip.to_string()).collect::<Vec<_>>().join(", ") }
                    )),
                    Some(g) => match (r.mac, g.mac) {
                        (None, _) => Ok(format!("gateway {} on {}", g.ip, g.interface)),
                        (Some(want), Some(have)) if want == have => Ok(format!("gateway {} with MAC {have}", g.ip)),
                        (Some(want), Some(have)) => Err(format!("gateway {} has MAC {have}, expected {want}", g.ip)),
                        (Some(_), None) => Err(format!("gateway {}: no MAC in the neighbour table", g.ip)),
                    },
                },
            };
            leaf(path, req, want, result)
        }
        Requirement::Wifi(r) => {
            let want = if r.bssids.is_empty() {
                format!("Wi-Fi {}", r.ssid)
            } else {
                format!("Wi-Fi {} via {}", r.ssid, list(&r.bssids))
            };
            let hit = ev.wifi.links.iter().find(|l| {
                l.ssid == r.ssid && (r.bssids.is_empty() || l.bssid.is_some_and(|b| r.bssids.contains(&b)))
            });
            let result = match hit {
                Some(l) => Ok(format!("connected to {} via {}", l.ssid, l.bssid.map(|b| b.to_string()).unwrap_or_else(|| "?".into()))),
                None if ev.wifi.links.is_empty() => Err(ev.wifi.note.clone().unwrap_or_else(|| "no Wi-Fi".into())),
                None => Err(format!(
                    "connected to {} instead",
                    ev.wifi.links.iter().map(|l| format!("{} ({})", l.ssid, l.bssid.map(|b| b.to_string()).unwrap_or_default())).collect::<Vec<_>>().join(", ")
                )),
            };
            leaf(path, req, want, result)
        }
        Requirement::HubSource(r) => {
            let want = format!("hub sees us from {}", list(&r.cidrs));
            let result = match &ev.hub_source {
                HubSourceEvidence::Absent => Err("no signed echo from the hub (hub not reached)".into()),
                HubSourceEvidence::Invalid(e) => Err(e.clone()),
                HubSourceEvidence::Verified { observed, hub_time_ms } => {
                    let age = now_ms as i128 - *hub_time_ms as i128;
                    if age.unsigned_abs() > u128::from(r.max_age_secs) * 1000 {
                        Err(format!("hub echo is {} s old (max {} s)", age / 1000, r.max_age_secs))
                    } else if r.cidrs.iter().any(|c| c.contains(observed)) {
                        Ok(format!("hub saw {observed}"))
                    } else {
                        Err(format!("hub saw {observed}, outside {}", list(&r.cidrs)))
                    }
                }
            };
            leaf(path, req, want, result)
        }
        Requirement::Beacon(r) => {
            let want = format!("beacon {}{}", r.address, r.id.as_ref().map(|i| format!(" ({i})")).unwrap_or_default());
            let result = match ev.beacons.iter().find(|b| b.beacon == *r) {
                None if optimistic => Ok("not challenged yet".into()),
                None => Err("beacon was not challenged".into()),
                Some(b) => match &b.result {
                    Ok(p) => Ok(format!("{} answered in {:.1} ms, clock skew {} ms", p.beacon_id, p.rtt_us as f64 / 1000.0, p.clock_skew_ms)),
                    Err(e) => Err(e.to_string()),
                },
            };
            leaf(path, req, want, result)
        }
        Requirement::RoomCode(r) => {
            let want = format!("room code of {}", r.room);
            let result = match &ev.room_code {
                RoomCodeEvidence::NotEntered => Err("no room code entered".into()),
                RoomCodeEvidence::Accepted { room } if *room == r.room => Ok(format!("current code of {room}")),
                RoomCodeEvidence::Accepted { room } => Err(format!("the code is for {room}")),
                RoomCodeEvidence::Refused(e) => Err(e.to_string()),
                RoomCodeEvidence::Unavailable(e) => Err(e.clone()),
            };
            leaf(path, req, want, result)
        }
    }
}

/// Decides: the first location (in policy order) whose evidence holds is
/// approved; otherwise every location is listed with its failures.
pub fn decide(policy: &Policy, evidence: &Evidence) -> Decision {
    decide_at(policy, evidence, beacon::unix_ms())
}

/// [`decide`] at a given time (tests).
pub fn decide_at(policy: &Policy, evidence: &Evidence, now_ms: u64) -> Decision {
    let mut refusals = Vec::new();
    for loc in &policy.locations {
        let (ok, held, failed) = eval("", &loc.requirement(), evidence, now_ms, false);
        if ok {
            return Decision::Approved {
                location: loc.name.clone(),
                held,
            };
        }
        refusals.push(LocationRefusal {
            location: loc.name.clone(),
            failed,
        });
    }
    Decision::Refused { locations: refusals }
}

#[cfg(test)]
mod tests;
