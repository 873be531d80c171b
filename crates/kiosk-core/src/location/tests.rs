//! Decision tests over fake collectors.

use super::*;
use exam_policy::{parse_policy, SigningKey};
use std::path::Path;

struct Fake {
    interfaces: Result<Vec<InterfaceAddr>, String>,
    gateways: Result<Vec<Gateway>, String>,
    wifi: WifiObservation,
}

impl NetworkPlatform for Fake {
    fn interfaces(&self) -> Result<Vec<InterfaceAddr>, String> {
        self.interfaces.clone()
    }
    fn gateways(&self, _resolve: &[std::net::IpAddr]) -> Result<Vec<Gateway>, String> {
        self.gateways.clone()
    }
    fn wifi(&self) -> WifiObservation {
        self.wifi.clone()
    }
}

fn addr(iface: &str, a: &str, p: u8) -> InterfaceAddr {
    InterfaceAddr { interface: iface.into(), addr: a.parse().unwrap(), prefix: p }
}

fn in_room() -> Fake {
    Fake {
        interfaces: Ok(vec![addr("lo", "127.0.0.1", 8), addr("eth0", "10.20.4.17", 24)]),
        gateways: Ok(vec![Gateway { interface: "eth0".into(), ip: "10.20.4.1".parse().unwrap(), mac: Some("00:1b:21:3a:04:01".parse().unwrap()) }]),
        wifi: WifiObservation::none("no Wi-Fi tool"),
    }
}

fn at_home() -> Fake {
    Fake {
        interfaces: Ok(vec![addr("lo", "127.0.0.1", 8), addr("wlan0", "192.168.1.23", 24)]),
        gateways: Ok(vec![Gateway { interface: "wlan0".into(), ip: "192.168.1.1".parse().unwrap(), mac: Some("aa:bb:cc:dd:ee:ff".parse().unwrap()) }]),
        wifi: WifiObservation {
            links: vec![WifiLink { interface: Some("wlan0".into()), ssid: "Ziggo123".into(), bssid: "aa:bb:cc:dd:ee:01".parse().ok() }],
            source: "nmcli".into(),
            note: None,
        },
    }
}

const CA: &str = r#"ca-file = "example-school-ca.pem"
ca-sha256 = "a41e01a5be2641429a5be3c9aa22de6bccfc15a034273319c83a729333f5c541""#;

fn policy(locations: &str, echo_key: Option<&str>) -> exam_policy::Policy {
    let echo = echo_key.map(|k| format!("echo-public-key = \"{k}\"")).unwrap_or_default();
    let text = format!("version = 1\nname = \"t\"\nprofile = \"byod\"\n[hub]\nurl = \"https://hub\"\n{CA}\n{echo}\n{locations}");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies");
    parse_policy(&text, "t.toml", Some(&dir)).unwrap_or_else(|e| panic!("{e}"))
}

fn input(v: &mut RoomCodeVerifier) -> ProbeInput<'_> {
    ProbeInput {
        device_id: "kiosk-1".into(),
        room_code: None,
        room_codes: v,
        hub_echo: None,
        hub_echo_nonce: None,
        policy_dir: None,
    }
}

const WIRED: &str = r#"
[[location]]
name = "B2.04"
evidence = [
  { interface = { cidrs = ["10.20.4.0/24"] } },
  { gateway = { ip = "10.20.4.1", mac = "00:1b:21:3a:04:01" } },
]
[[location]]
name = "B2.05"
evidence = [ { interface = { cidrs = ["10.20.5.0/24"] } } ]
"#;

#[test]
fn wired_room_approved_and_home_refused() {
    let p = policy(WIRED, None);
    let mut v = RoomCodeVerifier::new();
    let ev = gather(&p, &in_room(), input(&mut v));
    let d = decide(&p, &ev);
    let Decision::Approved { location, held } = &d else { panic!("{d:?}") };
    assert_eq!(location, "B2.04");
    assert_eq!(held.len(), 2);
    assert!(held[0].detail.contains("eth0 has 10.20.4.17/24"), "{held:?}");

    let ev = gather(&p, &at_home(), input(&mut v));
    let d = decide(&p, &ev);
    let Decision::Refused { locations } = &d else { panic!("{d:?}") };
    assert_eq!(locations.len(), 2, "every location listed");
    assert_eq!(locations[0].failed.len(), 2, "every failed requirement: {locations:?}");
    assert!(locations[0].failed[0].detail.contains("no interface address in 10.20.4.0/24"));
    assert!(locations[0].failed[1].detail.contains("default gateway is not 10.20.4.1"));
    assert_eq!(locations[0].failed[1].path, "evidence[1]");
    // Serialisable for the journal.
    let json = serde_json::to_string(&d).unwrap();
    assert!(json.contains("\"decision\":\"refused\""));
    assert_eq!(serde_json::from_str::<Decision>(&json).unwrap(), d);
    let ev_json = serde_json::to_string(&ev).unwrap();
    assert_eq!(serde_json::from_str::<Evidence>(&ev_json).unwrap(), ev);
}

#[test]
fn spoofed_ip_without_gateway_mac_fails() {
    let p = policy(WIRED, None);
    let mut fake = at_home();
    fake.interfaces = Ok(vec![addr("eth0", "10.20.4.99", 24)]);
    fake.gateways = Ok(vec![Gateway { interface: "eth0".into(), ip: "10.20.4.1".parse().unwrap(), mac: Some("aa:bb:cc:dd:ee:ff".parse().unwrap()) }]);
    let mut v = RoomCodeVerifier::new();
    let d = decide(&p, &gather(&p, &fake, input(&mut v)));
    let Decision::Refused { locations } = d else { panic!() };
    assert_eq!(locations[0].failed.len(), 1);
    assert!(locations[0].failed[0].detail.contains("has MAC aa:bb:cc:dd:ee:ff, expected 00:1b:21:3a:04:01"));
    // Without an entry in the neighbour table.
    fake.gateways = Ok(vec![Gateway { interface: "eth0".into(), ip: "10.20.4.1".parse().unwrap(), mac: None }]);
    let d = decide(&p, &gather(&p, &fake, input(&mut v)));
    assert!(serde_json::to_string(&d).unwrap().contains("no MAC in the neighbour table"));
}

#[test]
fn collector_errors_become_reasons() {
    let p = policy(WIRED, None);
    let fake = Fake { interfaces: Err("ip: exploded".into()), gateways: Err("no /proc".into()), wifi: WifiObservation::none("x") };
    let mut v = RoomCodeVerifier::new();
    let d = decide(&p, &gather(&p, &fake, input(&mut v)));
    let s = serde_json::to_string(&d).unwrap();
    assert!(s.contains("interfaces not collected: ip: exploded") && s.contains("gateways not collected: no /proc"), "{s}");
}

#[test]
fn byod_any_of_room_code_or_beacon() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c112.secret"), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n").unwrap();
    let key = SigningKey::generate().unwrap();
    // A closed port on loopback: the beacon fails quickly.
    let closed = std::net::UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let locs = format!(
        r#"
[[location]]
name = "C1.12"
evidence = [
  {{ wifi = {{ ssid = "ROC-Examen", bssids = ["3c:28:6d:c1:12:01"] }} }},
  {{ any-of = [
      {{ beacon = {{ address = "{closed}", public-key = "{}", timeout-ms = 100 }} }},
      {{ room-code = {{ room = "C1.12", secret = "file:c112.secret" }} }},
  ] }},
]"#,
        key.public_key()
    );
    let p = policy(&locs, None);
    let mut fake = at_home();
    fake.wifi.links[0] = WifiLink { interface: Some("wlan0".into()), ssid: "ROC-Examen".into(), bssid: "3c:28:6d:c1:12:01".parse().ok() };
    let mut v = RoomCodeVerifier::new();
    let secret = totp::base32_decode("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").unwrap();
    let code = totp::totp(&secret, exam_policy::TotpAlgorithm::Sha1, beacon::unix_ms() / 1000, 30, 6);

    // No code: refused, with both alternatives named.
    let mut inp = input(&mut v);
    inp.policy_dir = Some(dir.path().into());
    let d = decide(&p, &gather(&p, &fake, inp));
    let Decision::Refused { locations } = &d else { panic!("{d:?}") };
    assert_eq!(locations[0].failed.len(), 2, "{:?}", locations[0].failed);
    assert_eq!(locations[0].failed[0].kind, "beacon");
    assert_eq!(locations[0].failed[1].detail, "no room code entered");

    // The right code: approved, the failed beacon is not listed as held.
    let mut inp = input(&mut v);
    inp.policy_dir = Some(dir.path().into());
    inp.room_code = Some(code.clone());
    let d = decide(&p, &gather(&p, &fake, inp));
    let Decision::Approved { held, .. } = &d else { panic!("{d:?}") };
    assert_eq!(held.iter().map(|c| c.kind.as_str()).collect::<Vec<_>>(), vec!["wifi", "room-code"]);

    // The same code again: refused as reused.
    let mut inp = input(&mut v);
    inp.policy_dir = Some(dir.path().into());
    inp.room_code = Some(code);
    let d = decide(&p, &gather(&p, &fake, inp));
    assert!(serde_json::to_string(&d).unwrap().contains("already used"), "{d:?}");

    // Wrong access point.
    fake.wifi.links[0].bssid = "3c:28:6d:00:00:01".parse().ok();
    let mut inp = input(&mut v);
    inp.policy_dir = Some(dir.path().into());
    let d = decide(&p, &gather(&p, &fake, inp));
    assert!(serde_json::to_string(&d).unwrap().contains("connected to ROC-Examen (3c:28:6d:00:00:01) instead"));
}

#[test]
fn hub_source_echo() {
    let hub = SigningKey::generate().unwrap();
    let locs = r#"
[[location]]
name = "C1.12"
evidence = [ { hub-source = { cidrs = ["198.51.100.0/28"], max-age-secs = 60 } } ]"#;
    let p = policy(locs, Some(&hub.public_key().to_string()));
    let nonce = "ab".repeat(32);
    let echo = |ip: &str, t: u64| {
        super::hub_echo::sign(HubEcho { device_id: "kiosk-1".into(), nonce: nonce.clone(), observed: ip.parse().unwrap(), time_ms: t }, &hub)
    };
    let now = beacon::unix_ms();
    let mut v = RoomCodeVerifier::new();
    let run = |e: Option<SignedHubEcho>, v: &mut RoomCodeVerifier| {
        let mut inp = input(v);
        inp.hub_echo = e;
        inp.hub_echo_nonce = Some(nonce.clone());
        let ev = gather(&p, &in_room(), inp);
        decide(&p, &ev)
    };
    assert!(run(Some(echo("198.51.100.3", now)), &mut v).is_approved());
    let s = |d: Decision| serde_json::to_string(&d).unwrap();
    assert!(s(run(Some(echo("203.0.113.9", now)), &mut v)).contains("outside 198.51.100.0/28"));
    assert!(s(run(Some(echo("198.51.100.3", now - 120_000)), &mut v)).contains("old (max 60 s)"));
    assert!(s(run(None, &mut v)).contains("hub not reached"));
    let mut forged = echo("203.0.113.9", now);
    forged.echo.observed = "198.51.100.3".parse().unwrap();
    assert!(s(run(Some(forged), &mut v)).contains("bad signature"));
    let other = super::hub_echo::sign(
        HubEcho { device_id: "kiosk-1".into(), nonce: "cd".repeat(32), observed: "198.51.100.3".parse().unwrap(), time_ms: now },
        &hub,
    );
    assert!(s(run(Some(other), &mut v)).contains("replayed"));
}

#[test]
fn demo_policy_on_this_machine() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/demo.toml");
    let p = exam_policy::load_policy_file(&path).unwrap();
    let mut v = RoomCodeVerifier::new();
    let ev = gather(&p, platform::native().as_ref(), input(&mut v));
    let d = decide(&p, &ev);
    // Loopback exists everywhere, so the demo is approved (by the beacon
    // location if a demo beacon happens to run, else the plain one).
    assert!(d.is_approved(), "{d:?}");
}
