//! The hub's signed echo of the source address it sees.
//!
//! The hub does not exist yet: this module defines the structure the hub
//! will sign (the hub issue provides the endpoint and should move these types
//! to the shared protocol crate). The kiosk sends a fresh nonce; the hub
//! answers with the address the connection came from, signed with its echo
//! key (`hub.echo-public-key` in the policy). A local change of IP address
//! cannot fake it: the address is what the hub saw after all NAT on the way.

use exam_policy::{verify_signature, PublicKeyHex, SigningKey};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// Domain separator of hub echo signatures.
pub const HUB_ECHO_DOMAIN: &[u8] = b"exam-kiosk/hub-echo/v1\0";

/// What the hub states.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct HubEcho {
    /// The device that asked.
    pub device_id: String,
    /// The kiosk's nonce, hex (32 bytes).
    pub nonce: String,
    /// The source address the hub saw.
    pub observed: IpAddr,
    /// The hub's clock, unix ms.
    pub time_ms: u64,
}

/// A [`HubEcho`] with the hub's Ed25519 signature (hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SignedHubEcho {
    /// The statement.
    pub echo: HubEcho,
    /// Signature over [`HubEcho::signed_message`], hex.
    pub signature: String,
}

impl HubEcho {
    /// The signed bytes: domain, device id (length-prefixed), nonce, the
    /// address as 16 bytes (IPv4 mapped), time.
    pub fn signed_message(&self) -> Vec<u8> {
        let mut m = HUB_ECHO_DOMAIN.to_vec();
        let id = self.device_id.as_bytes();
        m.extend_from_slice(&(id.len() as u32).to_be_bytes());
        m.extend_from_slice(id);
        m.extend_from_slice(self.nonce.as_bytes());
        let v6 = match self.observed {
            IpAddr::V4(v4) => v4.to_ipv6_mapped(),
            IpAddr::V6(v6) => v6,
        };
        m.extend_from_slice(&v6.octets());
        m.extend_from_slice(&self.time_ms.to_be_bytes());
        m
    }

    /// Signs (what the hub does).
    pub fn sign(self, key: &SigningKey) -> SignedHubEcho {
        let signature = hex::encode(key.sign(&self.signed_message()));
        SignedHubEcho { echo: self, signature }
    }
}

impl SignedHubEcho {
    /// Checks signature, device and nonce (the age is checked per requirement).
    pub fn verify(&self, key: &PublicKeyHex, device_id: &str, nonce: Option<&str>) -> Result<(), String> {
        let sig = hex::decode(&self.signature).map_err(|_| "hub echo signature is not hex".to_string())?;
        if !verify_signature(key, &self.echo.signed_message(), &sig) {
            return Err("hub echo has a bad signature".into());
        }
        if self.echo.device_id != device_id {
            return Err(format!("hub echo is for device `{}`, not this one", self.echo.device_id));
        }
        if let Some(n) = nonce {
            if !self.echo.nonce.eq_ignore_ascii_case(n) {
                return Err("hub echo answers another nonce (replayed)".into());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify() {
        let key = SigningKey::generate().unwrap();
        let e = HubEcho {
            device_id: "kiosk-1".into(),
            nonce: "ab".repeat(32),
            observed: "198.51.100.7".parse().unwrap(),
            time_ms: 1,
        }
        .sign(&key);
        let pk = key.public_key();
        assert!(e.verify(&pk, "kiosk-1", Some(&"AB".repeat(32))).is_ok());
        assert!(e.verify(&pk, "kiosk-2", None).unwrap_err().contains("not this one"));
        assert!(e.verify(&pk, "kiosk-1", Some(&"cd".repeat(32))).unwrap_err().contains("replayed"));
        let mut forged = e.clone();
        forged.echo.observed = "198.51.100.8".parse().unwrap();
        assert!(forged.verify(&pk, "kiosk-1", None).unwrap_err().contains("bad signature"));
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(serde_json::from_str::<SignedHubEcho>(&json).unwrap(), e);
    }
}
