//! Placeholder for macOS: every collector reports that it is not
//! implemented, so locations that need them are refused with that reason.

use super::NetworkPlatform;
use crate::location::{Gateway, InterfaceAddr, WifiObservation};

/// Collectors for an OS without an implementation yet.
pub struct Unsupported;

impl NetworkPlatform for Unsupported {
    fn interfaces(&self) -> Result<Vec<InterfaceAddr>, String> {
        Err("interface collection is not implemented on this OS yet".into())
    }
    fn gateways(&self, _resolve: &[std::net::IpAddr]) -> Result<Vec<Gateway>, String> {
        Err("gateway collection is not implemented on this OS yet".into())
    }
    fn wifi(&self) -> WifiObservation {
        WifiObservation::none("Wi-Fi collection is not implemented on this OS yet")
    }
}
