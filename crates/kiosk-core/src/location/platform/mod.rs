//! Where the network facts come from, per operating system.

use super::{Gateway, InterfaceAddr, WifiObservation};

#[cfg(target_os = "linux")]
pub mod linux;
#[cfg(not(any(target_os = "linux", windows)))]
pub mod other;
// The Windows collectors call the IP Helper and WLAN APIs: `unsafe` at that
// C boundary only, every block with its `// SAFETY:`.
#[cfg(windows)]
#[allow(unsafe_code)]
pub mod windows;

/// The OS-specific collectors. Errors are strings fit for the journal.
pub trait NetworkPlatform: Send + Sync {
    /// All interface addresses.
    fn interfaces(&self) -> Result<Vec<InterfaceAddr>, String>;
    /// The default gateways, each with its MAC where the neighbour table has
    /// it. For gateways listed in `resolve` that have no neighbour entry yet,
    /// the platform may send one datagram to the gateway (it is on our own
    /// link) so that the neighbour table fills.
    fn gateways(&self, resolve: &[std::net::IpAddr]) -> Result<Vec<Gateway>, String>;
    /// The connected Wi-Fi networks; no Wi-Fi (or no tool) is an answer, not an error.
    fn wifi(&self) -> WifiObservation;
}

/// UDP discard port, target of the neighbour-resolution datagram.
const DISCARD_PORT: u16 = 9;
/// How long to wait for a gateway's neighbour entry.
pub const NEIGHBOUR_WAIT: std::time::Duration = std::time::Duration::from_millis(100);

/// The gateways `read` gives, after asking the system to resolve the MAC of
/// those in `resolve` that have none: one empty datagram to the discard
/// port makes it resolve the gateway's link-layer address (the gateway is
/// on our own link); then `read` again, briefly, until the entries are there.
#[allow(dead_code, reason = "the collectors of Linux and Windows use it, not macOS'")]
fn with_resolved_macs(
    resolve: &[std::net::IpAddr],
    mut read: impl FnMut() -> Result<Vec<Gateway>, String>,
) -> Result<Vec<Gateway>, String> {
    use std::time::{Duration, Instant};
    let mut gws = read()?;
    let missing: Vec<std::net::IpAddr> =
        gws.iter().filter(|g| g.mac.is_none() && resolve.contains(&g.ip)).map(|g| g.ip).collect();
    if missing.is_empty() {
        return Ok(gws);
    }
    for ip in &missing {
        let bind = if ip.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" };
        if let Ok(sock) = std::net::UdpSocket::bind(bind) {
            let _ = sock.send_to(&[], (*ip, DISCARD_PORT));
        }
    }
    let start = Instant::now();
    while start.elapsed() < NEIGHBOUR_WAIT {
        std::thread::sleep(Duration::from_millis(2));
        gws = read()?;
        if gws.iter().all(|g| g.mac.is_some() || !missing.contains(&g.ip)) {
            break;
        }
    }
    Ok(gws)
}

/// The collectors of the OS this was built for.
pub fn native() -> Box<dyn NetworkPlatform> {
    #[cfg(target_os = "linux")]
    {
        Box::new(linux::Linux::default())
    }
    #[cfg(windows)]
    {
        Box::new(windows::Windows)
    }
    #[cfg(not(any(target_os = "linux", windows)))]
    {
        Box::new(other::Unsupported)
    }
}
