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
