//! `kioskctl instrument`: pack, inspect, verify and render exam instrument packages.

use crate::exit::{self, Outcome};
use anyhow::{bail, Context};
use clap::Subcommand;
use exam_policy::{SigningKey, TrustedKeys};
use kiosk_core::instrument::web_instrument::{pack_web, WEB_INSTRUMENT_FILE};
use kiosk_core::instrument::{pack, ContentKey, InstrumentTool, InstrumentTools, HowScored, InstrumentTrust, PackInput, PackageError, SealedPackage};
use std::path::{Path, PathBuf};

/// Signed, encrypted QTI 3.0 instrument packages (`.exam`).
#[derive(Subcommand)]
pub enum InstrumentCommand {
    /// Pack a QTI 3.0 content package directory into a signed, encrypted
    /// `.exam` file; the content key goes to a separate file (mode 0600).
    Pack {
        /// Directory with imsmanifest.xml, the assessment test, items and media.
        dir: PathBuf,
        /// The approval key (from `kioskctl policy keygen`).
        #[arg(long)]
        sign: PathBuf,
        /// The package to write.
        #[arg(long)]
        out: PathBuf,
        /// Where to write the content key; default OUT.key.
        #[arg(long)]
        key_out: Option<PathBuf>,
        /// Instrument id; default the assessment test's identifier.
        #[arg(long)]
        id: Option<String>,
        /// Title; default the assessment test's title.
        #[arg(long)]
        title: Option<String>,
        /// Approved version label, e.g. `2025.1`.
        #[arg(long, default_value = "1")]
        version: String,
        /// A tool this instrument gives everyone who sits it, beside each
        /// student's accommodations: `read-aloud` (voorlezen) or
        /// `spell-check` (spellingcontrole). Repeat for both.
        #[arg(long = "tool", value_name = "TOOL")]
        tools: Vec<InstrumentTool>,
        /// An item (its identifier in the test) on which the spell-check is
        /// off for everyone, also for students with the accommodation (a
        /// question that tests spelling). Repeat for more items.
        #[arg(long = "no-spell-check", value_name = "ITEM")]
        no_spell_check: Vec<String>,
    },
    /// Show the signed header (readable without the content key). Not a verification.
    Inspect {
        /// The package.
        file: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Verify approval signature and completeness (exit 0 valid, 1 refused);
    /// with --key also decrypt, check every file and import the QTI.
    Verify {
        /// The package.
        file: PathBuf,
        /// Trusted approval keys (one 64-hex public key per line).
        #[arg(long)]
        trust: PathBuf,
        /// The content key file.
        #[arg(long)]
        key: Option<PathBuf>,
    },
    /// Verify, decrypt and print the render model as JSON (what the kiosk UI gets).
    Render {
        /// The package.
        file: PathBuf,
        /// Trusted approval keys.
        #[arg(long)]
        trust: PathBuf,
        /// The content key file.
        #[arg(long)]
        key: PathBuf,
        /// Print the scoring data (for the hub) instead.
        #[arg(long)]
        scoring: bool,
    },
}

/// Runs an `instrument` subcommand.
pub fn run(cmd: InstrumentCommand) -> Outcome {
    let result = match cmd {
        InstrumentCommand::Pack { dir, sign, out, key_out, id, title, version, tools, no_spell_check } => {
            let mut granted = InstrumentTools { no_spell_check: no_spell_check.into_iter().collect(), ..Default::default() };
            tools.into_iter().for_each(|t| granted.grant(t));
            pack_cmd(&dir, &sign, &out, key_out, PackInput { instrument_id: id.unwrap_or_default(), title: title.unwrap_or_default(), version, files: Vec::new(), tools: granted })
        }
        InstrumentCommand::Inspect { file, json } => inspect(&file, json),
        InstrumentCommand::Verify { file, trust, key } => return verify(&file, &trust, key.as_deref()),
        InstrumentCommand::Render { file, trust, key, scoring } => render(&file, &trust, &key, scoring),
    };
    result.unwrap_or_else(|e| exit::error(&e))
}

fn default_key_path(out: &Path) -> PathBuf {
    let mut name = out.as_os_str().to_owned();
    name.push(".key");
    PathBuf::from(name)
}

/// `input` without its files: they are read from `dir`.
fn pack_cmd(dir: &Path, sign: &Path, out: &Path, key_out: Option<PathBuf>, mut input: PackInput) -> anyhow::Result<Outcome> {
    let signing_key = SigningKey::load(sign)?;
    // Content the packer refuses is a "no" (exit 1); only I/O is an error (exit 2).
    input.files = match PackInput::from_dir(dir) {
        Ok(files) => files,
        Err(e) => return pack_refused(dir, e),
    };
    let key_path = key_out.unwrap_or_else(|| default_key_path(out));
    if key_path.exists() {
        bail!("{}: a content key file already exists; refusing to overwrite it", key_path.display());
    }
    let content_key = ContentKey::generate()?;
    // A directory with web-instrument.json is a supplier's web instrument, otherwise QTI 3.0.
    let web = input.files.iter().any(|(p, _)| p == WEB_INSTRUMENT_FILE);
    let (bytes, instrument) = if web {
        let (bytes, web) = match pack_web(&input, &signing_key, &content_key) {
            Ok(packed) => packed,
            Err(e) => return pack_refused(dir, e),
        };
        outln!("web instrument: {} (origins: {})", web.url, web.allowed_origins.join(", "));
        (bytes, None)
    } else {
        let (bytes, instrument) = match pack(&input, &signing_key, &content_key) {
            Ok(packed) => packed,
            Err(e) => return pack_refused(dir, e),
        };
        (bytes, Some(instrument))
    };
    // Key first (create_new): a package without its key is useless, a key without a package harmless.
    content_key.save(&key_path)?;
    exam_secure::FileWrite::PUBLIC.write(out, &bytes).with_context(|| format!("writing {}", out.display()))?;
    let header = SealedPackage::parse(bytes)?;
    let items = instrument.as_ref().map_or(0, |i| i.test.item_count);
    outln!("packed {} ({items} items, {} files, {} bytes)", out.display(), input.files.len(), header.as_bytes().len());
    outln!("instrument: {} — {} (version {})", header.header().instrument_id, header.header().title, header.header().version);
    outln!("approval key id: {}", header.header().approval_key_id);
    if !header.header().tools.is_empty() {
        outln!("tools: {}", header.header().tools.summary());
    }
    outln!("package sha256: {}", header.file_sha256());
    outln!("content key: {} (give it only to the hub)", key_path.display());
    if let Some(instrument) = &instrument {
        // Notices name their item too (by its file; none for the test's own).
        let items: std::collections::BTreeMap<&str, &str> =
            instrument.items().into_iter().map(|i| (i.href.as_str(), i.identifier.as_str())).collect();
        for n in &instrument.test.notices {
            let item = items.get(n.file.as_str()).map(|id| format!("item {id}: ")).unwrap_or_default();
            outln!("notice: {}:{}: {item}{} left out: {}", n.file, n.line, n.construct, n.reason);
        }
        print_report(instrument);
    }
    Ok(Outcome::Ok)
}

/// Per item its interactions and how it will be scored, then the warnings
/// (images without alternative text) and a count per kind of scoring.
fn print_report(instrument: &kiosk_core::instrument::qti::Instrument) {
    let report = instrument.report();
    let (mut automatic, mut manual, mut nothing) = (0, 0, 0);
    for item in &report {
        let kinds = if item.interactions.is_empty() { "no interaction".to_string() } else { item.interactions.join(", ") };
        let notes = if item.notes.is_empty() { String::new() } else { format!(" — {}", item.notes.join("; ")) };
        outln!("item {} ({}): {kinds} — {}{notes}", item.identifier, item.href, item.scoring);
        match item.scoring {
            HowScored::NothingToScore => nothing += 1,
            ref how if how.automatic() => automatic += 1,
            _ => manual += 1,
        }
    }
    for warning in &instrument.warnings {
        outln!("warning: {warning}");
    }
    outln!(
        "scoring: {automatic} automatisch (hub), {manual} handmatig beoordelen, {nothing} zonder interactie"
    );
    // The test score: the test's own outcome processing, or the sum.
    let test = match &instrument.scoring.test {
        None => "som van de itemscores".to_string(),
        Some(t) => match &t.manual {
            None if t.sets("SCORE") => "eigen verwerking van de toets (door de hub)".to_string(),
            None => "som van de itemscores (de verwerking van de toets zet geen SCORE; wat zij wel berekent, geeft de hub niet als toetsscore)".to_string(),
            Some(reason) => format!("verwerking van de toets niet te lezen ({reason}): de hub geeft de som van de itemscores als voorlopige score"),
        },
    };
    outln!("toetsscore: {test}");
}

fn inspect(file: &Path, json: bool) -> anyhow::Result<Outcome> {
    let sealed = SealedPackage::read(file)?;
    let h = sealed.header();
    if json {
        let mut v = serde_json::to_value(h)?;
        v["package_sha256"] = serde_json::Value::String(sealed.file_sha256());
        v["verified"] = serde_json::Value::Bool(false);
        outln!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        outln!("instrument:      {}", h.instrument_id);
        outln!("title:           {}", h.title);
        outln!("version:         {}", h.version);
        outln!("approval key id: {}", h.approval_key_id);
        outln!("files:           {} ({} bytes)", h.file_count, h.content_bytes);
        outln!("manifest sha256: {}", h.manifest_sha256);
        outln!("cipher:          {} ({} bytes)", h.cipher, h.ciphertext_bytes);
        if !h.tools.is_empty() {
            outln!("tools:           {}", h.tools.summary());
        }
        outln!("package sha256:  {}", sealed.file_sha256());
        outln!("(not verified: use `kioskctl instrument verify --trust KEYS`)");
    }
    Ok(Outcome::Ok)
}

fn verify(file: &Path, trust: &Path, key: Option<&Path>) -> Outcome {
    let trusted = match TrustedKeys::load(trust) {
        Ok(t) => InstrumentTrust::from_keys(&t),
        Err(e) => return exit::error(&e.into()),
    };
    let content_key = match key.map(ContentKey::load).transpose() {
        Ok(k) => k,
        Err(e) => return exit::error(&e.into()),
    };
    let sealed = match SealedPackage::read(file) {
        Ok(s) => s,
        Err(e @ PackageError::Io { .. }) => return exit::error(&e.into()),
        Err(e) => return refused(file, &e),
    };
    let verified = match sealed.verify(&trusted) {
        Ok(v) => v,
        Err(e) => return refused(file, &e),
    };
    outln!("{}: approval signature valid (signed by {}), content complete", file.display(), verified.signer().name);
    if let Some(key) = content_key {
        let contents = match verified.decrypt(&key) {
            Ok(c) => c,
            Err(e) => return refused(file, &e),
        };
        match contents.import() {
            Ok(instrument) => outln!(
                "{}: decrypted, every file matches the signed manifest, QTI imported ({} items)",
                file.display(),
                instrument.test.item_count
            ),
            Err(e) => return refused(file, &e),
        }
    }
    Outcome::Ok
}

/// A packing error: reading the files (I/O) or the random generator failing
/// is an error (exit 2); anything the packer refuses in the content is a
/// refusal (exit 1), said once.
fn pack_refused(dir: &Path, e: PackageError) -> anyhow::Result<Outcome> {
    match e {
        PackageError::Io { .. } | PackageError::Random => Err(e.into()),
        e => Ok(refused(dir, &exit::chain(&e.into()))),
    }
}

fn refused(file: &Path, e: &dyn std::fmt::Display) -> Outcome {
    eprintln!("REFUSED {}: {e}", file.display());
    Outcome::Failed
}

fn render(file: &Path, trust: &Path, key: &Path, scoring: bool) -> anyhow::Result<Outcome> {
    let trusted = InstrumentTrust::from_keys(&TrustedKeys::load(trust)?);
    let key = ContentKey::load(key)?;
    // A package or content refused is a "no" (exit 1), as in verify; only
    // reading the file is an I/O error (exit 2).
    let opened = SealedPackage::read(file).and_then(|s| s.verify(&trusted)).and_then(|v| v.decrypt(&key)).and_then(|c| c.import());
    let instrument = match opened {
        Ok(instrument) => instrument,
        Err(e @ PackageError::Io { .. }) => return Err(e.into()),
        Err(e) => return Ok(refused(file, &e)),
    };
    let json = if scoring {
        serde_json::to_string_pretty(&instrument.scoring)?
    } else {
        serde_json::to_string_pretty(&instrument.test)?
    };
    // A closed pipe (`| head`) ends quietly with exit 2, any other write
    // error (a full disk) says so: the render model was not delivered.
    outln!("{json}");
    Ok(Outcome::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(rel: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(rel)
    }

    #[test]
    fn pack_then_verify_and_refuse_tampering() {
        let tmp = tempfile::tempdir().unwrap();
        let key = SigningKey::generate().unwrap();
        let key_path = tmp.path().join("approve.key");
        std::fs::write(&key_path, key.to_pem()).unwrap();
        let trust = tmp.path().join("trust");
        std::fs::write(&trust, format!("{}\n", key.public_key())).unwrap();
        let out = tmp.path().join("demo.exam");
        let packed = pack_cmd(&fixture("instruments/demo"), &key_path, &out, None, PackInput { version: "1".into(), ..Default::default() }).unwrap();
        assert_eq!(packed, Outcome::Ok);
        let content_key = default_key_path(&out);
        assert!(content_key.exists());
        assert_eq!(verify(&out, &trust, Some(&content_key)), Outcome::Ok);
        assert_eq!(inspect(&out, true).unwrap(), Outcome::Ok);
        // The key file is never overwritten by a second pack.
        assert!(pack_cmd(&fixture("instruments/demo"), &key_path, &out, None, PackInput { version: "1".into(), ..Default::default() }).is_err());
        // One changed byte: refused (exit 1).
        let mut bytes = std::fs::read(&out).unwrap();
        let n = bytes.len();
        bytes[n - 10] ^= 1;
        std::fs::write(&out, &bytes).unwrap();
        assert_eq!(verify(&out, &trust, Some(&content_key)), Outcome::Failed);
        // Another approval key: refused.
        let other = tmp.path().join("other");
        std::fs::write(&other, format!("{}\n", SigningKey::generate().unwrap().public_key())).unwrap();
        assert_eq!(verify(&out, &other, None), Outcome::Failed);
    }
}
