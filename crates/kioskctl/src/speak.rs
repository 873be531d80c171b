//! `kioskctl speak`: read-aloud with the kiosk's own engine
//! (`kiosk_core::tools::synthesize`, espeak-ng), into a WAV file, so school
//! IT and tests can hear and check what the kiosk would say.

use crate::exit::{self, Outcome};
use clap::Args;
use kiosk_core::tools::{synthesize, Lang, Rate};
use std::path::PathBuf;

/// Speak a text into a WAV file with the kiosk's read-aloud engine.
#[derive(Args)]
pub struct SpeakArgs {
    /// The language of the voice: nl, en, nl-be, …
    #[arg(long)]
    lang: Lang,
    /// The text to speak. Exam content is better given with --text-file,
    /// since other users can read a command line in the process list.
    #[arg(long, conflicts_with = "text_file", required_unless_present = "text_file")]
    text: Option<String>,
    /// Read the text from this file (UTF-8) instead.
    #[arg(long)]
    text_file: Option<PathBuf>,
    /// The WAV file to write (16-bit mono PCM).
    #[arg(long)]
    out: PathBuf,
    /// Words per minute, 80 to 450 [default: 175, espeak-ng's own].
    #[arg(long)]
    rate: Option<Rate>,
}

/// Runs `kioskctl speak`.
pub fn run(args: SpeakArgs) -> Outcome {
    let text = match (&args.text, &args.text_file) {
        (Some(text), _) => text.clone(),
        (None, Some(path)) => match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) => return exit::error(&anyhow::anyhow!("{}: {err}", path.display())),
        },
        (None, None) => unreachable!("clap requires --text or --text-file"),
    };
    let speech = match synthesize(&text, &args.lang, args.rate.unwrap_or_default()) {
        Ok(speech) => speech,
        Err(err) => return exit::error(&anyhow::anyhow!(err)),
    };
    if let Err(err) = std::fs::write(&args.out, speech.pcm.to_wav()) {
        return exit::error(&anyhow::anyhow!("{}: {err}", args.out.display()));
    }
    outln!(
        "{}: {:.2} s, {} Hz, voice {} ({}, {}) at {}",
        args.out.display(),
        speech.pcm.duration().as_secs_f64(),
        speech.pcm.sample_rate,
        speech.voice.name,
        speech.voice.language,
        speech.voice.file,
        speech.rate
    );
    Outcome::Ok
}
