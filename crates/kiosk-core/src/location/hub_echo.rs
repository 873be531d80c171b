//! The hub's signed echo of the source address it sees.
//!
//! The kiosk sends a fresh nonce; the hub answers with the address the
//! connection came from, signed with its echo key (`hub.echo-public-key` in
//! the policy). A local change of IP address cannot fake it: the address is
//! what the hub saw after all NAT on the way. The types are the protocol's
//! ([`exam_protocol::SignedHubEcho`]); this module checks them against the
//! policy's key and signs them for tests.

use exam_policy::{verify_signature, PublicKeyHex, SigningKey};
pub use exam_protocol::{HubEcho, SignedHubEcho, HUB_ECHO_DOMAIN};

/// Signs an echo with `key` (what the hub does; used by tests and tools).
pub fn sign(echo: HubEcho, key: &SigningKey) -> SignedHubEcho {
    let signature = hex::encode(key.sign(&echo.signed_message()));
    SignedHubEcho { echo, signature }
}

/// Checks signature (with the policy's echo key), device and — when given —
/// the nonce. The age is checked per requirement.
pub fn verify(echo: &SignedHubEcho, key: &PublicKeyHex, device_id: &str, nonce: Option<&str>) -> Result<(), String> {
    let sig = hex::decode(&echo.signature).map_err(|_| "hub echo signature is not hex".to_string())?;
    if !verify_signature(key, &echo.echo.signed_message(), &sig) {
        return Err("hub echo has a bad signature".into());
    }
    if echo.echo.device_id != device_id {
        return Err(format!("hub echo is for device `{}`, not this one", echo.echo.device_id));
    }
    if let Some(n) = nonce {
        if !echo.echo.nonce.eq_ignore_ascii_case(n) {
            return Err("hub echo answers another nonce (replayed)".into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify() {
        let key = SigningKey::generate().unwrap();
        let echo = HubEcho { device_id: "kiosk-1".into(), nonce: "ab".repeat(32), observed: "198.51.100.7".parse().unwrap(), time_ms: 1 };
        let e = sign(echo, &key);
        let pk = key.public_key();
        assert!(verify(&e, &pk, "kiosk-1", Some(&"AB".repeat(32))).is_ok());
        assert!(verify(&e, &pk, "kiosk-2", None).unwrap_err().contains("not this one"));
        assert!(verify(&e, &pk, "kiosk-1", Some(&"cd".repeat(32))).unwrap_err().contains("replayed"));
        let mut forged = e.clone();
        forged.echo.observed = "198.51.100.8".parse().unwrap();
        assert!(verify(&forged, &pk, "kiosk-1", None).unwrap_err().contains("bad signature"));
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(serde_json::from_str::<SignedHubEcho>(&json).unwrap(), e);
    }
}
