//! Small value types used in the policy: CIDR blocks, MAC addresses, hex keys,
//! fingerprints and secret references. Each parses from a string, prints back
//! to the same canonical string, and describes itself in the JSON Schema.

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// Implements `Display`, `FromStr`-based `TryFrom<String>` and `Into<String>`
/// plus a string JSON Schema with a pattern and description.
macro_rules! string_type {
    ($ty:ident, $name:literal, $pattern:expr, $desc:literal) => {
        impl TryFrom<String> for $ty {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                s.parse()
            }
        }
        impl From<$ty> for String {
            fn from(v: $ty) -> String {
                v.to_string()
            }
        }
        impl JsonSchema for $ty {
            fn schema_name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }
            fn json_schema(_gen: &mut SchemaGenerator) -> Schema {
                json_schema!({
                    "type": "string",
                    "pattern": $pattern,
                    "description": $desc,
                })
            }
        }
    };
}

/// An IPv4 or IPv6 network in CIDR notation, e.g. `10.20.4.0/24` or
/// `2001:db8:4::/64`. Host bits must be zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Builds a CIDR block; fails when the prefix is too long or host bits are set.
    pub fn new(addr: IpAddr, prefix: u8) -> Result<Self, String> {
        let max = max_prefix(&addr);
        if prefix > max {
            return Err(format!("prefix length /{prefix} is longer than {max} bits"));
        }
        let cidr = Cidr { addr, prefix };
        let network = cidr.network_of(&addr);
        if network != addr {
            return Err(format!(
                "host bits are set in {addr}/{prefix}; did you mean {network}/{prefix}?"
            ));
        }
        Ok(cidr)
    }

    /// The network address.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length in bits.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    fn mask_bits(&self) -> u128 {
        let width = u32::from(max_prefix(&self.addr));
        let prefix = u32::from(self.prefix);
        if prefix == 0 {
            0
        } else {
            // `prefix` in 1..=width, so the shift is in range.
            let ones = u128::MAX << (128 - prefix);
            ones >> (128 - width)
        }
    }

    fn network_of(&self, ip: &IpAddr) -> IpAddr {
        let mask = self.mask_bits();
        match ip {
            IpAddr::V4(v4) => IpAddr::V4((u32::from(*v4) & (mask as u32)).into()),
            IpAddr::V6(v6) => IpAddr::V6((u128::from(*v6) & mask).into()),
        }
    }

    /// Whether `ip` lies inside this block (IPv4-mapped IPv6 addresses count
    /// as IPv4).
    pub fn contains(&self, ip: &IpAddr) -> bool {
        let ip = canonical_ip(*ip);
        if ip.is_ipv4() != self.addr.is_ipv4() {
            return false;
        }
        self.network_of(&ip) == self.addr
    }

    /// Whether the two blocks share at least one address.
    pub fn overlaps(&self, other: &Cidr) -> bool {
        if self.addr.is_ipv4() != other.addr.is_ipv4() {
            return false;
        }
        self.contains(&other.addr) || other.contains(&self.addr)
    }
}

fn max_prefix(addr: &IpAddr) -> u8 {
    if addr.is_ipv4() {
        32
    } else {
        128
    }
}

/// Maps IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) to IPv4.
pub fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

impl FromStr for Cidr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (addr, prefix) = s
            .split_once('/')
            .ok_or_else(|| format!("`{s}` is not in CIDR notation (expected e.g. 10.20.4.0/24)"))?;
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("`{addr}` is not an IPv4 or IPv6 address"))?;
        let prefix: u8 = prefix
            .parse()
            .map_err(|_| format!("`{prefix}` is not a prefix length"))?;
        Cidr::new(addr, prefix)
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

string_type!(
    Cidr,
    "Cidr",
    r"^[0-9a-fA-F:.]+/[0-9]{1,3}$",
    "An IPv4 or IPv6 network in CIDR notation with zero host bits, e.g. 10.20.4.0/24 or 2001:db8:4::/64."
);

/// A 48-bit MAC address, written `aa:bb:cc:dd:ee:ff` (case-insensitive;
/// `-` separators are accepted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MacAddr(pub [u8; 6]);

impl FromStr for MacAddr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let parts: Vec<&str> = s.split([':', '-']).collect();
        if parts.len() != 6 {
            return Err(format!("`{s}` is not a MAC address (expected aa:bb:cc:dd:ee:ff)"));
        }
        let mut out = [0u8; 6];
        for (slot, part) in out.iter_mut().zip(parts) {
            // Two hex digits: `from_str_radix` alone also takes a sign ("+f").
            if part.len() != 2 || !part.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!("`{s}` is not a MAC address (expected aa:bb:cc:dd:ee:ff)"));
            }
            *slot = u8::from_str_radix(part, 16)
                .map_err(|_| format!("`{s}` is not a MAC address (expected aa:bb:cc:dd:ee:ff)"))?;
        }
        Ok(MacAddr(out))
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

string_type!(
    MacAddr,
    "MacAddr",
    r"^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$",
    "A MAC address, aa:bb:cc:dd:ee:ff."
);

fn parse_hex_exact<const N: usize>(s: &str, what: &str) -> Result<[u8; N], String> {
    let s = s.trim();
    if s.len() != N * 2 {
        return Err(format!(
            "{what} must be {} hex digits, found {} characters",
            N * 2,
            s.len()
        ));
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(s, &mut out).map_err(|e| format!("{what} is not valid hex: {e}"))?;
    Ok(out)
}

/// A raw Ed25519 public key: 32 bytes written as 64 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PublicKeyHex(pub [u8; 32]);

impl PublicKeyHex {
    /// The key id: SHA-256 of the 32 raw public-key bytes.
    pub fn key_id(&self) -> Sha256Hex {
        Sha256Hex::digest(&self.0)
    }
}

impl fmt::Debug for PublicKeyHex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKeyHex({})", hex::encode(self.0))
    }
}

impl FromStr for PublicKeyHex {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        parse_hex_exact::<32>(s, "an Ed25519 public key").map(PublicKeyHex)
    }
}

impl fmt::Display for PublicKeyHex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

string_type!(
    PublicKeyHex,
    "Ed25519PublicKey",
    r"^[0-9a-fA-F]{64}$",
    "A raw Ed25519 public key: 64 hex digits (as printed by `kioskctl policy keygen`)."
);

/// A SHA-256 digest written as 64 hex digits (`:` separators, as printed by
/// `openssl x509 -fingerprint -sha256`, are accepted).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sha256Hex(pub [u8; 32]);

impl Sha256Hex {
    /// SHA-256 of `data`.
    pub fn digest(data: &[u8]) -> Self {
        let d = ring::digest::digest(&ring::digest::SHA256, data);
        let mut out = [0u8; 32];
        out.copy_from_slice(d.as_ref());
        Sha256Hex(out)
    }
}

impl fmt::Debug for Sha256Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256Hex({})", hex::encode(self.0))
    }
}

impl FromStr for Sha256Hex {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let cleaned: String = s.chars().filter(|c| *c != ':').collect();
        parse_hex_exact::<32>(&cleaned, "a SHA-256 digest").map(Sha256Hex)
    }
}

impl fmt::Display for Sha256Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

string_type!(
    Sha256Hex,
    "Sha256",
    r"^([0-9a-fA-F]{2}:?){31}[0-9a-fA-F]{2}$",
    "A SHA-256 digest: 64 hex digits (colons between bytes allowed)."
);

/// Where a secret lives. The policy never holds a secret itself, only a
/// reference: `file:/path` (relative paths are relative to the policy file)
/// or `env:NAME`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum SecretRef {
    /// A file whose content is the secret (base32 or `hex:`-prefixed hex).
    File(String),
    /// An environment variable whose value is the secret.
    Env(String),
}

impl FromStr for SecretRef {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if let Some(path) = s.strip_prefix("file:") {
            if path.is_empty() {
                return Err("`file:` needs a path, e.g. file:/etc/exam-kiosk/rooms/b204.secret".into());
            }
            Ok(SecretRef::File(path.to_string()))
        } else if let Some(name) = s.strip_prefix("env:") {
            let valid = !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return Err(format!("`{name}` is not an environment variable name"));
            }
            Ok(SecretRef::Env(name.to_string()))
        } else {
            Err(format!(
                "`{s}` is not a secret reference (expected `file:PATH` or `env:NAME`; never put the secret itself in a policy)"
            ))
        }
    }
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretRef::File(p) => write!(f, "file:{p}"),
            SecretRef::Env(n) => write!(f, "env:{n}"),
        }
    }
}

string_type!(
    SecretRef,
    "SecretRef",
    r"^(file:.+|env:[A-Za-z0-9_]+)$",
    "A reference to a secret: `file:PATH` (relative to the policy file) or `env:NAME`. Never the secret itself."
);

/// A program of the student's desktop that may use the display server
/// (`[processes.display] allow`): an executable base-name glob
/// (`gnome-shell`, `gsd-*`; case-insensitive, `*` and `?`) or an absolute
/// path (`/usr/libexec/gsd-xsettings`, exact). The guard allows a display
/// client only when it matches an entry **and** its executable is a
/// root-owned file in root-owned directories that no one else may write —
/// a name alone never lets a program through.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DesktopProgram(String);

/// Interpreters and runtimes: allowing one by name would allow any script or
/// program it runs, so a desktop list may not name them.
const INTERPRETERS: &[&str] = &[
    "python", "python2", "python3", "perl", "ruby", "node", "nodejs", "java", "sh", "bash", "dash", "zsh", "fish", "ksh",
    "csh", "tcsh", "lua", "php", "gjs", "gjs-console", "electron", "wine", "wine64", "qemu", "mono", "dotnet", "env",
    "busybox", "tclsh", "wish", "osascript", "pwsh",
];

impl DesktopProgram {
    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this entry is an absolute path (matched exactly against the executable).
    pub fn is_path(&self) -> bool {
        self.0.starts_with('/')
    }
}

impl FromStr for DesktopProgram {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.trim().is_empty() {
            return Err("an empty desktop program name is not allowed: name a program or give its absolute path".into());
        }
        if s.len() > 255 {
            return Err(format!("`{}…` is longer than 255 bytes; not a program name", s.chars().take(32).collect::<String>()));
        }
        if s.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(format!("`{}` contains white space or a control character; a program name has none", s.escape_debug()));
        }
        if s.starts_with('/') {
            if s.contains(['*', '?']) {
                return Err(format!("`{s}` is a path with a wildcard; a path must name one executable exactly"));
            }
            if s.ends_with('/') || s.split('/').any(|part| part == ".." || part == ".") {
                return Err(format!("`{s}` is not a plain absolute path to an executable (no `.`, `..` or trailing `/`)"));
            }
            return Ok(DesktopProgram(s.to_owned()));
        }
        if s.contains(['/', '\\']) {
            return Err(format!("`{s}` is a relative path; give the program's name or its absolute path"));
        }
        let literal = s.chars().filter(|c| *c != '*' && *c != '?').count();
        if literal < 3 {
            return Err(format!("`{s}` matches too many programs; a desktop program needs at least 3 characters besides `*` and `?`"));
        }
        let base = s.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.' || c == '*' || c == '?');
        if INTERPRETERS.iter().any(|i| i.eq_ignore_ascii_case(s) || i.eq_ignore_ascii_case(base)) {
            return Err(format!(
                "`{s}` is an interpreter: allowing it would allow every script it runs; allow the desktop program by its own executable"
            ));
        }
        Ok(DesktopProgram(s.to_owned()))
    }
}

impl fmt::Display for DesktopProgram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

string_type!(
    DesktopProgram,
    "DesktopProgram",
    r"^(/[^*?\s]+|[^/\\\s]+)$",
    "A desktop program allowed to use the display: an executable base-name glob (`gnome-shell`, `gsd-*`) or an absolute path. Only honoured for a root-owned executable in root-owned directories."
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_parse_contains_overlap() {
        let a: Cidr = "10.20.4.0/24".parse().unwrap();
        assert!(a.contains(&"10.20.4.77".parse().unwrap()));
        assert!(!a.contains(&"10.20.5.1".parse().unwrap()));
        assert!(a.contains(&"::ffff:10.20.4.9".parse().unwrap()));
        let b: Cidr = "10.20.0.0/16".parse().unwrap();
        assert!(a.overlaps(&b) && b.overlaps(&a));
        let c: Cidr = "10.21.0.0/16".parse().unwrap();
        assert!(!a.overlaps(&c));
        let v6: Cidr = "2001:db8:4::/64".parse().unwrap();
        assert!(v6.contains(&"2001:db8:4::1234".parse().unwrap()));
        assert!(!v6.overlaps(&a));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(&"8.8.8.8".parse().unwrap()));
        let host: Cidr = "::1/128".parse().unwrap();
        assert!(host.contains(&"::1".parse().unwrap()));
    }

    #[test]
    fn cidr_rejects_bad_input() {
        for bad in ["10.20.4.1/24", "10.0.0.0/33", "10.0.0.0", "x/8", "10.0.0.0/x", "::/129", "/", ""] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
        let e = "10.20.4.1/24".parse::<Cidr>().unwrap_err();
        assert!(e.contains("did you mean 10.20.4.0/24"), "{e}");
    }

    #[test]
    fn mac_and_keys() {
        let m: MacAddr = "AA-bb-cc-00-11-22".parse().unwrap();
        assert_eq!(m.to_string(), "aa:bb:cc:00:11:22");
        assert!("aa:bb:cc:00:11".parse::<MacAddr>().is_err());
        assert!("aa:bb:cc:00:11:2g".parse::<MacAddr>().is_err());
        assert!("aaa:b:cc:00:11:22".parse::<MacAddr>().is_err());
        assert!("+f:bb:cc:00:11:22".parse::<MacAddr>().is_err(), "a sign is not a hex digit");
        assert!("zz".parse::<PublicKeyHex>().is_err());
        assert!("00".repeat(31).parse::<PublicKeyHex>().is_err());
        assert!("0g".repeat(32).parse::<PublicKeyHex>().is_err());
        assert!("ab".repeat(32).parse::<PublicKeyHex>().is_ok());
        let fp = ["AB"; 32].join(":");
        assert_eq!(fp.parse::<Sha256Hex>().unwrap().to_string(), "ab".repeat(32));
        // Non-ASCII must not panic on slicing.
        assert!("é".repeat(32).parse::<PublicKeyHex>().is_err());
    }

    #[test]
    fn secret_refs() {
        assert_eq!("file:x".parse::<SecretRef>().unwrap(), SecretRef::File("x".into()));
        assert_eq!("env:A_B".parse::<SecretRef>().unwrap(), SecretRef::Env("A_B".into()));
        assert!("JBSWY3DPEHPK3PXP".parse::<SecretRef>().is_err());
        assert!("env:".parse::<SecretRef>().is_err());
        assert!("env:a-b".parse::<SecretRef>().is_err());
    }

    #[test]
    fn desktop_programs() {
        for ok in ["gnome-shell", "gsd-*", "Xwayland", "/usr/libexec/gsd-xsettings", "ibus-daemon", "xfce4-panel", "kwin_x11"] {
            assert_eq!(ok.parse::<DesktopProgram>().unwrap().to_string(), ok);
        }
        assert!("/usr/bin/xprop".parse::<DesktopProgram>().unwrap().is_path());
        for (bad, says) in [
            ("", "empty"),
            ("*", "too many"),
            ("a*", "too many"),
            ("*?*x", "too many"),
            ("~/gnome-shell", "relative path"),
            ("bin/x", "relative path"),
            ("/usr/bin/*", "wildcard"),
            ("/usr/bin/../tmp/x", "plain absolute"),
            ("/usr/bin/", "plain absolute"),
            ("gnome shell", "white space"),
            ("python3", "interpreter"),
            ("python3.11", "interpreter"),
            ("Python*", "interpreter"),
            ("bash", "interpreter"),
            ("gjs", "interpreter"),
        ] {
            let e = bad.parse::<DesktopProgram>().unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
        assert!("x".repeat(300).parse::<DesktopProgram>().is_err());
    }
}
