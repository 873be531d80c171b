//! Room codes as RFC 6238 TOTP (HMAC through `ring::hmac`): the one
//! implementation the kiosk (which checks a typed code) and the hub's
//! invigilator console (which shows the current code) share. The policy's
//! [`RoomCodeReq`](crate::RoomCodeReq) names the parameters.

use crate::TotpAlgorithm;
use ring::hmac;

fn hmac_alg(alg: TotpAlgorithm) -> hmac::Algorithm {
    match alg {
        TotpAlgorithm::Sha1 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        TotpAlgorithm::Sha256 => hmac::HMAC_SHA256,
        TotpAlgorithm::Sha512 => hmac::HMAC_SHA512,
    }
}

/// RFC 4226 HOTP value for `counter`, `digits` long (6..=9).
pub fn hotp(secret: &[u8], alg: TotpAlgorithm, counter: u64, digits: u8) -> u32 {
    let key = hmac::Key::new(hmac_alg(alg), secret);
    let tag = hmac::sign(&key, &counter.to_be_bytes());
    let mac = tag.as_ref();
    let offset = usize::from(mac[mac.len() - 1] & 0x0f);
    let bin = (u32::from(mac[offset] & 0x7f) << 24)
        | (u32::from(mac[offset + 1]) << 16)
        | (u32::from(mac[offset + 2]) << 8)
        | u32::from(mac[offset + 3]);
    bin % 10u32.pow(u32::from(digits.clamp(1, 9)))
}

/// RFC 6238 TOTP code (zero-padded) for unix time `unix_secs`.
pub fn totp(secret: &[u8], alg: TotpAlgorithm, unix_secs: u64, step_secs: u64, digits: u8) -> String {
    let counter = unix_secs / step_secs.max(1);
    format!("{:0width$}", hotp(secret, alg, counter, digits), width = usize::from(digits))
}

const BASE32_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Decodes RFC 4648 base32 (case-insensitive, spaces, dashes and `=` ignored).
pub fn base32_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for c in s.chars() {
        let v = match c.to_ascii_uppercase() {
            c @ 'A'..='Z' => c as u32 - 'A' as u32,
            c @ '2'..='7' => c as u32 - '2' as u32 + 26,
            ' ' | '-' | '=' | '\n' | '\r' | '\t' => continue,
            _ => return None,
        };
        buf = (buf << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Encodes RFC 4648 base32 without padding (how authenticator apps and the
/// policy's room secret files write a TOTP secret).
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buf, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buf = (buf << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(BASE32_ALPHABET[((buf >> bits) & 31) as usize] as char);
        }
        buf &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(BASE32_ALPHABET[((buf << (5 - bits)) & 31) as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA1_SEED: &[u8] = b"12345678901234567890";
    const SHA256_SEED: &[u8] = b"12345678901234567890123456789012";
    const SHA512_SEED: &[u8] = b"1234567890123456789012345678901234567890123456789012345678901234";

    /// RFC 6238 appendix B, all published vectors (8 digits, 30 s step).
    #[test]
    fn rfc6238_vectors() {
        let vectors: &[(u64, &str, &str, &str)] = &[
            (59, "94287082", "46119246", "90693936"),
            (1111111109, "07081804", "68084774", "25091201"),
            (1111111111, "14050471", "67062674", "99943326"),
            (1234567890, "89005924", "91819424", "93441116"),
            (2000000000, "69279037", "90698825", "38618901"),
            (20000000000, "65353130", "77737706", "47863826"),
        ];
        for (t, sha1, sha256, sha512) in vectors {
            assert_eq!(totp(SHA1_SEED, TotpAlgorithm::Sha1, *t, 30, 8), *sha1, "SHA1 T={t}");
            assert_eq!(totp(SHA256_SEED, TotpAlgorithm::Sha256, *t, 30, 8), *sha256, "SHA256 T={t}");
            assert_eq!(totp(SHA512_SEED, TotpAlgorithm::Sha512, *t, 30, 8), *sha512, "SHA512 T={t}");
        }
    }

    /// RFC 4226 appendix D.
    #[test]
    fn rfc4226_hotp_vectors() {
        let expected = [755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489];
        for (i, e) in expected.iter().enumerate() {
            assert_eq!(hotp(SHA1_SEED, TotpAlgorithm::Sha1, i as u64, 6), *e);
        }
    }

    /// RFC 4648 §10 vectors (without padding), and a round trip.
    #[test]
    fn base32() {
        assert_eq!(base32_decode("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").unwrap(), SHA1_SEED);
        assert_eq!(base32_decode("mzxw6ytb oi======").unwrap(), b"foobar");
        assert!(base32_decode("0189").is_none());
        for (plain, encoded) in [("", ""), ("f", "MY"), ("fo", "MZXQ"), ("foo", "MZXW6"), ("foob", "MZXW6YQ"), ("fooba", "MZXW6YTB"), ("foobar", "MZXW6YTBOI")] {
            assert_eq!(base32_encode(plain.as_bytes()), encoded);
            assert_eq!(base32_decode(encoded).unwrap(), plain.as_bytes());
        }
        assert_eq!(base32_encode(SHA1_SEED), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    }
}
