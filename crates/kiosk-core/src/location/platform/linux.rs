//! Linux collectors: `ip -j` (iproute2) with `/proc/net` fallbacks, and
//! `nmcli` or `iw` for Wi-Fi. No `unsafe`, no privileges needed.

use super::NetworkPlatform;
use crate::location::{parse, Gateway, InterfaceAddr, WifiObservation};
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};


/// Longest a helper command may run before it is killed.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);

/// The Linux collectors. Paths are fields so tests can point them at fixtures.
#[derive(Debug, Clone)]
pub struct Linux {
    /// Root of procfs (default `/proc`).
    pub proc_root: std::path::PathBuf,
    /// Use `ip` (iproute2) when present.
    pub use_ip_command: bool,
}

impl Default for Linux {
    fn default() -> Self {
        Linux {
            proc_root: "/proc".into(),
            use_ip_command: true,
        }
    }
}

/// Outcome of running a helper.
pub enum RunResult {
    /// Exit 0 with this stdout.
    Ok(String),
    /// The program is not installed.
    Missing,
    /// It failed or timed out.
    Failed(String),
}

/// Runs a command with [`COMMAND_TIMEOUT`], capturing stdout (capped at 4 MiB).
pub fn run(program: &str, args: &[&str]) -> RunResult {
    let mut child = match Command::new(program)
        .args(args)
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return RunResult::Missing,
        Err(e) => return RunResult::Failed(format!("{program}: {e}")),
    };
    let mut stdout = child.stdout.take();
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        if let Some(s) = stdout.as_mut() {
            let _ = s.take(4 << 20).read_to_end(&mut out);
        }
        out
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break Some(st),
            Ok(None) if start.elapsed() < COMMAND_TIMEOUT => std::thread::sleep(Duration::from_millis(1)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let out = reader.join().unwrap_or_default();
    match status {
        Some(st) if st.success() => RunResult::Ok(String::from_utf8_lossy(&out).into_owned()),
        Some(st) => RunResult::Failed(format!("{program} exited with {st}")),
        None => RunResult::Failed(format!("{program} timed out")),
    }
}

impl Linux {
    fn read_proc(&self, rel: &str) -> Result<String, String> {
        let p = self.proc_root.join(rel);
        std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))
    }

    fn neighbours_v6(&self) -> Vec<(std::net::IpAddr, exam_policy::MacAddr, String)> {
        if !self.use_ip_command {
            return Vec::new();
        }
        match run("ip", &["-j", "-6", "neigh", "show"]) {
            RunResult::Ok(json) => parse::ip_neigh_json(&json).unwrap_or_default(),
            _ => Vec::new(),
        }
    }
}

impl NetworkPlatform for Linux {
    fn wifi(&self) -> WifiObservation {
        self.wifi_observation()
    }

    fn interfaces(&self) -> Result<Vec<InterfaceAddr>, String> {
        if self.use_ip_command {
            match run("ip", &["-j", "addr", "show"]) {
                RunResult::Ok(json) => return parse::ip_addr_json(&json),
                RunResult::Missing => {}
                RunResult::Failed(e) => return Err(e),
            }
        }
        // Without iproute2: IPv4 from fib_trie, IPv6 from if_inet6.
        let mut out = parse::proc_fib_trie_local(&self.read_proc("net/fib_trie")?);
        if let Ok(v6) = self.read_proc("net/if_inet6") {
            out.extend(parse::proc_if_inet6(&v6));
        }
        Ok(out)
    }

    fn gateways(&self, resolve: &[std::net::IpAddr]) -> Result<Vec<Gateway>, String> {
        super::with_resolved_macs(resolve, || self.read_gateways())
    }
}

impl Linux {
    fn read_gateways(&self) -> Result<Vec<Gateway>, String> {
        let mut gws = parse::proc_route_v4(&self.read_proc("net/route")?);
        if let Ok(v6) = self.read_proc("net/ipv6_route") {
            gws.extend(parse::proc_route_v6(&v6));
        }
        if gws.is_empty() {
            return Ok(gws);
        }
        let mut neigh = self.read_proc("net/arp").map(|t| parse::proc_arp(&t)).unwrap_or_default();
        if gws.iter().any(|g| g.ip.is_ipv6()) {
            neigh.extend(self.neighbours_v6());
        }
        for g in &mut gws {
            g.mac = neigh
                .iter()
                .find(|(ip, _, dev)| *ip == g.ip && (dev.is_empty() || *dev == g.interface))
                .map(|(_, mac, _)| *mac);
        }
        Ok(gws)
    }
}

impl Linux {
    fn wifi_observation(&self) -> WifiObservation {
        match run("nmcli", &["-t", "-f", "ACTIVE,SSID,BSSID,DEVICE", "device", "wifi", "list", "--rescan", "no"]) {
            RunResult::Ok(text) => {
                let links = parse::nmcli_wifi(&text);
                return if links.is_empty() {
                    WifiObservation::none("nmcli: not connected to Wi-Fi")
                } else {
                    WifiObservation { links, source: "nmcli".into(), note: None }
                };
            }
            RunResult::Failed(_) | RunResult::Missing => {}
        }
        match run("iw", &["dev"]) {
            RunResult::Ok(text) => {
                let mut links = Vec::new();
                for iface in parse::iw_dev_interfaces(&text) {
                    if let RunResult::Ok(link) = run("iw", &["dev", &iface, "link"]) {
                        links.extend(parse::iw_link(&link, &iface));
                    }
                }
                if links.is_empty() {
                    WifiObservation::none("iw: no connected Wi-Fi interface")
                } else {
                    WifiObservation { links, source: "iw".into(), note: None }
                }
            }
            RunResult::Missing => WifiObservation::none("no Wi-Fi tool (nmcli, iw) installed: no Wi-Fi seen"),
            RunResult::Failed(e) => WifiObservation::none(&format!("no Wi-Fi seen ({e})")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_fallbacks_from_fixture_root() {
        let dir = tempfile::tempdir().unwrap();
        let net = dir.path().join("net");
        std::fs::create_dir(&net).unwrap();
        let fx = concat!(env!("CARGO_MANIFEST_DIR"), "/src/location/fixtures/");
        for (from, to) in [
            ("proc-net-route.txt", "route"),
            ("proc-net-arp.txt", "arp"),
            ("fib_trie.txt", "fib_trie"),
        ] {
            std::fs::copy(format!("{fx}{from}"), net.join(to)).unwrap();
        }
        std::fs::write(net.join("if_inet6"), "00000000000000000000000000000001 01 80 10 80       lo\n").unwrap();
        let l = Linux { proc_root: dir.path().into(), use_ip_command: false };
        let gws = l.gateways(&[]).unwrap();
        assert_eq!(gws.len(), 1);
        assert_eq!(gws[0].mac.map(|m| m.to_string()).as_deref(), Some("02:fc:00:00:00:05"));
        let ifs = l.interfaces().unwrap();
        assert!(ifs.iter().any(|a| a.addr == "127.0.0.1".parse::<std::net::IpAddr>().unwrap()));
        assert!(ifs.iter().any(|a| a.addr == "::1".parse::<std::net::IpAddr>().unwrap()));
        let missing = Linux { proc_root: dir.path().join("nope"), use_ip_command: false };
        assert!(missing.gateways(&[]).is_err());
    }

    #[test]
    fn missing_program_is_missing() {
        assert!(matches!(run("definitely-not-a-program-ek3", &[]), RunResult::Missing));
    }
}
