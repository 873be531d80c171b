//! Real network namespaces: a "room" network with a real beacon, a kiosk
//! inside it and a kiosk outside it. Needs root (CI runs as root); otherwise
//! each test prints "SKIPPED: needs root" and returns.
//!
//! Only namespaces and veth pairs created here are touched (never the host's
//! interfaces or routes); every address is in 10.231.0.0/16 inside those
//! namespaces. A Drop guard deletes the namespaces and stops the beacons,
//! also when a test fails.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

fn have_ip() -> bool {
    Command::new("ip").arg("-V").output().map(|o| o.status.success()).unwrap_or(false)
}

/// Written straight to stderr so that the test harness does not capture it.
fn notice(msg: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{msg}");
}

/// Returns true (and prints the skip notice) when the test cannot run here.
fn skip(test: &str) -> bool {
    if !is_root() {
        notice(&format!("SKIPPED: needs root ({test}: creates network namespaces)"));
        return true;
    }
    if !have_ip() {
        notice(&format!("SKIPPED: needs the `ip` command from iproute2 ({test})"));
        return true;
    }
    false
}

fn ip(args: &[&str]) {
    let o = Command::new("ip").args(args).output().expect("run ip");
    assert!(o.status.success(), "ip {}: {}", args.join(" "), String::from_utf8_lossy(&o.stderr));
}

/// Namespaces and processes of one test; removed on drop.
struct Lab {
    prefix: String,
    namespaces: Vec<String>,
    children: Vec<Child>,
    dir: tempfile::TempDir,
}

impl Lab {
    fn new() -> Lab {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        Lab {
            prefix: format!("ek3t{}x{n}", std::process::id()),
            namespaces: Vec::new(),
            children: Vec::new(),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn ns(&mut self, role: &str) -> String {
        let name = format!("{}-{role}", self.prefix);
        ip(&["netns", "add", &name]);
        self.namespaces.push(name.clone());
        ip(&["-n", &name, "link", "set", "lo", "up"]);
        name
    }

    /// A veth pair between two namespaces (created inside `a`, never in the host).
    fn link(&self, a: &str, a_if: &str, a_addr: &str, b: &str, b_if: &str, b_addr: &str) {
        ip(&["-n", a, "link", "add", a_if, "type", "veth", "peer", "name", b_if, "netns", b]);
        ip(&["-n", a, "addr", "add", a_addr, "dev", a_if]);
        ip(&["-n", b, "addr", "add", b_addr, "dev", b_if]);
        ip(&["-n", a, "link", "set", a_if, "up"]);
        ip(&["-n", b, "link", "set", b_if, "up"]);
    }

    fn mac(&self, ns: &str, iface: &str) -> String {
        let o = Command::new("ip").args(["-n", ns, "-j", "link", "show", iface]).output().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v[0]["address"].as_str().unwrap().to_string()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn keygen(&self, name: &str) -> (PathBuf, String) {
        let key = self.path(name);
        let o = kioskctl_host(&["policy", "keygen", "--out", key.to_str().unwrap()]);
        assert!(o.status.success());
        let public = std::fs::read_to_string(self.path(&format!("{name}.pub"))).unwrap();
        (key, public.split_whitespace().next().unwrap().to_string())
    }

    /// Starts `kioskctl beacon serve` inside `ns` and waits until it listens.
    fn beacon(&mut self, ns: &str, key: &Path, listen: &str, id: &str, extra: &[&str]) {
        let mut args = vec![
            "netns", "exec", ns, env!("CARGO_BIN_EXE_kioskctl"), "beacon", "serve", "--key",
            key.to_str().unwrap(), "--listen", listen, "--id", id,
        ];
        args.extend_from_slice(extra);
        let mut child = Command::new("ip").args(&args).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().unwrap();
        // The first stdout line says it is listening.
        let mut out = child.stdout.take().unwrap();
        let mut buf = [0u8; 256];
        let n = std::io::Read::read(&mut out, &mut buf).unwrap_or(0);
        assert!(String::from_utf8_lossy(&buf[..n]).contains("listening"), "beacon did not start");
        self.children.push(child);
    }

    fn probe(&self, ns: &str, policy: &Path) -> (Option<i32>, serde_json::Value, String) {
        let o = Command::new("ip")
            .args([
                "netns", "exec", ns, env!("CARGO_BIN_EXE_kioskctl"), "location", "probe", "--policy",
                policy.to_str().unwrap(), "--json", "--device-id", "kiosk-netns",
            ])
            .output()
            .unwrap();
        let v = serde_json::from_slice(&o.stdout).unwrap_or(serde_json::Value::Null);
        (o.status.code(), v, String::from_utf8_lossy(&o.stderr).into_owned())
    }

    fn policy(&self, name: &str, evidence: &str) -> PathBuf {
        let ca = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/example-school-ca.pem");
        let text = format!(
            r#"version = 1
name = "netns test"
profile = "school-pc"
[hub]
url = "https://hub.example"
ca-file = "{}"
ca-sha256 = "a41e01a5be2641429a5be3c9aa22de6bccfc15a034273319c83a729333f5c541"
[[location]]
name = "room-7"
evidence = [
{evidence}
]
"#,
            ca.display()
        );
        let p = self.path(name);
        std::fs::write(&p, text).unwrap();
        let o = kioskctl_host(&["policy", "check", p.to_str().unwrap()]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        p
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        for ns in &self.namespaces {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

fn kioskctl_host(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kioskctl")).args(args).output().unwrap()
}

/// Failed checks of the first refused location, as "kind: detail".
fn failures(v: &serde_json::Value) -> Vec<String> {
    v["decision"]["locations"][0]["failed"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| format!("{}: {}", c["kind"].as_str().unwrap_or(""), c["detail"].as_str().unwrap_or("")))
                .collect()
        })
        .unwrap_or_default()
}

/// room (10.231.7.1, beacon) <-> kiosk inside (10.231.7.2, gw 10.231.7.1);
/// home router (10.231.8.1) <-> kiosk outside (10.231.8.2, gw 10.231.8.1).
#[test]
fn inside_room_approved_outside_refused() {
    if skip("inside_room_approved_outside_refused") {
        return;
    }
    let mut lab = Lab::new();
    let room = lab.ns("room");
    let inside = lab.ns("in");
    let home = lab.ns("home");
    let kiosk_home = lab.ns("out");
    lab.link(&room, "r0", "10.231.7.1/24", &inside, "k0", "10.231.7.2/24");
    ip(&["-n", &inside, "route", "add", "default", "via", "10.231.7.1"]);
    lab.link(&home, "h0", "10.231.8.1/24", &kiosk_home, "k0", "10.231.8.2/24");
    ip(&["-n", &kiosk_home, "route", "add", "default", "via", "10.231.8.1"]);

    let (key, public) = lab.keygen("beacon.key");
    lab.beacon(&room, &key, "10.231.7.1:7207", "beacon-room7", &[]);
    let mac = lab.mac(&room, "r0");
    let policy = lab.policy(
        "room.toml",
        &format!(
            r#"{{ interface = {{ cidrs = ["10.231.7.0/24"] }} }},
{{ gateway = {{ ip = "10.231.7.1", mac = "{mac}" }} }},
{{ beacon = {{ address = "10.231.7.1:7207", public-key = "{public}", id = "beacon-room7", timeout-ms = 500 }} }},"#
        ),
    );

    let (code, v, err) = lab.probe(&inside, &policy);
    assert_eq!(code, Some(0), "inside: {v:#} {err}");
    assert_eq!(v["decision"]["location"], "room-7");
    let held: Vec<&str> = v["decision"]["held"].as_array().unwrap().iter().map(|c| c["kind"].as_str().unwrap()).collect();
    assert_eq!(held, vec!["interface", "gateway", "beacon"]);
    assert_eq!(v["evidence"]["beacons"][0]["result"]["Ok"]["beacon-id"], "beacon-room7");

    let (code, v, err) = lab.probe(&kiosk_home, &policy);
    assert_eq!(code, Some(1), "outside: {v:#} {err}");
    let f = failures(&v);
    assert_eq!(f.len(), 3, "{f:?}");
    assert!(f[0].starts_with("interface: no interface address in 10.231.7.0/24"), "{f:?}");
    assert!(f[1].starts_with("gateway: default gateway is not 10.231.7.1; seen: 10.231.8.1"), "{f:?}");
    assert!(f[2].starts_with("beacon: not challenged"), "{f:?}");
}

/// A student copies the room's addresses at home (same IP, same gateway IP)
/// behind a fake router: the gateway MAC and the beacon still give it away.
#[test]
fn copied_addresses_do_not_fool_mac_and_beacon() {
    if skip("copied_addresses_do_not_fool_mac_and_beacon") {
        return;
    }
    let mut lab = Lab::new();
    let room = lab.ns("room");
    let fake = lab.ns("fake");
    let kiosk = lab.ns("kiosk");
    // The real room exists only to take the real router's MAC from.
    let inside = lab.ns("in");
    lab.link(&room, "r0", "10.231.7.1/24", &inside, "k0", "10.231.7.2/24");
    let real_mac = lab.mac(&room, "r0");
    lab.link(&fake, "f0", "10.231.7.1/24", &kiosk, "k0", "10.231.7.2/24");
    ip(&["-n", &kiosk, "route", "add", "default", "via", "10.231.7.1"]);
    let (_key, public) = lab.keygen("beacon.key");

    let with_mac = lab.policy(
        "mac.toml",
        &format!(
            r#"{{ interface = {{ cidrs = ["10.231.7.0/24"] }} }},
{{ gateway = {{ ip = "10.231.7.1", mac = "{real_mac}" }} }},"#
        ),
    );
    let (code, v, err) = lab.probe(&kiosk, &with_mac);
    assert_eq!(code, Some(1), "{v:#} {err}");
    let f = failures(&v);
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].contains(&format!("expected {real_mac}")), "{f:?}");

    let with_beacon = lab.policy(
        "beacon.toml",
        &format!(
            r#"{{ interface = {{ cidrs = ["10.231.7.0/24"] }} }},
{{ beacon = {{ address = "10.231.7.1:7207", public-key = "{public}", timeout-ms = 300 }} }},"#
        ),
    );
    let (code, v, err) = lab.probe(&kiosk, &with_beacon);
    assert_eq!(code, Some(1), "{v:#} {err}");
    let f = failures(&v);
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].starts_with("beacon: beacon unreachable") || f[0].starts_with("beacon: no answer"), "{f:?}");
}

/// Inside the room, but a beacon signs with another key, or its clock is off.
#[test]
fn wrong_key_and_stale_beacon_fail_with_reason() {
    if skip("wrong_key_and_stale_beacon_fail_with_reason") {
        return;
    }
    let mut lab = Lab::new();
    let room = lab.ns("room");
    let inside = lab.ns("in");
    lab.link(&room, "r0", "10.231.7.1/24", &inside, "k0", "10.231.7.2/24");
    let (key, public) = lab.keygen("beacon.key");
    let (_other, other_public) = lab.keygen("other.key");
    lab.beacon(&room, &key, "10.231.7.1:7207", "b", &[]);
    lab.beacon(&room, &key, "10.231.7.1:7208", "b", &["--time-offset-ms", "-60000"]);

    let wrong = lab.policy(
        "wrong.toml",
        &format!(r#"{{ beacon = {{ address = "10.231.7.1:7207", public-key = "{other_public}" }} }},"#),
    );
    let (code, v, err) = lab.probe(&inside, &wrong);
    assert_eq!(code, Some(1), "{v:#} {err}");
    assert_eq!(failures(&v), vec!["beacon: bad signature: the answer was not signed by the beacon's key"]);

    let stale = lab.policy(
        "stale.toml",
        &format!(r#"{{ beacon = {{ address = "10.231.7.1:7208", public-key = "{public}", max-age-ms = 5000 }} }},"#),
    );
    let (code, v, err) = lab.probe(&inside, &stale);
    assert_eq!(code, Some(1), "{v:#} {err}");
    let f = failures(&v);
    assert!(f[0].starts_with("beacon: stale answer: beacon time differs -6"), "{f:?}");

    // The good beacon still approves.
    let good = lab.policy(
        "good.toml",
        &format!(r#"{{ beacon = {{ address = "10.231.7.1:7207", public-key = "{public}" }} }},"#),
    );
    let (code, v, _) = lab.probe(&inside, &good);
    assert_eq!(code, Some(0), "{v:#}");
}
