//! Minimal PEM handling: the first `CERTIFICATE` block of a PEM text, and
//! private keys in `PRIVATE KEY` blocks.

use base64::Engine;

/// Decodes the body of the first `-----BEGIN {label}-----` block.
pub fn decode_block(pem: &str, label: &str) -> Result<Vec<u8>, String> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem
        .find(&begin)
        .ok_or_else(|| format!("no `{begin}` block found"))?
        + begin.len();
    let stop = pem[start..]
        .find(&end)
        .ok_or_else(|| format!("`{begin}` block has no `{end}`"))?
        + start;
    let b64: String = pem[start..stop].chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64.as_bytes())
        .map_err(|e| format!("the {label} block is not valid base64: {e}"))
}

/// The DER bytes of the first certificate in a PEM text.
pub fn first_certificate_der(pem: &str) -> Result<Vec<u8>, String> {
    let der = decode_block(pem, "CERTIFICATE")?;
    // A DER certificate is a SEQUENCE (0x30); anything else is not one.
    if der.first() != Some(&0x30) || der.len() < 64 {
        return Err("the CERTIFICATE block does not hold a DER certificate".into());
    }
    Ok(der)
}

/// Encodes `der` as a PEM block with the given label.
pub fn encode_block(der: &[u8], label: &str) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_errors() {
        let pem = encode_block(&[1, 2, 3, 4], "PRIVATE KEY");
        assert_eq!(decode_block(&pem, "PRIVATE KEY").unwrap(), vec![1, 2, 3, 4]);
        assert!(decode_block("nothing", "CERTIFICATE").is_err());
        assert!(decode_block("-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----", "CERTIFICATE").is_err());
        assert!(decode_block("-----BEGIN CERTIFICATE-----\nAAAA", "CERTIFICATE").is_err());
        assert!(first_certificate_der(&encode_block(&[0x30, 1], "CERTIFICATE")).is_err());
    }
}
