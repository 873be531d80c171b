//! Read-aloud (issue 19, "Dutch read-aloud, offline"): text in, 16-bit mono
//! PCM / WAV out, spoken by espeak-ng with the voice of the asked language.
//!
//! The engine runs the `espeak-ng` program (Debian packages `espeak-ng` and
//! `espeak-ng-data`, installed by `cargo xtask`) rather than linking
//! libespeak-ng; docs/ui.md ("Read-aloud") gives the measurements and the
//! reasons. In short: a sentence takes 40–140 ms including the program's
//! start, a crash or hang of the synthesiser cannot take the kiosk down, and
//! no build of the kiosk needs the library. What the program does not give
//! is word events, so [`Speech`] carries no word boundaries.
//!
//! Like the clipboard tools (`crate::clipboard`), the program is run by its
//! absolute path ([`ESPEAK_NG`]), never looked up through `PATH`, and with an
//! empty environment: espeak-ng reads its voices from `$ESPEAK_DATA_PATH` or
//! `$HOME/espeak-ng-data` before its own data, and on a student's own device
//! the student controls both. The text goes in on standard input, never on
//! the command line, where other users could read it in the process list.
//!
//! `kioskctl speak` uses this engine, so school IT and tests hear and check
//! exactly what the kiosk would say (tests/speak.rs checks the voice is the
//! Dutch one, the audio is not silent and its length fits the rate).

use std::fmt;
use std::io::{Read, Write as _};
use std::path::Path;
use std::process::{Command, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

/// The espeak-ng program (Debian packages `espeak-ng`, `espeak-ng-data`).
pub const ESPEAK_NG: &str = "/usr/bin/espeak-ng";

/// The longest text spoken at once, in characters: an item's text with its
/// options is far below this; a whole exam at once is not meant.
pub const MAX_SPEAK_CHARS: usize = 20_000;

/// Why speech could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SpeakError {
    /// espeak-ng is not installed at [`ESPEAK_NG`].
    #[error("{ESPEAK_NG} is not installed (install the Debian packages espeak-ng and espeak-ng-data); the kiosk never looks it up through PATH")]
    NotInstalled,
    /// No installed voice speaks the language.
    #[error("espeak-ng has no voice for the language '{0}' (installed voices: espeak-ng --voices)")]
    NoVoice(Lang),
    /// Nothing to say.
    #[error("the text is empty")]
    EmptyText,
    /// The text is longer than [`MAX_SPEAK_CHARS`].
    #[error("the text has {0} characters; at most {MAX_SPEAK_CHARS} are spoken at once")]
    TooLong(usize),
    /// espeak-ng could not be run or failed.
    #[error("espeak-ng: {0}")]
    Engine(String),
    /// espeak-ng's audio is not what it should be.
    #[error("espeak-ng's audio: {0}")]
    Audio(#[from] WavError),
}

/// A language tag as espeak-ng names its voices: `nl`, `en`, `en-gb`,
/// `nl-be`… (2 or 3 letters, then up to three `-` parts of letters and
/// digits), lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Lang(String);

impl Lang {
    /// The tag, lower-case.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The language without its region or script (`nl` of `nl-nl`), if the
    /// tag has more.
    pub fn primary(&self) -> Option<Lang> {
        self.0.split_once('-').map(|(primary, _)| Lang(primary.to_owned()))
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a language tag was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a language tag such as nl, en or nl-be")]
pub struct LangError(String);

impl FromStr for Lang {
    type Err = LangError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_ascii_lowercase();
        let mut parts = lower.split('-');
        let primary = parts.next().unwrap_or_default();
        let primary_ok = (2..=3).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_lowercase());
        let rest: Vec<&str> = parts.collect();
        let rest_ok = rest.len() <= 3
            && rest.iter().all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
        if primary_ok && rest_ok {
            Ok(Lang(lower))
        } else {
            Err(LangError(s.to_owned()))
        }
    }
}

/// The speaking rate in words per minute, as espeak-ng counts them
/// (80 to 450; its default is 175).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rate(u16);

impl Rate {
    /// The slowest rate espeak-ng speaks.
    pub const MIN: Rate = Rate(80);
    /// The fastest rate accepted.
    pub const MAX: Rate = Rate(450);
    /// espeak-ng's own default.
    pub const DEFAULT: Rate = Rate(175);

    /// A rate, if it is between [`Rate::MIN`] and [`Rate::MAX`].
    pub fn new(words_per_minute: u16) -> Option<Rate> {
        (Self::MIN.0..=Self::MAX.0).contains(&words_per_minute).then_some(Rate(words_per_minute))
    }

    /// Words per minute.
    pub fn words_per_minute(self) -> u16 {
        self.0
    }
}

impl Default for Rate {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} words per minute", self.0)
    }
}

/// Why a rate was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a rate: give words per minute from 80 to 450")]
pub struct RateError(String);

impl FromStr for Rate {
    type Err = RateError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.trim().parse::<u16>().ok().and_then(Rate::new).ok_or_else(|| RateError(s.to_owned()))
    }
}

/// An installed espeak-ng voice, as `espeak-ng --voices` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Voice {
    /// The voice's name (`Dutch`).
    pub name: String,
    /// The language it is listed for (`nl`).
    pub language: String,
    /// Its file under espeak-ng-data/voices (`gmw/nl`): what the engine
    /// passes to `-v`, so the voice reported is the voice used.
    pub file: String,
}

/// Spoken text: the audio and the voice that spoke it.
#[derive(Debug, Clone)]
pub struct Speech {
    /// The voice that spoke.
    pub voice: Voice,
    /// The rate it spoke at.
    pub rate: Rate,
    /// The audio.
    pub pcm: Pcm,
}

/// 16-bit signed mono PCM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pcm {
    /// Samples per second.
    pub sample_rate: u32,
    /// The samples.
    pub samples: Vec<i16>,
}

/// Why WAV data was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WavError {
    /// Not a RIFF/WAVE file.
    #[error("not a RIFF WAVE file")]
    NotWave,
    /// A chunk is missing or cut short.
    #[error("{0} is missing or cut short")]
    Chunk(&'static str),
    /// Not 16-bit mono PCM.
    #[error("not 16-bit mono PCM (format {format}, {channels} channels, {bits} bits)")]
    Format {
        /// The format tag (1 is PCM).
        format: u16,
        /// Channels.
        channels: u16,
        /// Bits per sample.
        bits: u16,
    },
    /// The RIFF size does not match the data.
    #[error("the RIFF size says {said} bytes, the file has {has}")]
    Size {
        /// What the header says.
        said: u64,
        /// What there is.
        has: u64,
    },
}

impl Pcm {
    /// How long it plays.
    pub fn duration(&self) -> Duration {
        if self.sample_rate == 0 {
            return Duration::ZERO;
        }
        Duration::from_secs_f64(self.samples.len() as f64 / f64::from(self.sample_rate))
    }

    /// Root mean square of the samples, 0 for silence, at most 32768.
    pub fn rms(&self) -> f64 {
        if self.samples.is_empty() {
            return 0.0;
        }
        let sum: f64 = self.samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
        (sum / self.samples.len() as f64).sqrt()
    }

    /// A canonical 44-byte-header WAV file.
    pub fn to_wav(&self) -> Vec<u8> {
        let data_len = u32::try_from(self.samples.len() * 2).unwrap_or(u32::MAX - 36);
        let mut out = Vec::with_capacity(44 + data_len as usize);
        out.extend_from_slice(b"RIFF");
        out.extend_from_slice(&(36 + data_len).to_le_bytes());
        out.extend_from_slice(b"WAVEfmt ");
        out.extend_from_slice(&16u32.to_le_bytes());
        out.extend_from_slice(&1u16.to_le_bytes()); // PCM
        out.extend_from_slice(&1u16.to_le_bytes()); // mono
        out.extend_from_slice(&self.sample_rate.to_le_bytes());
        out.extend_from_slice(&(self.sample_rate * 2).to_le_bytes()); // bytes per second
        out.extend_from_slice(&2u16.to_le_bytes()); // block align
        out.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
        out.extend_from_slice(b"data");
        out.extend_from_slice(&data_len.to_le_bytes());
        for s in self.samples.iter().take(data_len as usize / 2) {
            out.extend_from_slice(&s.to_le_bytes());
        }
        out
    }

    /// Reads a WAV file of 16-bit mono PCM whose sizes are right.
    pub fn from_wav(bytes: &[u8]) -> Result<Pcm, WavError> {
        Self::parse(bytes, false)
    }

    /// Reads espeak-ng's `--stdout`: it writes the header before it knows the
    /// length, so the RIFF and data sizes say "about 2 GiB" and the data is
    /// whatever follows.
    fn from_stream(bytes: &[u8]) -> Result<Pcm, WavError> {
        Self::parse(bytes, true)
    }

    fn parse(bytes: &[u8], streamed: bool) -> Result<Pcm, WavError> {
        let u16_at = |b: &[u8], i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
        let u32_at = |b: &[u8], i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
            return Err(WavError::NotWave);
        }
        let riff = u64::from(u32_at(bytes, 4)) + 8;
        if !streamed && riff != bytes.len() as u64 {
            return Err(WavError::Size { said: riff, has: bytes.len() as u64 });
        }
        let mut at = 12;
        let mut format = None;
        while at + 8 <= bytes.len() {
            let id = &bytes[at..at + 4];
            let declared = u32_at(bytes, at + 4) as usize;
            let body = at + 8;
            if id == b"data" {
                let sample_rate = format.ok_or(WavError::Chunk("the 'fmt ' chunk"))?;
                let available = bytes.len() - body;
                let len = if streamed { declared.min(available) } else { declared };
                if len > available {
                    return Err(WavError::Chunk("the 'data' chunk"));
                }
                let samples = bytes[body..body + len].chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]])).collect();
                return Ok(Pcm { sample_rate, samples });
            }
            if body + declared > bytes.len() {
                return Err(WavError::Chunk(if id == b"fmt " { "the 'fmt ' chunk" } else { "a chunk before 'data'" }));
            }
            if id == b"fmt " {
                if declared < 16 {
                    return Err(WavError::Chunk("the 'fmt ' chunk"));
                }
                let (tag, channels, bits) = (u16_at(bytes, body), u16_at(bytes, body + 2), u16_at(bytes, body + 14));
                if tag != 1 || channels != 1 || bits != 16 {
                    return Err(WavError::Format { format: tag, channels, bits });
                }
                format = Some(u32_at(bytes, body + 4));
            }
            // Chunks are padded to an even length.
            at = body + declared + (declared & 1);
        }
        Err(WavError::Chunk(if format.is_some() { "the 'data' chunk" } else { "the 'fmt ' chunk" }))
    }
}

/// The installed voice espeak-ng uses for `lang`: one listed for exactly
/// that language, else the first (espeak-ng lists by priority) that names
/// it among its other languages, else the voice for the language without
/// its region (`nl-NL`, as QTI items write it, is spoken by `nl`). MBROLA
/// voices are passed over: they need the separate `mbrola` program and its
/// voice databases.
pub fn voice_for(lang: &Lang) -> Result<Voice, SpeakError> {
    match (listed_voice_for(lang), lang.primary()) {
        (Err(SpeakError::NoVoice(_)), Some(primary)) => {
            listed_voice_for(&primary).map_err(|e| if matches!(e, SpeakError::NoVoice(_)) { SpeakError::NoVoice(lang.clone()) } else { e })
        }
        (found, _) => found,
    }
}

fn listed_voice_for(lang: &Lang) -> Result<Voice, SpeakError> {
    let listing = run_espeak(&[&format!("--voices={lang}")], None)?;
    let listing = String::from_utf8_lossy(&listing);
    let mut fallback = None;
    // " 5  nl              --/M      Dutch              gmw/nl               (nl-be 7)"
    for line in listing.lines().skip(1) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [_, language, _, name, file, others @ ..] = fields.as_slice() else { continue };
        if file.starts_with("mb/") {
            continue;
        }
        let voice = Voice { name: (*name).to_owned(), language: (*language).to_owned(), file: (*file).to_owned() };
        if *language == lang.as_str() {
            return Ok(voice);
        }
        let listed = others.iter().any(|o| o.trim_start_matches('(') == lang.as_str());
        if listed && fallback.is_none() {
            fallback = Some(voice);
        }
    }
    fallback.ok_or_else(|| SpeakError::NoVoice(lang.clone()))
}

/// Speaks `text` in `lang` at `rate`.
pub fn synthesize(text: &str, lang: &Lang, rate: Rate) -> Result<Speech, SpeakError> {
    check_text(text)?;
    let text = plain(text);
    let text = text.as_str();
    let voice = voice_for(lang)?;
    let rate_arg = rate.words_per_minute().to_string();
    let wav = run_espeak(&["-v", &voice.file, "-s", &rate_arg, "-b", "1", "--stdout", "--stdin"], Some(text))?;
    let pcm = Pcm::from_stream(&wav)?;
    if pcm.samples.is_empty() {
        return Err(SpeakError::Engine("no audio came out".into()));
    }
    Ok(Speech { voice, rate, pcm })
}

/// espeak-ng's phoneme mnemonics for `text` in `lang` (`-x`), with the same
/// voice [`synthesize`] uses: "goed" is `Q'ut` in Dutch, `g'oUd` in English.
/// For checks; nothing is spoken.
pub fn phonemes(text: &str, lang: &Lang) -> Result<String, SpeakError> {
    check_text(text)?;
    let text = plain(text);
    let voice = voice_for(lang)?;
    let out = run_espeak(&["-v", &voice.file, "-b", "1", "-q", "-x", "--stdin"], Some(&text))?;
    Ok(String::from_utf8_lossy(&out).trim().to_owned())
}

/// How long each word of `text` takes to say, relative to the others, for
/// the page's caption (issue 19, "the spoken word highlighted"): espeak-ng's
/// program gives no word events, so the page shares a part's audio out over
/// its words by these weights — each word's phonemes as espeak-ng itself
/// makes them (`-x`, one line per word), plus a pause after a comma or a
/// sentence end. Words are split like the page splits them (whitespace).
/// `None` when espeak-ng's lines do not match the words one to one (a word
/// it says nothing for): the page then estimates by letters. Measured
/// against espeak-ng's own audio (ui/dev/measure-word-times.mjs,
/// docs/benchmarks.md): the marked word is right at 87 % of words' middles
/// and never more than one word off, against 68 % by letters.
pub fn word_weights(text: &str, lang: &Lang) -> Result<Option<Vec<f32>>, SpeakError> {
    check_text(text)?;
    let text = plain(text);
    let words: Vec<&str> = text.split_whitespace().collect();
    let voice = voice_for(lang)?;
    // Each word on its own line, ended like a sentence, so espeak-ng writes one line per word.
    let input: String = words.iter().map(|w| format!("{}.\n", w.trim_end_matches(['.', '!', '?', '…', ':', ';', ',']))).collect();
    let out = run_espeak(&["-v", &voice.file, "-b", "1", "-q", "-x", "--sep=_", "--stdin"], Some(&input))?;
    let out = String::from_utf8_lossy(&out);
    let lines: Vec<&str> = out.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.len() != words.len() {
        return Ok(None);
    }
    let weights = words
        .iter()
        .zip(lines)
        .map(|(word, line)| {
            let phonemes = line.split(['_', ' ', '\t']).filter(|p| p.chars().any(|c| !matches!(c, '\'' | ',' | '#' | '|' | '!'))).count();
            let pause = if word.ends_with(['.', '!', '?', '…', ':', ';']) {
                4.0
            } else if word.ends_with(',') {
                2.0
            } else {
                0.0
            };
            phonemes.max(1) as f32 + pause + 1.0
        })
        .collect();
    Ok(Some(weights))
}

/// The text as espeak-ng gets it: U+0001 starts an embedded command there
/// (a voice switch, even without `-m`), so no control character but tab and
/// newline reaches it — once a student's own answer is read aloud, the text
/// is theirs.
fn plain(text: &str) -> String {
    text.chars().map(|c| if c.is_control() && c != '\n' && c != '\t' { ' ' } else { c }).collect()
}

fn check_text(text: &str) -> Result<(), SpeakError> {
    if text.trim().is_empty() {
        return Err(SpeakError::EmptyText);
    }
    let chars = text.chars().count();
    if chars > MAX_SPEAK_CHARS {
        return Err(SpeakError::TooLong(chars));
    }
    Ok(())
}

/// How long espeak-ng may take: the longest text ([`MAX_SPEAK_CHARS`]) at
/// the slowest rate takes about 2.5 s on a school PC (measured: 20,000
/// characters of Dutch at 80 wpm, 42 minutes of audio, 2.3 s).
pub const SPEAK_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs espeak-ng with `args` and `stdin`, returning its standard output.
fn run_espeak(args: &[&str], stdin: Option<&str>) -> Result<Vec<u8>, SpeakError> {
    if !Path::new(ESPEAK_NG).is_file() {
        return Err(SpeakError::NotInstalled);
    }
    run_program(ESPEAK_NG, args, stdin, SPEAK_TIMEOUT)
}

/// One synthesiser at a time in this process: the exam page asks for the
/// next part while one plays, and a student who presses "voorlezen" again
/// and again must not start a program per press on the school PC. Later
/// requests wait their turn (each at most [`SPEAK_TIMEOUT`] long).
static ENGINE: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs `program` with an empty environment, `stdin` written to it, and
/// returns its standard output; a program that has not ended after `timeout`
/// is killed, so a hanging synthesiser never holds the kiosk up. One at a
/// time ([`ENGINE`]).
fn run_program(program: &str, args: &[&str], stdin: Option<&str>, timeout: Duration) -> Result<Vec<u8>, SpeakError> {
    // A panic elsewhere while holding it leaves nothing to repair.
    let _one = ENGINE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut child = Command::new(program)
        .args(args)
        .env_clear()
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| SpeakError::Engine(format!("cannot start {program}: {e}")))?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        // Written from another thread: espeak-ng starts writing audio before
        // it has read everything, and both pipes have bounded buffers.
        let text = text.to_owned();
        std::thread::spawn(move || {
            let _ = pipe.write_all(text.as_bytes());
        });
    }
    let read = |pipe: Option<Box<dyn Read + Send>>, cap: u64| {
        std::thread::spawn(move || {
            let mut out = Vec::new();
            if let Some(pipe) = pipe {
                let _ = pipe.take(cap).read_to_end(&mut out);
            }
            out
        })
    };
    let stdout = read(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>), u64::MAX);
    let stderr = read(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>), 64 << 10);
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if start.elapsed() < timeout => std::thread::sleep(Duration::from_millis(5)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                break Err(SpeakError::Engine(format!("did not finish within {} s and was ended", timeout.as_secs_f64())));
            }
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                break Err(SpeakError::Engine(e.to_string()));
            }
        }
    };
    let out = stdout.join().unwrap_or_default();
    let said = stderr.join().unwrap_or_default();
    let status = status?;
    if !status.success() {
        let said = String::from_utf8_lossy(&said);
        return Err(SpeakError::Engine(format!("exited with {}: {}", status, said.trim())));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn control_characters_never_reach_the_engine() {
        assert_eq!(super::plain("goed\u{1}Ven\u{1}zo\u{0}\u{7f}\tnu\n"), "goed Ven zo  \tnu\n");
    }

    use super::*;

    #[test]
    fn language_tags_parse_and_refuse() {
        assert_eq!("NL".parse::<Lang>().unwrap().as_str(), "nl");
        assert_eq!("nl-BE".parse::<Lang>().unwrap().as_str(), "nl-be");
        assert_eq!("en-gb-scotland".parse::<Lang>().unwrap().as_str(), "en-gb-scotland");
        assert_eq!("nl-NL".parse::<Lang>().unwrap().primary(), Some("nl".parse().unwrap()));
        assert_eq!("nl".parse::<Lang>().unwrap().primary(), None);
        for bad in ["", "n", "dutch", "nl_NL", "nl-", "-v", "nl;rm", "../nl", "nl-a-b-c-d"] {
            assert!(bad.parse::<Lang>().is_err(), "{bad}");
        }
    }

    #[test]
    fn rates_are_bounded() {
        assert_eq!("80".parse::<Rate>().unwrap(), Rate::MIN);
        assert_eq!(" 450 ".parse::<Rate>().unwrap(), Rate::MAX);
        for bad in ["79", "451", "0", "-5", "fast", ""] {
            assert_eq!(bad.parse::<Rate>(), Err(RateError(bad.to_owned())), "{bad}");
        }
    }

    #[test]
    fn wav_written_reads_back_and_bad_sizes_are_refused() {
        let pcm = Pcm { sample_rate: 22050, samples: vec![0, 1000, -1000, i16::MAX, i16::MIN] };
        let wav = pcm.to_wav();
        assert_eq!(wav.len(), 44 + 10);
        assert_eq!(Pcm::from_wav(&wav).unwrap(), pcm);
        assert_eq!(Pcm::from_wav(&wav[..50]), Err(WavError::Size { said: 54, has: 50 }));
        let mut stereo = wav.clone();
        stereo[22] = 2;
        assert_eq!(Pcm::from_wav(&stereo), Err(WavError::Format { format: 1, channels: 2, bits: 16 }));
        assert_eq!(Pcm::from_wav(b"RIFX\0\0\0\0WAVE"), Err(WavError::NotWave));
        // espeak-ng's streamed header: sizes say ~2 GiB.
        let mut streamed = wav.clone();
        streamed[4..8].copy_from_slice(&0x7fff_f024u32.to_le_bytes());
        streamed[40..44].copy_from_slice(&0x7fff_f000u32.to_le_bytes());
        assert_eq!(Pcm::from_stream(&streamed).unwrap(), pcm);
        assert!(Pcm::from_wav(&streamed).is_err());
    }

    #[test]
    fn duration_and_rms() {
        let pcm = Pcm { sample_rate: 100, samples: vec![300, -300].repeat(50) };
        assert_eq!(pcm.duration(), Duration::from_secs(1));
        assert!((pcm.rms() - 300.0).abs() < 1e-9);
        assert_eq!(Pcm { sample_rate: 100, samples: vec![0; 10] }.rms(), 0.0);
    }

    /// A synthesiser that hangs is ended at the deadline instead of holding
    /// the kiosk up (before, the engine waited for it without end).
    #[test]
    #[cfg(unix)]
    fn a_hanging_engine_is_ended_at_the_deadline() {
        let start = Instant::now();
        let err = run_program("/bin/sleep", &["30"], None, Duration::from_millis(300)).unwrap_err();
        assert!(start.elapsed() < Duration::from_secs(5), "{:?}", start.elapsed());
        assert_eq!(err.to_string(), "espeak-ng: did not finish within 0.3 s and was ended");
        // A hang while the text is still being written changes nothing.
        let start = Instant::now();
        let text = "x".repeat(1 << 20);
        assert!(run_program("/bin/sleep", &["30"], Some(&text), Duration::from_millis(300)).is_err());
        assert!(start.elapsed() < Duration::from_secs(5), "{:?}", start.elapsed());
    }

    /// Requests at the same time run one after the other: three runs of
    /// 0.2 s cannot end before 0.6 s. Before, each request started its own
    /// program at once (a student pressing "voorlezen" repeatedly started as
    /// many synthesisers).
    #[test]
    #[cfg(unix)]
    fn one_engine_runs_at_a_time() {
        let start = Instant::now();
        let runs: Vec<_> = (0..3).map(|_| std::thread::spawn(|| run_program("/bin/sleep", &["0.2"], None, Duration::from_secs(10)))).collect();
        for run in runs {
            run.join().unwrap().unwrap();
        }
        assert!(start.elapsed() >= Duration::from_millis(600), "ran side by side: {:?}", start.elapsed());
    }

    #[test]
    fn empty_and_overlong_text_is_refused_before_the_engine_runs() {
        let nl: Lang = "nl".parse().unwrap();
        assert!(matches!(synthesize(" \n\t", &nl, Rate::DEFAULT), Err(SpeakError::EmptyText)));
        let long = "a".repeat(MAX_SPEAK_CHARS + 1);
        assert!(matches!(synthesize(&long, &nl, Rate::DEFAULT), Err(SpeakError::TooLong(n)) if n == MAX_SPEAK_CHARS + 1));
    }
}
