//! Parsers for the Linux sources of network facts: `ip -j addr`, `ip -j
//! neigh`, `/proc/net/{route,ipv6_route,arp,fib_trie,if_inet6}`, `nmcli` and
//! `iw`. Pure functions over text, so each is tested on captured outputs.
//! Malformed lines are skipped, never a panic.

use super::{Gateway, InterfaceAddr, WifiLink};
use exam_policy::MacAddr;
use serde::Deserialize;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

#[derive(Deserialize)]
struct IpLink {
    #[serde(default)]
    ifname: String,
    #[serde(default)]
    addr_info: Vec<IpAddrInfo>,
}

#[derive(Deserialize)]
struct IpAddrInfo {
    #[serde(default)]
    local: Option<String>,
    #[serde(default)]
    prefixlen: Option<u8>,
}

/// Parses `ip -j addr show` output.
pub fn ip_addr_json(json: &str) -> Result<Vec<InterfaceAddr>, String> {
    let links: Vec<IpLink> =
        serde_json::from_str(json).map_err(|e| format!("unexpected `ip -j addr` output: {e}"))?;
    let mut out = Vec::new();
    for link in links {
        for info in link.addr_info {
            let (Some(local), Some(prefix)) = (info.local, info.prefixlen) else {
                continue;
            };
            if let Ok(addr) = local.parse::<IpAddr>() {
                out.push(InterfaceAddr {
                    interface: link.ifname.clone(),
                    addr,
                    prefix,
                });
            }
        }
    }
    Ok(out)
}

/// Parses `/proc/net/if_inet6` (IPv6 addresses when `ip` is missing).
pub fn proc_if_inet6(text: &str) -> Vec<InterfaceAddr> {
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 6 {
                return None;
            }
            let addr = parse_hex_v6(f[0])?;
            let prefix = u8::from_str_radix(f[2], 16).ok()?;
            Some(InterfaceAddr {
                interface: f[5].to_string(),
                addr: IpAddr::V6(addr),
                prefix,
            })
        })
        .collect()
}

/// Parses the local IPv4 host addresses (`/32 host LOCAL`) out of
/// `/proc/net/fib_trie` (IPv4 addresses when `ip` is missing; the interface
/// name is not in that file and is reported as `?`).
pub fn proc_fib_trie_local(text: &str) -> Vec<InterfaceAddr> {
    let mut out: Vec<InterfaceAddr> = Vec::new();
    let mut last: Option<Ipv4Addr> = None;
    for line in text.lines() {
        let t = line.trim();
        if let Some(addr) = t.strip_prefix("|-- ") {
            last = addr.trim().parse().ok();
        } else if t.starts_with("/32 host LOCAL") {
            if let Some(a) = last {
                if !out.iter().any(|x| x.addr == IpAddr::V4(a)) {
                    out.push(InterfaceAddr {
                        interface: "?".into(),
                        addr: IpAddr::V4(a),
                        prefix: 32,
                    });
                }
            }
        }
    }
    out
}

const RTF_GATEWAY: u32 = 0x0002;

/// Default IPv4 gateways from `/proc/net/route` (MAC not yet known).
pub fn proc_route_v4(text: &str) -> Vec<Gateway> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 8 {
                return None;
            }
            let dest = u32::from_str_radix(f[1], 16).ok()?;
            let gw = u32::from_str_radix(f[2], 16).ok()?;
            let flags = u32::from_str_radix(f[3], 16).ok()?;
            let mask = u32::from_str_radix(f[7], 16).ok()?;
            if dest != 0 || mask != 0 || flags & RTF_GATEWAY == 0 || gw == 0 {
                return None;
            }
            // The kernel prints the network-order bytes as a native-endian u32.
            let ip = Ipv4Addr::from(gw.to_ne_bytes());
            Some(Gateway {
                interface: f[0].to_string(),
                ip: IpAddr::V4(ip),
                mac: None,
            })
        })
        .collect()
}

fn parse_hex_v6(s: &str) -> Option<Ipv6Addr> {
    if s.len() != 32 {
        return None;
    }
    u128::from_str_radix(s, 16).ok().map(Ipv6Addr::from)
}

/// Default IPv6 gateways from `/proc/net/ipv6_route`.
pub fn proc_route_v6(text: &str) -> Vec<Gateway> {
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 10 {
                return None;
            }
            let dest = parse_hex_v6(f[0])?;
            let dest_len = u8::from_str_radix(f[1], 16).ok()?;
            let next_hop = parse_hex_v6(f[4])?;
            let flags = u32::from_str_radix(f[8], 16).ok()?;
            if !dest.is_unspecified() || dest_len != 0 || next_hop.is_unspecified() || flags & RTF_GATEWAY == 0 {
                return None;
            }
            Some(Gateway {
                interface: f[9].to_string(),
                ip: IpAddr::V6(next_hop),
                mac: None,
            })
        })
        .collect()
}

/// Complete IPv4 neighbour entries from `/proc/net/arp`: (ip, mac, device).
pub fn proc_arp(text: &str) -> Vec<(IpAddr, MacAddr, String)> {
    const ATF_COM: u32 = 0x2;
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 6 {
                return None;
            }
            let ip: Ipv4Addr = f[0].parse().ok()?;
            let flags = u32::from_str_radix(f[2].trim_start_matches("0x"), 16).ok()?;
            let mac: MacAddr = f[3].parse().ok()?;
            if flags & ATF_COM == 0 || mac.0 == [0; 6] {
                return None;
            }
            Some((IpAddr::V4(ip), mac, f[5].to_string()))
        })
        .collect()
}

#[derive(Deserialize)]
struct Neigh {
    #[serde(default)]
    dst: Option<String>,
    #[serde(default)]
    dev: Option<String>,
    #[serde(default)]
    lladdr: Option<String>,
}

/// Neighbour entries with a link-layer address from `ip -j neigh`.
pub fn ip_neigh_json(json: &str) -> Result<Vec<(IpAddr, MacAddr, String)>, String> {
    let entries: Vec<Neigh> =
        serde_json::from_str(json).map_err(|e| format!("unexpected `ip -j neigh` output: {e}"))?;
    Ok(entries
        .into_iter()
        .filter_map(|n| {
            let ip = n.dst?.parse().ok()?;
            let mac = n.lladdr?.parse().ok()?;
            Some((ip, mac, n.dev.unwrap_or_default()))
        })
        .collect())
}

/// Splits one `nmcli -t` line into fields (`\:` and `\\` are escapes).
fn nmcli_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    if let Some(last) = fields.last_mut() {
                        last.push(n);
                    }
                }
            }
            ':' => fields.push(String::new()),
            c => {
                if let Some(last) = fields.last_mut() {
                    last.push(c);
                }
            }
        }
    }
    fields
}

/// Active Wi-Fi links from `nmcli -t -f ACTIVE,SSID,BSSID,DEVICE device wifi list --rescan no`.
pub fn nmcli_wifi(text: &str) -> Vec<WifiLink> {
    text.lines()
        .filter_map(|line| {
            let f = nmcli_fields(line);
            if f.len() < 3 || f[0] != "yes" {
                return None;
            }
            Some(WifiLink {
                interface: f.get(3).filter(|s| !s.is_empty()).cloned(),
                ssid: f[1].clone(),
                bssid: f[2].parse().ok(),
            })
        })
        .collect()
}

/// Managed (station) interfaces from `iw dev`.
pub fn iw_dev_interfaces(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let t = line.trim();
        if let Some(name) = t.strip_prefix("Interface ") {
            current = Some(name.trim().to_string());
        } else if t == "type managed" {
            if let Some(name) = current.take() {
                out.push(name);
            }
        }
    }
    out
}

/// The link from `iw dev IFACE link`; `None` when not connected.
pub fn iw_link(text: &str, interface: &str) -> Option<WifiLink> {
    let mut bssid = None;
    let mut ssid = None;
    for line in text.lines() {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("Connected to ") {
            bssid = rest.split_whitespace().next().and_then(|m| m.parse().ok());
        } else if let Some(s) = t.strip_prefix("SSID: ") {
            ssid = Some(s.to_string());
        }
    }
    Some(WifiLink {
        interface: Some(interface.to_string()),
        ssid: ssid?,
        bssid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const IP_ADDR_HOST: &str = include_str!("fixtures/ip-addr-host.json");
    const IP_ADDR_NETNS: &str = include_str!("fixtures/ip-addr-netns.json");

    #[test]
    fn ip_addr_host_fixture() {
        let a = ip_addr_json(IP_ADDR_HOST).unwrap();
        assert!(a.iter().any(|x| x.interface == "lo" && x.addr == "127.0.0.1".parse::<IpAddr>().unwrap() && x.prefix == 8));
        assert!(a.iter().any(|x| x.interface == "lo" && x.addr == "::1".parse::<IpAddr>().unwrap() && x.prefix == 128));
        assert!(a.iter().any(|x| x.interface == "eth0" && x.addr.is_ipv4()));
    }

    #[test]
    fn ip_addr_netns_fixture() {
        let a = ip_addr_json(IP_ADDR_NETNS).unwrap();
        assert!(a.iter().any(|x| x.addr == "10.231.1.2".parse::<IpAddr>().unwrap() && x.prefix == 24), "{a:?}");
    }

    #[test]
    fn ip_addr_garbage() {
        assert!(ip_addr_json("not json").is_err());
        assert!(ip_addr_json("[]").unwrap().is_empty());
        let odd = r#"[{"ifname":"x","addr_info":[{"local":"nope","prefixlen":8},{"prefixlen":3},{"local":"10.0.0.1","prefixlen":24}]}]"#;
        assert_eq!(ip_addr_json(odd).unwrap().len(), 1);
    }

    #[test]
    fn proc_routes() {
        let gws = proc_route_v4(include_str!("fixtures/proc-net-route.txt"));
        assert_eq!(gws.len(), 1);
        assert_eq!(gws[0].ip, "192.0.2.1".parse::<IpAddr>().unwrap());
        assert_eq!(gws[0].interface, "eth0");
        let v6 = proc_route_v6(include_str!("fixtures/ipv6_route-gw.txt"));
        assert_eq!(v6.len(), 1, "{v6:?}");
        assert_eq!(v6[0].ip, "fe80::1".parse::<IpAddr>().unwrap());
        let host6 = proc_route_v6(include_str!("fixtures/proc-net-ipv6_route.txt"));
        assert_eq!(host6[0].ip, "fd00::1".parse::<IpAddr>().unwrap());
        assert!(proc_route_v4("Iface\nbogus line\n\n").is_empty());
        assert!(proc_route_v6("zz 00 zz").is_empty());
    }

    #[test]
    fn neighbours() {
        let arp = proc_arp(include_str!("fixtures/proc-net-arp.txt"));
        assert_eq!(arp[0].0, "192.0.2.1".parse::<IpAddr>().unwrap());
        assert_eq!(arp[0].1.to_string(), "02:fc:00:00:00:05");
        let incomplete = "IP address HW type Flags HW address Mask Device\n10.0.0.1 0x1 0x0 00:00:00:00:00:00 * eth0\n";
        assert!(proc_arp(incomplete).is_empty());
        let n = ip_neigh_json(include_str!("fixtures/ip-neigh6.json")).unwrap();
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].1.to_string(), "00:1b:21:3a:04:01");
        assert!(ip_neigh_json(include_str!("fixtures/ip-neigh6-host.json")).unwrap().is_empty());
    }

    #[test]
    fn fallbacks() {
        let v4 = proc_fib_trie_local(include_str!("fixtures/fib_trie.txt"));
        assert!(v4.iter().any(|a| a.addr == "127.0.0.1".parse::<IpAddr>().unwrap()));
        let v6 = proc_if_inet6("fd000000000000000000000000000002 04 40 00 82     eth0\nshort\n");
        assert_eq!(v6[0].addr, "fd00::2".parse::<IpAddr>().unwrap());
        assert_eq!(v6[0].prefix, 64);
    }

    #[test]
    fn wifi_outputs() {
        let links = nmcli_wifi(include_str!("fixtures/nmcli-wifi.txt"));
        assert_eq!(links.len(), 1);
        assert_eq!(links[0].ssid, "ROC-Examen");
        assert_eq!(links[0].bssid.unwrap().to_string(), "3c:28:6d:c1:12:01");
        assert_eq!(links[0].interface.as_deref(), Some("wlp2s0"));
        assert_eq!(nmcli_fields(r"yes:Cafe\:Gast:AA\:BB"), vec!["yes", "Cafe:Gast", "AA:BB"]);
        assert!(nmcli_wifi("").is_empty());
        assert_eq!(iw_dev_interfaces(include_str!("fixtures/iw-dev.txt")), vec!["wlp2s0"]);
        let l = iw_link(include_str!("fixtures/iw-link.txt"), "wlp2s0").unwrap();
        assert_eq!(l.ssid, "ROC-Examen");
        assert_eq!(l.bssid.unwrap().to_string(), "3c:28:6d:c1:12:01");
        assert!(iw_link(include_str!("fixtures/iw-link-none.txt"), "wlp2s0").is_none());
    }
}

/// The address in a Windows `SOCKADDR` (`SOCKADDR_IN` or `SOCKADDR_IN6`), as
/// its raw bytes: the family (little-endian `u16`, 2 = IPv4, 23 = IPv6 on
/// Windows) then the port, then the address. `None` for another family or a
/// buffer too short for it. Pure, so it is tested on every platform; the
/// Windows collectors copy the bytes out of the API's structures.
pub fn windows_sockaddr(bytes: &[u8]) -> Option<IpAddr> {
    const AF_INET: u16 = 2;
    const AF_INET6: u16 = 23;
    let family = u16::from_le_bytes(bytes.get(..2)?.try_into().ok()?);
    match family {
        AF_INET => {
            let octets: [u8; 4] = bytes.get(4..8)?.try_into().ok()?;
            Some(IpAddr::V4(Ipv4Addr::from(octets)))
        }
        AF_INET6 => {
            let octets: [u8; 16] = bytes.get(8..24)?.try_into().ok()?;
            Some(IpAddr::V6(Ipv6Addr::from(octets)))
        }
        _ => None,
    }
}

/// A link-layer address of exactly six bytes as a MAC; anything else (a
/// tunnel's empty or 20-byte address, a 64-bit EUI) is not one.
pub fn mac_from_bytes(bytes: &[u8]) -> Option<MacAddr> {
    let six: [u8; 6] = bytes.try_into().ok()?;
    (six != [0; 6]).then_some(MacAddr(six))
}

/// The SSID bytes of a Wi-Fi network as text (lossy: an SSID is 0–32 bytes,
/// not necessarily UTF-8), from a length the API reports.
pub fn ssid_text(bytes: &[u8], len: u32) -> String {
    let len = (len as usize).min(bytes.len());
    String::from_utf8_lossy(&bytes[..len]).into_owned()
}

#[cfg(test)]
mod windows_tests {
    use super::*;

    #[test]
    fn windows_socket_addresses_are_read_by_family() {
        // SOCKADDR_IN: family 2, port 0x1234 (network order), 192.168.1.254, zero padding.
        let v4 = [2, 0, 0x12, 0x34, 192, 168, 1, 254, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(windows_sockaddr(&v4), Some("192.168.1.254".parse().unwrap()));
        // SOCKADDR_IN6: family 23, port, flow info, fe80::1, scope id.
        let mut v6 = vec![23, 0, 0, 0, 0, 0, 0, 0];
        v6.extend_from_slice(&"fe80::1".parse::<Ipv6Addr>().unwrap().octets());
        v6.extend_from_slice(&[4, 0, 0, 0]);
        assert_eq!(windows_sockaddr(&v6), Some("fe80::1".parse().unwrap()));
        // Linux's AF_INET6 is 10: not a Windows IPv6 address.
        v6[0] = 10;
        assert_eq!(windows_sockaddr(&v6), None);
        assert_eq!(windows_sockaddr(&v4[..6]), None, "too short for the address");
        assert_eq!(windows_sockaddr(&[]), None);
    }

    #[test]
    fn only_six_nonzero_bytes_are_a_mac() {
        assert_eq!(mac_from_bytes(&[0x52, 0x54, 0, 0x12, 0x34, 0x56]).unwrap().to_string(), "52:54:00:12:34:56");
        assert_eq!(mac_from_bytes(&[0; 6]), None);
        assert_eq!(mac_from_bytes(&[1, 2, 3, 4, 5, 6, 7, 8]), None);
        assert_eq!(mac_from_bytes(&[]), None);
    }

    #[test]
    fn an_ssid_is_its_reported_length() {
        let mut raw = [0u8; 32];
        raw[..9].copy_from_slice(b"School-WL");
        assert_eq!(ssid_text(&raw, 9), "School-WL");
        assert_eq!(ssid_text(&raw, 99), format!("School-WL{}", "\0".repeat(23)), "a length past the buffer is cut");
    }
}
