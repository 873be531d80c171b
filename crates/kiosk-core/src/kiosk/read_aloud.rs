//! Read-aloud in the exam (issue 19): the kiosk speaks a text the exam page
//! gives it (an item's text, its options, the student's own answer) with
//! the engine in [`crate::tools`] (espeak-ng), and hands the web view a WAV
//! `data:` URL for an `<audio>` element (the CSP's `media-src` allows
//! `data:`), which gives pause, stop and speed.
//!
//! Only for a student whose assignment grants the `read-aloud`
//! accommodation or on an instrument that grants it everyone (its signed
//! header, `kioskctl instrument pack --tool voorlezen`), and only while the
//! exam runs. Each part spoken is
//! journalled as `kiosk.read_aloud` with counts only (characters, words,
//! rate, audio length), never the text.

use super::*;
use crate::tools::{synthesize, word_weights, Lang, Rate};

/// A part spoken: the audio for the page's `<audio>`, and how long each of
/// its words takes relative to the others (`None`: the page estimates).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spoken {
    /// A `data:audio/wav;base64,…` URL.
    pub audio: String,
    /// Per word (the text split at whitespace), for the caption's marked word.
    pub weights: Option<Vec<f32>>,
}
use base64::Engine as _;

/// The accommodation (the policy's and the hub's id) that grants read-aloud.
pub const READ_ALOUD: &str = "read-aloud";

/// The longest text spoken at one request, in characters: a paragraph or an
/// item's text; the page sends a longer text in parts. At the slowest rate
/// this is about 2.5 MB of WAV through the web view's IPC.
pub const READ_ALOUD_MAX_CHARS: usize = 1_000;

/// Whether the assignment's tools grant read-aloud.
pub fn read_aloud_granted(tools: &[String]) -> bool {
    tools.iter().any(|t| t == READ_ALOUD)
}

impl Kiosk {
    /// Speaks `text` in `lang` (the item's or the instrument's language, as
    /// QTI writes it: `nl`, `nl-NL`) at `rate` words per minute; the WAV as
    /// a `data:audio/wav;base64,…` URL. The synthesis runs without the
    /// state lock.
    pub async fn read_aloud(&self, text: &str, lang: &str, rate: u16) -> Result<Spoken, UserError> {
        {
            let inner = self.inner.lock().await;
            if inner.phase() != Some(Phase::InExam) {
                return Err(user("Voorlezen kan alleen tijdens het examen."));
            }
            let tools = inner.stage.assignment().map(|a| a.accommodations.tools.as_slice()).unwrap_or_default();
            if !crate::tools::read_aloud_on(inner.stage.instrument().and_then(|i| i.qti_test()), tools) {
                return Err(user("Voorlezen is voor jou niet toegestaan. Roep de surveillant als dat niet klopt."));
            }
        }
        let chars = text.chars().count();
        if chars > READ_ALOUD_MAX_CHARS {
            return Err(user(format!("Deze tekst is te lang om in één keer voor te lezen ({chars} tekens, ten hoogste {READ_ALOUD_MAX_CHARS}).")));
        }
        let lang: Lang = lang.parse().map_err(|e| user(format!("Voorlezen: {e}")))?;
        let rate = Rate::new(rate).ok_or_else(|| user(format!("Voorlezen: snelheid {rate} kan niet (80 tot 450 woorden per minuut).")))?;
        let counts = ev::ReadAloud {
            audio_ms: 0,
            chars: u32::try_from(chars).unwrap_or(u32::MAX),
            rate: rate.words_per_minute(),
            words: u32::try_from(text.split_whitespace().count()).unwrap_or(u32::MAX),
        };
        let text = text.to_owned();
        let (speech, weights) = tokio::task::spawn_blocking(move || {
            // The caption's estimate is a nicety: without it the page estimates by letters.
            synthesize(&text, &lang, rate).map(|speech| (speech, word_weights(&text, &lang).ok().flatten()))
        })
        .await
        .map_err(|e| user(format!("Voorlezen lukt nu niet: {e}")))?
        .map_err(|e| user(format!("Voorlezen lukt nu niet: {e}")))?;
        let audio_ms = u64::try_from(speech.pcm.duration().as_millis()).unwrap_or(u64::MAX);
        self.inner.lock().await.journal_event(&KioskEvent::KioskReadAloud(ev::ReadAloud { audio_ms, ..counts }));
        Ok(Spoken { audio: wav_data_url(&speech.pcm.to_wav()), weights })
    }
}

/// A WAV file as a `data:` URL for an `<audio>` element.
pub fn wav_data_url(wav: &[u8]) -> String {
    format!("data:audio/wav;base64,{}", base64::engine::general_purpose::STANDARD.encode(wav))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_read_aloud_accommodation_grants_it() {
        let tools = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(read_aloud_granted(&tools(&["spell-check", "read-aloud"])));
        assert!(!read_aloud_granted(&tools(&[])));
        assert!(!read_aloud_granted(&tools(&["spell-check", "screen-reader"])));
        // Names are the policy's ids, not free text.
        assert!(!read_aloud_granted(&tools(&["read-aloud-extra", "Read-Aloud "])));
    }

    #[test]
    fn the_wav_goes_as_a_data_url() {
        assert_eq!(wav_data_url(b"RIFF"), "data:audio/wav;base64,UklGRg==");
    }
}
