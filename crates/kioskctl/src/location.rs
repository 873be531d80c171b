//! `kioskctl location probe`: gather location evidence and decide.

use crate::exit::{self, Outcome};
use anyhow::Context;
use clap::Subcommand;
use exam_policy::{is_bundle, parse_bundle, parse_bundle_body, parse_policy, read_text, verify_bundle, Policy, TrustedKeys};
use kiosk_core::location::{
    decide, gather, platform, Collected, Decision, Evidence, HubSourceEvidence, ProbeInput, RoomCodeEvidence,
    RoomCodeVerifier, SignedHubEcho,
};
use std::path::{Path, PathBuf};

/// Location checks.
#[derive(Subcommand)]
pub enum LocationCommand {
    /// Gather the evidence the policy asks for and decide: exit 0 approved,
    /// 1 refused, 2 error.
    Probe {
        /// The policy (TOML, or a signed bundle).
        #[arg(long)]
        policy: PathBuf,
        /// Trusted policy keys: the policy must then be a bundle they signed.
        #[arg(long)]
        trust: Option<PathBuf>,
        /// Print evidence and decision as JSON.
        #[arg(long)]
        json: bool,
        /// The room code the student typed.
        #[arg(long)]
        room_code: Option<String>,
        /// Room-code verifier state (used codes, failures), kept across runs.
        #[arg(long)]
        room_code_state: Option<PathBuf>,
        /// This device's id (default: the host name).
        #[arg(long)]
        device_id: Option<String>,
        /// A signed hub echo (JSON), until the hub client provides it.
        #[arg(long)]
        hub_echo: Option<PathBuf>,
    },
}

/// Runs a `location` subcommand.
pub fn run(cmd: LocationCommand) -> Outcome {
    match cmd {
        LocationCommand::Probe { policy, trust, json, room_code, room_code_state, device_id, hub_echo } => {
            probe(&policy, trust.as_deref(), json, room_code, room_code_state.as_deref(), device_id, hub_echo.as_deref())
                .unwrap_or_else(|e| exit::error(&e))
        }
    }
}

fn load(path: &Path, trust: Option<&Path>) -> anyhow::Result<Policy> {
    let origin = path.display().to_string();
    let text = read_text(path)?;
    Ok(match trust {
        Some(t) => verify_bundle(&text, &origin, path.parent(), &TrustedKeys::load(t)?)?.policy,
        None if is_bundle(&text) => parse_bundle_body(&parse_bundle(&text, &origin)?, &origin, path.parent())?,
        None => parse_policy(&text, &origin, path.parent())?,
    })
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown-device".into())
}

fn probe(
    path: &Path,
    trust: Option<&Path>,
    json: bool,
    room_code: Option<String>,
    state_path: Option<&Path>,
    device_id: Option<String>,
    hub_echo: Option<&Path>,
) -> anyhow::Result<Outcome> {
    let policy = load(path, trust)?;
    let hub_echo: Option<SignedHubEcho> = match hub_echo {
        Some(p) => Some(
            serde_json::from_slice(&std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?)
                .with_context(|| format!("{}: not a signed hub echo", p.display()))?,
        ),
        None => None,
    };
    let mut verifier = match state_path {
        Some(p) => RoomCodeVerifier::load(p).with_context(|| format!("cannot read {}", p.display()))?,
        None => RoomCodeVerifier::new(),
    };
    let nonce = hub_echo.as_ref().map(|e| e.echo.nonce.clone());
    let platform = platform::native();
    let evidence = gather(
        &policy,
        platform.as_ref(),
        ProbeInput {
            device_id: device_id.unwrap_or_else(hostname),
            room_code,
            room_codes: &mut verifier,
            hub_echo,
            hub_echo_nonce: nonce,
            policy_dir: path.parent().map(Path::to_path_buf),
        },
    );
    if let Some(p) = state_path {
        verifier.save(p).with_context(|| format!("cannot write {}", p.display()))?;
    }
    let decision = decide(&policy, &evidence);
    if json {
        let out = serde_json::json!({ "policy": policy.name, "evidence": evidence, "decision": decision });
        outln!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print_human(&policy, &evidence, &decision);
    }
    Ok(if decision.is_approved() { Outcome::Ok } else { Outcome::Failed })
}

fn print_human(policy: &Policy, ev: &Evidence, decision: &Decision) {
    outln!("policy:      {}", policy.name);
    outln!("device:      {}", ev.device_id);
    match &ev.interfaces {
        Collected::Ok(a) => outln!(
            "interfaces:  {}",
            a.iter().map(|a| format!("{} {}/{}", a.interface, a.addr, a.prefix)).collect::<Vec<_>>().join(", ")
        ),
        Collected::Failed(e) => outln!("interfaces:  ({e})"),
    }
    match &ev.gateways {
        Collected::Ok(g) if g.is_empty() => outln!("gateways:    none"),
        Collected::Ok(g) => outln!(
            "gateways:    {}",
            g.iter()
                .map(|g| format!("{} via {} (MAC {})", g.ip, g.interface, g.mac.map(|m| m.to_string()).unwrap_or_else(|| "unknown".into())))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Collected::Failed(e) => outln!("gateways:    ({e})"),
    }
    if ev.wifi.links.is_empty() {
        outln!("wifi:        none ({})", ev.wifi.note.as_deref().unwrap_or(""));
    } else {
        for l in &ev.wifi.links {
            outln!("wifi:        {} via {}", l.ssid, l.bssid.map(|b| b.to_string()).unwrap_or_else(|| "?".into()));
        }
    }
    match &ev.hub_source {
        HubSourceEvidence::Absent => outln!("hub echo:    none"),
        HubSourceEvidence::Verified { observed, .. } => outln!("hub echo:    hub saw {observed}"),
        HubSourceEvidence::Invalid(e) => outln!("hub echo:    INVALID: {e}"),
    }
    for b in &ev.beacons {
        match &b.result {
            Ok(p) => outln!("beacon:      {} ok ({}, {:.2} ms)", b.beacon.address, p.beacon_id, p.rtt_us as f64 / 1000.0),
            Err(e) => outln!("beacon:      {} FAILED: {e}", b.beacon.address),
        }
    }
    match &ev.room_code {
        RoomCodeEvidence::NotEntered => {}
        RoomCodeEvidence::Accepted { room } => outln!("room code:   accepted for {room}"),
        RoomCodeEvidence::Refused(e) => outln!("room code:   REFUSED: {e}"),
        RoomCodeEvidence::Unavailable(e) => outln!("room code:   unavailable: {e}"),
    }
    outln!("gathered in {:.1} ms", ev.duration_us as f64 / 1000.0);
    outln!("");
    match decision {
        Decision::Approved { location, held } => {
            outln!("APPROVED: location {location}");
            for c in held {
                outln!("  ok   {}: {} ({})", c.path, c.requirement, c.detail);
            }
        }
        Decision::Refused { locations } => {
            outln!("REFUSED: not in an approved exam location");
            for l in locations {
                outln!("  location {}:", l.location);
                for c in &l.failed {
                    outln!("    FAIL {}: {}: {}", c.path, c.requirement, c.detail);
                }
            }
        }
    }
}
