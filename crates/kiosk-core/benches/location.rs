//! A full location check: every collector (interfaces, gateway + MAC, Wi-Fi,
//! room code) plus a beacon round trip on loopback, then the decision.
//! Criterion reports the mean; afterwards a plain loop prints p50/p99.

use criterion::{black_box, Criterion};
use exam_policy::{parse_policy, SigningKey};
use kiosk_core::location::{beacon::BeaconServer, decide, gather, parse, platform, totp, ProbeInput, RoomCodeVerifier};
use std::path::Path;
use std::time::Instant;

const SECRET_B32: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

fn setup() -> (exam_policy::Policy, tempfile::TempDir, kiosk_core::location::beacon::BeaconHandle) {
    let key = SigningKey::generate().expect("key");
    let public = key.public_key();
    let server = BeaconServer::bind("127.0.0.1:0".parse().expect("addr"), key, "bench-beacon").expect("bind");
    let addr = server.local_addr().expect("addr");
    let handle = server.spawn();
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join("room.secret"), SECRET_B32).expect("secret");
    // The host's own default gateway, with its MAC if the neighbour table has
    // it already (so the check sends no packet off this machine).
    let route = std::fs::read_to_string("/proc/net/route").unwrap_or_default();
    let arp = std::fs::read_to_string("/proc/net/arp").unwrap_or_default();
    let gw = parse::proc_route_v4(&route).into_iter().next();
    let gateway = match gw {
        Some(g) => {
            let mac = parse::proc_arp(&arp).into_iter().find(|(ip, _, _)| *ip == g.ip).map(|(_, m, _)| m);
            match mac {
                Some(m) => format!(r#"{{ gateway = {{ ip = "{}", mac = "{m}" }} }},"#, g.ip),
                None => format!(r#"{{ gateway = {{ ip = "{}" }} }},"#, g.ip),
            }
        }
        None => String::new(),
    };
    let ca = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/example-school-ca.pem");
    let text = format!(
        r#"version = 1
name = "bench"
profile = "school-pc"
[hub]
url = "https://hub.example"
ca-file = "{}"
ca-sha256 = "a41e01a5be2641429a5be3c9aa22de6bccfc15a034273319c83a729333f5c541"
[[location]]
name = "bench-room"
evidence = [
  {{ interface = {{ cidrs = ["127.0.0.0/8"] }} }},
  {{ any-of = [ {{ wifi = {{ ssid = "ROC-Examen" }} }}, {{ interface = {{ cidrs = ["::1/128"] }} }} ] }},
  {gateway}
  {{ beacon = {{ address = "{addr}", public-key = "{public}", timeout-ms = 500 }} }},
  {{ room-code = {{ room = "bench", secret = "file:room.secret" }} }},
]
"#,
        ca.display()
    );
    let policy = parse_policy(&text, "bench.toml", Some(dir.path())).expect("policy");
    (policy, dir, handle)
}

fn check(policy: &exam_policy::Policy, dir: &Path, plat: &dyn platform::NetworkPlatform) -> bool {
    let secret = totp::base32_decode(SECRET_B32).unwrap_or_default();
    let code = totp::totp(&secret, exam_policy::TotpAlgorithm::Sha1, kiosk_core::location::beacon::unix_ms() / 1000, 30, 6);
    let mut v = RoomCodeVerifier::new();
    let ev = gather(
        policy,
        plat,
        ProbeInput {
            device_id: "bench".into(),
            room_code: Some(code),
            room_codes: &mut v,
            hub_echo: None,
            hub_echo_nonce: None,
            policy_dir: Some(dir.to_path_buf()),
        },
    );
    let d = decide(policy, &ev);
    if !d.is_approved() {
        eprintln!("{}", serde_json::to_string(&d).unwrap_or_default());
    }
    d.is_approved()
}

fn main() {
    let (policy, dir, _beacon) = setup();
    let plat = platform::native();
    assert!(check(&policy, dir.path(), plat.as_ref()), "the bench location must be approved");

    let mut c = Criterion::default().configure_from_args();
    c.bench_function("location check (all collectors + loopback beacon)", |b| {
        b.iter(|| black_box(check(&policy, dir.path(), plat.as_ref())))
    });
    c.final_summary();

    let n = 500;
    let mut samples: Vec<f64> = (0..n)
        .map(|_| {
            let t = Instant::now();
            black_box(check(&policy, dir.path(), plat.as_ref()));
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    samples.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| samples[((samples.len() as f64 * p).ceil() as usize).clamp(1, samples.len()) - 1];
    println!(
        "location check over {n} runs: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        pct(0.50),
        pct(0.99),
        pct(1.0)
    );
}
