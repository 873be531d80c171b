//! `kioskctl policy`: check, sign, verify, schema, keygen.

use crate::exit::{self, Outcome};
use anyhow::{bail, Context};
use clap::Subcommand;
use exam_policy::{
    is_bundle, parse_bundle, parse_bundle_body, parse_policy, read_text, schema_json, sign_policy, verify_bundle,
    Policy, PolicyError, SigningKey, TrustedKeys,
};
use std::path::{Path, PathBuf};

/// Policy files: validation, signing, schema, keys.
#[derive(Subcommand)]
pub enum PolicyCommand {
    /// Validate policy files (plain TOML or signed bundles); exit 0 if all are
    /// valid, 1 if any is invalid, 2 if one cannot be read.
    Check {
        /// Policy files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Trusted policy keys: bundles must then verify against them.
        #[arg(long)]
        trust: Option<PathBuf>,
    },
    /// Sign a policy into a bundle (the policy is validated first).
    Sign {
        /// The policy TOML.
        file: PathBuf,
        /// The signing key (from `kioskctl policy keygen`).
        #[arg(long)]
        key: PathBuf,
        /// Output file; default: FILE with extension `.bundle`.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Verify a signed bundle against trusted keys (exit 0 valid, 1 not).
    Verify {
        /// The bundle.
        file: PathBuf,
        /// Trusted policy keys (one 64-hex public key per line).
        #[arg(long)]
        trust: PathBuf,
    },
    /// Print the policy JSON Schema.
    Schema,
    /// Create a new Ed25519 signing key (also used for beacons).
    Keygen {
        /// Where to write the private key (mode 0600); the public key goes to OUT.pub.
        #[arg(long)]
        out: PathBuf,
        /// Overwrite an existing key file.
        #[arg(long)]
        force: bool,
    },
    /// Print the public key of a key file.
    Pubkey {
        /// The key file.
        key: PathBuf,
    },
}

/// Runs a `policy` subcommand.
pub fn run(cmd: PolicyCommand) -> Outcome {
    match cmd {
        PolicyCommand::Check { files, trust } => check(&files, trust.as_deref()),
        PolicyCommand::Sign { file, key, out } => sign(&file, &key, out).unwrap_or_else(|e| exit::error(&e)),
        PolicyCommand::Verify { file, trust } => match TrustedKeys::load(&trust) {
            Ok(trusted) => check_one(&file, Some(&trusted)),
            Err(e) => exit::error(&e.into()),
        },
        PolicyCommand::Schema => {
            outln!("{}", schema_json().trim_end_matches('\n'));
            Outcome::Ok
        }
        PolicyCommand::Keygen { out, force } => keygen(&out, force).unwrap_or_else(|e| exit::error(&e)),
        PolicyCommand::Pubkey { key } => match SigningKey::load(&key) {
            Ok(k) => {
                outln!("{}", k.public_key());
                Outcome::Ok
            }
            Err(e) => exit::error(&e.into()),
        },
    }
}

fn summary(policy: &Policy) -> String {
    format!(
        "policy \"{}\", profile {}, {} location(s)",
        policy.name,
        serde_json::to_value(policy.profile)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        policy.locations.len()
    )
}

fn check(files: &[PathBuf], trust: Option<&Path>) -> Outcome {
    let trusted = match trust.map(TrustedKeys::load).transpose() {
        Ok(t) => t,
        Err(e) => return exit::error(&e.into()),
    };
    let mut worst = Outcome::Ok;
    for file in files {
        let outcome = check_one(file, trusted.as_ref());
        worst = match (worst, outcome) {
            (Outcome::Error, _) | (_, Outcome::Error) => Outcome::Error,
            (Outcome::Failed, _) | (_, Outcome::Failed) => Outcome::Failed,
            _ => Outcome::Ok,
        };
    }
    worst
}

fn check_one(file: &Path, trusted: Option<&TrustedKeys>) -> Outcome {
    let origin = file.display().to_string();
    let text = match read_text(file) {
        Ok(t) => t,
        Err(e @ PolicyError::Invalid(_)) => {
            eprintln!("{e}");
            return Outcome::Failed;
        }
        Err(e) => {
            eprintln!("error: {e}");
            return Outcome::Error;
        }
    };
    let result = if is_bundle(&text) {
        match trusted {
            Some(t) => verify_bundle(&text, &origin, file.parent(), t)
                .map(|v| format!("{}; signature OK (key {})", summary(&v.policy), v.signer.key_id())),
            None => parse_bundle(&text, &origin)
                .map_err(PolicyError::from)
                .and_then(|b| {
                    let key_id = b.key_id;
                    parse_bundle_body(&b, &origin, file.parent())
                        .map(|p| format!("{}; signed by key {key_id}, signature NOT checked (no --trust)", summary(&p)))
                }),
        }
    } else if trusted.is_some() {
        Err(PolicyError::Bundle(exam_policy::BundleError::Unsigned { file: origin.clone() }))
    } else if let Some(rules) = deny_list(&text, &origin) {
        rules
    } else {
        parse_policy(&text, &origin, file.parent()).map(|p| summary(&p))
    };
    match result {
        Ok(msg) => {
            outln!("{origin}: ok: {msg}");
            Outcome::Ok
        }
        Err(e) => {
            eprintln!("{e}");
            Outcome::Failed
        }
    }
}

/// A deny-list file (like `policies/default-deny.toml`) is checked as one.
fn deny_list(text: &str, origin: &str) -> Option<Result<String, PolicyError>> {
    let doc: toml::Table = toml::from_str(text).ok()?;
    if doc.len() != 1 || !doc.contains_key("deny") {
        return None;
    }
    Some(exam_policy::process::parse_deny_list(text, origin).map(|r| format!("deny list, {} rules", r.len())))
}

fn sign(file: &Path, key: &Path, out: Option<PathBuf>) -> anyhow::Result<Outcome> {
    let key = SigningKey::load(key)?;
    let text = read_text(file)?;
    if is_bundle(&text) {
        bail!("{} is already a signed bundle", file.display());
    }
    let bundle = match sign_policy(&text, &file.display().to_string(), file.parent(), &key) {
        Ok(b) => b,
        Err(e @ PolicyError::Invalid(_)) => {
            eprintln!("{e}");
            eprintln!("not signed: the policy is invalid");
            return Ok(Outcome::Failed);
        }
        Err(e) => return Err(e.into()),
    };
    let out = out.unwrap_or_else(|| file.with_extension("bundle"));
    std::fs::write(&out, bundle).with_context(|| format!("cannot write {}", out.display()))?;
    outln!(
        "signed {} -> {} with key {}",
        file.display(),
        out.display(),
        key.public_key().key_id()
    );
    Ok(Outcome::Ok)
}

fn keygen(out: &Path, force: bool) -> anyhow::Result<Outcome> {
    let key = SigningKey::generate()?;
    // 0600, whole or not at all; refusing an existing key unless --force.
    let how = if force { exam_secure::FileWrite::PRIVATE } else { exam_secure::FileWrite::PRIVATE.create_new() };
    how.write(out, key.to_pem().as_bytes())
        .with_context(|| format!("cannot create {} (use --force to overwrite)", out.display()))?;
    let public = key.public_key();
    let mut pub_path = out.as_os_str().to_owned();
    pub_path.push(".pub");
    let pub_path = PathBuf::from(pub_path);
    std::fs::write(&pub_path, format!("{public} key-id:{}\n", public.key_id()))
        .with_context(|| format!("cannot write {}", pub_path.display()))?;
    outln!("private key: {} (keep it secret)", out.display());
    outln!("public key:  {public}");
    outln!("key id:      {}", public.key_id());
    outln!("written to:  {}", pub_path.display());
    Ok(Outcome::Ok)
}
