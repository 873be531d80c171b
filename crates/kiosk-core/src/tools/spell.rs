//! The Dutch spell-check (issue 19, "Spell-check in Dutch"): a student's own
//! text in, the words the dictionary does not know out, each with its
//! position and a few suggestions. Only for a student with the spell-check
//! accommodation ([`spell_check_granted`]); the web view's own spell-check
//! stays off for everyone (`spellcheck="false"` on every field).
//!
//! The dictionary is OpenTaal's, as Debian's `hunspell-nl` installs it in
//! [`HUNSPELL_DIR`]; `spellbook` reads the Hunspell files in Rust, so no C
//! library and no program is involved and nothing leaves the kiosk. The
//! dictionary is read once per kiosk run (about 0.1 s, release build) on
//! the first check, never under the kiosk's state lock.
//!
//! Suggestions are the kiosk's own, not Hunspell's: Hunspell's search
//! (`spellbook`'s `suggest`) takes seconds on a long word with a typo
//! (2.6 s for *onderhoudsmedewerkerz*) and does not come back on twenty
//! times the same letter, which a student can type — the kiosk would burn
//! a core for the rest of the exam. The kiosk asks the dictionary about
//! every word one edit away (a letter left out, added, changed or two
//! swapped: 7–14 ms for a word of 7–21 letters, 90 ms at 60), only for
//! words of at most [`MAX_SUGGEST_CHARS`], only for the first
//! [`MAX_SUGGESTED_WORDS`] unknown words, and one check at a time
//! ([`SpellChecker::misspellings`] holds a lock). A doubled or undoubled
//! letter (*fietsenstaling* → *fietsenstalling*) comes first.

use std::path::Path;
use std::sync::OnceLock;

/// Where Debian's `hunspell-nl` puts `nl.aff` and `nl.dic`.
pub const HUNSPELL_DIR: &str = "/usr/share/hunspell";
/// The longest text checked at once, in characters (an essay answer is far below).
pub const MAX_SPELL_CHARS: usize = 100_000;
/// Most unknown words reported for one text (the first ones).
pub const MAX_MISSPELLINGS: usize = 100;
/// Most suggestions per unknown word.
pub const MAX_SUGGESTIONS: usize = 4;
/// Longest word that gets suggestions, in characters.
pub const MAX_SUGGEST_CHARS: usize = 40;
/// How many unknown words of one text get suggestions (the first ones).
pub const MAX_SUGGESTED_WORDS: usize = 25;
/// Longest word looked up at all; a longer one is unknown (no Dutch word
/// is this long, and a compound search over it could take long).
pub const MAX_WORD_CHARS: usize = 64;

/// Whether the accommodations (planning `tools`) grant the spell-check:
/// its id or one of its Dutch words, as `exam_instrument::SPELL_CHECK_WORDS`
/// has them (the hub's planning vocabulary and `pack --tool` use the same).
pub fn spell_check_granted(accommodations: &[String]) -> bool {
    accommodations.iter().any(|a| a.parse::<exam_instrument::InstrumentTool>() == Ok(exam_instrument::InstrumentTool::SpellCheck))
}

/// Why the spell-check cannot run.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SpellError {
    /// The dictionary files are missing or unreadable.
    #[error("the Dutch dictionary {0} cannot be read (install the Debian package hunspell-nl): {1}")]
    NoDictionary(String, String),
    /// The dictionary files are not a Hunspell dictionary.
    #[error("the Dutch dictionary in {0} is damaged: {1}")]
    Damaged(String, String),
    /// The text is longer than [`MAX_SPELL_CHARS`].
    #[error("the text has {0} characters; at most {MAX_SPELL_CHARS} are checked at once")]
    TooLong(usize),
    /// Another check is running (one at a time; a request meanwhile is refused, not queued).
    #[error("another spell-check is running")]
    Busy,
}

/// Held while a check runs ([`SpellChecker::misspellings`]).
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A word the dictionary does not know.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Misspelling {
    /// Where it starts in the text, in UTF-16 code units (a JavaScript string index).
    pub start: usize,
    /// Where it ends (exclusive), likewise.
    pub end: usize,
    /// The word as written.
    pub word: String,
    /// What the dictionary suggests instead, best first (may be empty).
    pub suggestions: Vec<String>,
}

/// A loaded Hunspell dictionary.
pub struct SpellChecker {
    dictionary: spellbook::Dictionary,
}

impl std::fmt::Debug for SpellChecker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SpellChecker(..)")
    }
}

impl SpellChecker {
    /// Reads the dictionary `name` (`nl`) from `dir` (`name.aff`, `name.dic`).
    pub fn load(dir: &Path, name: &str) -> Result<Self, SpellError> {
        let read = |ext: &str| {
            let path = dir.join(format!("{name}.{ext}"));
            std::fs::read_to_string(&path).map_err(|e| SpellError::NoDictionary(path.display().to_string(), e.to_string()))
        };
        let (aff, dic) = (read("aff")?, read("dic")?);
        let dictionary = spellbook::Dictionary::new(&aff, &dic).map_err(|e| SpellError::Damaged(dir.display().to_string(), e.to_string()))?;
        Ok(SpellChecker { dictionary })
    }

    /// The Dutch dictionary of this PC, read on first use and kept for the
    /// kiosk run (a failure is kept too: the files do not appear mid-exam).
    pub fn dutch() -> Result<&'static SpellChecker, SpellError> {
        static DUTCH: OnceLock<Result<SpellChecker, SpellError>> = OnceLock::new();
        DUTCH.get_or_init(|| SpellChecker::load(Path::new(HUNSPELL_DIR), "nl")).as_ref().map_err(Clone::clone)
    }

    /// Whether the dictionary knows `word`.
    pub fn knows(&self, word: &str) -> bool {
        self.dictionary.check(word)
    }

    /// The words of `text` the dictionary does not know, in order (at most
    /// [`MAX_MISSPELLINGS`]). Words are runs of letters, joined inside by a
    /// single apostrophe or hyphen (`auto's`, `zee-egel`); a run touching a
    /// digit (`3e`, `A4`) is no word and is left alone.
    pub fn misspellings(&self, text: &str) -> Result<Vec<Misspelling>, SpellError> {
        let chars = text.chars().count();
        if chars > MAX_SPELL_CHARS {
            return Err(SpellError::TooLong(chars));
        }
        // One check at a time, whoever asks: a request meanwhile is refused,
        // not queued (a page calling in a loop would otherwise pile up threads).
        let _turn = match ONE_AT_A_TIME.try_lock() {
            Ok(turn) => turn,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return Err(SpellError::Busy),
        };
        let mut out = Vec::new();
        for word in words(text) {
            if out.len() == MAX_MISSPELLINGS {
                break;
            }
            if word.text.chars().count() <= MAX_WORD_CHARS && self.knows(word.text) {
                continue;
            }
            let suggestions = if out.len() < MAX_SUGGESTED_WORDS { self.suggest(word.text) } else { Vec::new() };
            out.push(Misspelling { start: word.start, end: word.end, word: word.text.to_owned(), suggestions });
        }
        Ok(out)
    }

    /// Known words one edit away from `word` (at most [`MAX_SUGGESTIONS`];
    /// none for a word longer than [`MAX_SUGGEST_CHARS`]): a doubled or
    /// undoubled letter first, then a letter left out, two letters swapped,
    /// a letter added, a letter changed.
    pub fn suggest(&self, word: &str) -> Vec<String> {
        let chars: Vec<char> = word.chars().collect();
        if chars.len() > MAX_SUGGEST_CHARS {
            return Vec::new();
        }
        const LETTERS: &str = "abcdefghijklmnopqrstuvwxyzáéëèíïóöúü";
        let mut candidates: Vec<(u8, String)> = Vec::new();
        let mut push = |rank: u8, cs: Vec<char>| candidates.push((rank, cs.into_iter().collect()));
        for i in 0..=chars.len() {
            if i < chars.len() {
                let mut v = chars.clone();
                let gone = v.remove(i);
                let undoubled = chars.get(i + 1) == Some(&gone) || (i > 0 && chars[i - 1] == gone);
                push(if undoubled { 0 } else { 1 }, v);
            }
            if i + 1 < chars.len() && chars[i] != chars[i + 1] {
                let mut v = chars.clone();
                v.swap(i, i + 1);
                push(2, v);
            }
            for letter in LETTERS.chars() {
                let mut v = chars.clone();
                v.insert(i, letter);
                let doubled = chars.get(i) == Some(&letter) || (i > 0 && chars[i - 1] == letter);
                push(if doubled { 0 } else { 3 }, v);
                if i < chars.len() && chars[i] != letter {
                    let mut v = chars.clone();
                    v[i] = letter;
                    push(4, v);
                }
            }
        }
        candidates.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out: Vec<String> = Vec::new();
        for (_, candidate) in candidates {
            if out.len() == MAX_SUGGESTIONS {
                break;
            }
            if !out.contains(&candidate) && self.knows(&candidate) {
                out.push(candidate);
            }
        }
        out
    }
}

/// A word of a text and where it is (UTF-16 code units).
#[derive(Debug, PartialEq, Eq)]
struct Word<'a> {
    text: &'a str,
    start: usize,
    end: usize,
}

/// The words of `text` (see [`SpellChecker::misspellings`]).
fn words(text: &str) -> Vec<Word<'_>> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut utf16 = Vec::with_capacity(chars.len() + 1);
    let mut at = 0;
    for (_, c) in &chars {
        utf16.push(at);
        at += c.len_utf16();
    }
    utf16.push(at);
    let byte = |i: usize| chars.get(i).map_or(text.len(), |(b, _)| *b);
    let joiner = |c: char| matches!(c, '\'' | '’' | '-');
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].1.is_alphabetic() {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && (chars[i].1.is_alphabetic() || (joiner(chars[i].1) && chars.get(i + 1).is_some_and(|(_, c)| c.is_alphabetic()) && chars[i - 1].1.is_alphabetic())) {
            i += 1;
        }
        let touches_digit = |j: Option<usize>| j.and_then(|j| chars.get(j)).is_some_and(|(_, c)| c.is_numeric());
        if touches_digit(start.checked_sub(1)) || touches_digit(Some(i)) {
            continue;
        }
        out.push(Word { text: &text[byte(start)..byte(i)], start: utf16[start], end: utf16[i] });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tests that check texts take turns: a check meanwhile is refused.
    #[cfg(target_os = "linux")]
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    #[cfg(target_os = "linux")]
    fn serial() -> std::sync::MutexGuard<'static, ()> {
        SERIAL.lock().unwrap_or_else(|p| p.into_inner())
    }

    #[test]
    fn words_are_letters_joined_by_an_apostrophe_or_hyphen() {
        let text = "De auto's en de zee-egel -- 3e keer, A4-papier 'citaat' 😀café";
        let found: Vec<&str> = words(text).iter().map(|w| w.text).collect();
        assert_eq!(found, ["De", "auto's", "en", "de", "zee-egel", "keer", "papier", "citaat", "café"]);
        // Offsets are JavaScript string indices: the emoji counts two.
        let cafe = words(text).into_iter().last().unwrap();
        let js: Vec<u16> = text.encode_utf16().collect();
        assert_eq!(String::from_utf16(&js[cafe.start..cafe.end]).unwrap(), "café");
    }

    #[test]
    fn only_the_accommodation_grants_it() {
        assert!(spell_check_granted(&["spell-check".into()]));
        assert!(spell_check_granted(&[" Spellingcontrole ".into()]));
        assert!(!spell_check_granted(&["read-aloud".into(), "calculator".into()]));
        assert!(!spell_check_granted(&[]));
    }

    /// Needs Debian's hunspell-nl (installed by `cargo xtask`).
    #[test]
    #[cfg(target_os = "linux")] // the dictionary is Debian's hunspell-nl; Windows ships none yet
    fn the_dutch_dictionary_knows_dutch_and_suggests() {
        let _serial = serial();
        let nl = SpellChecker::dutch().expect("hunspell-nl is installed by cargo xtask");
        let found = nl.misspellings("Ik heb de fietsenstaling gebruikt, het exsamen gemaakt en ben naar huis gelopen.").unwrap();
        let words: Vec<&str> = found.iter().map(|m| m.word.as_str()).collect();
        assert_eq!(words, ["fietsenstaling", "exsamen"]);
        assert_eq!(found[0].suggestions.first().map(String::as_str), Some("fietsenstalling"));
        assert!(found[1].suggestions.iter().any(|s| s == "examen"), "{:?}", found[1].suggestions);
        assert_eq!((found[0].start, found[0].end), (10, 24));
        assert!(nl.knows("ziekenhuisopname") && nl.knows("Amsterdam") && !nl.knows("geloopt"));
        assert_eq!(nl.suggest("Amsterdm").first().map(String::as_str), Some("Amsterdam"));
        assert!(nl.suggest("onderhoudsmedewerkerz").iter().any(|s| s == "onderhoudsmedewerker"));
        assert!(matches!(nl.misspellings(&"a ".repeat(MAX_SPELL_CHARS)), Err(SpellError::TooLong(_))));
    }

    /// A student's garbage (twenty times one letter, a long run of
    /// consonants) took Hunspell's own suggestion search minutes; the
    /// kiosk's stays bounded. (A bound, not a timing: the test fails by
    /// hanging on the old code.)
    #[test]
    #[cfg(target_os = "linux")] // the dictionary is Debian's hunspell-nl; Windows ships none yet
    fn typed_garbage_does_not_hold_the_spell_check() {
        let _serial = serial();
        let nl = SpellChecker::dutch().expect("hunspell-nl is installed by cargo xtask");
        let garbage = format!("{} {} {}", "a".repeat(20), "xqzvbnmwrtplkjhgfdsxq", "ab".repeat(100));
        let found = nl.misspellings(&garbage).unwrap();
        assert_eq!(found.len(), 3);
        assert!(found[2].suggestions.is_empty(), "no suggestions for a word beyond {MAX_SUGGEST_CHARS} letters");
        let many = "qqqx ".repeat(MAX_SUGGESTED_WORDS + 5);
        let found = nl.misspellings(&many).unwrap();
        assert_eq!(found.len(), MAX_SUGGESTED_WORDS + 5);
        // A word no dictionary holds is unknown without a search.
        let long = "ab".repeat(MAX_WORD_CHARS);
        assert_eq!(nl.misspellings(&long).unwrap()[0].word, long);
        // While a check runs, another is refused at once (a page calling in
        // a loop piled up a thread per call before).
        let running = ONE_AT_A_TIME.lock().unwrap();
        assert!(matches!(nl.misspellings("exsamen"), Err(SpellError::Busy)));
        drop(running);
        assert_eq!(nl.misspellings("exsamen").unwrap().len(), 1);
    }

    #[test]
    fn a_missing_dictionary_says_which_package() {
        let err = SpellChecker::load(Path::new("/nonexistent"), "nl").unwrap_err();
        assert!(err.to_string().contains("hunspell-nl"), "{err}");
    }
}
