// Read-aloud through the kiosk's own engine (issue 19; docs/ui.md
// "Read-aloud"): the shell speaks a text with espeak-ng and returns a WAV
// data: URL, played by an <audio> element. Texts longer than one request
// allows are spoken in parts, at sentence ends, one after the other, the
// next part asked for while the current one plays.
//
// DOM-free: `speak(text)` (a promise of a data: URL) and `makeAudio(url)`
// (an object with play(), pause(), onended, onerror) are given, so the
// order of parts, pause and stop are unit-tested (ui/dev/unit.test.mjs).

/** Characters per request: the shell's READ_ALOUD_MAX_CHARS. */
export const MAX_PART_CHARS = 1000;

/** Speeds offered, in words per minute (espeak-ng's rate). */
export const SPEEDS = { slow: 130, normal: 165, fast: 210 };

/**
 * Splits `text` into parts of at most `max` characters, at sentence ends
 * where it can, else at spaces, else hard; no part is blank.
 */
export function speechParts(text, max = MAX_PART_CHARS) {
  const clean = String(text || '').replace(/\s+/g, ' ').trim();
  if (!clean) return [];
  const sentences = clean.match(/[^.!?…]+(?:[.!?…]+|$)\s*/g) || [clean];
  const parts = [];
  let current = '';
  const push = () => {
    if (current.trim()) parts.push(current.trim());
    current = '';
  };
  for (const sentence of sentences) {
    if ((current + sentence).length <= max) {
      current += sentence;
      continue;
    }
    push();
    let rest = sentence;
    while (rest.length > max) {
      const cut = rest.lastIndexOf(' ', max);
      const at = cut > 0 ? cut : max;
      parts.push(rest.slice(0, at).trim());
      rest = rest.slice(at);
    }
    current = rest;
  }
  push();
  return parts.filter(Boolean);
}

/**
 * The words of a part and when each is spoken, as fractions of the part's
 * audio: `[{text, start, end}]`. espeak-ng's program gives no word events
 * (docs/ui.md, Read-aloud), so the time is shared out by what takes time to
 * say: the kiosk's `weights` (each word's phonemes as espeak-ng makes them,
 * plus its pause: right at 87 % of words' middles, never more than one word
 * off, docs/benchmarks.md), or where there are none, a word's letters and
 * digits plus a pause after a comma and a longer one after a sentence end
 * (right at 68 %).
 */
export function wordTimes(part, weights = null) {
  const words = String(part || '').split(/\s+/).filter(Boolean);
  // The kiosk's weights (espeak-ng's phonemes per word) when they fit the
  // words one to one; else by letters and pauses.
  const given = Array.isArray(weights) && weights.length === words.length && weights.every((w) => Number.isFinite(w) && w > 0);
  const weight = (w, i) => (given ? weights[i] : Math.max(1, (w.match(/[\p{L}\p{N}]/gu) || []).length) + (/[.!?…:;]$/.test(w) ? 4 : /,$/.test(w) ? 2 : 0) + 1);
  const total = words.reduce((sum, w, i) => sum + weight(w, i), 0);
  let at = 0;
  return words.map((text, i) => {
    const start = at / total;
    at += weight(text, i);
    return { text, start, end: at / total };
  });
}

/** The index of the word spoken at `fraction` (0–1) of a part's audio. */
export function wordAt(times, fraction) {
  if (!times.length) return -1;
  const f = Math.min(Math.max(Number(fraction) || 0, 0), 1);
  const i = times.findIndex((w) => f < w.end);
  return i < 0 ? times.length - 1 : i;
}

/**
 * A reader of one text at a time. `onState(state)` is told 'playing',
 * 'paused', 'stopped' or 'failed' (with the error as second argument).
 * `onWord(times, index)` is told the part being spoken (its words) and the
 * word spoken now, as the audio plays (`index` -1: between parts).
 */
export function createReader({ speak, makeAudio, onState = () => {}, onWord = () => {} }) {
  let run = 0; // every start or stop begins a new run; older callbacks are ignored
  let audio = null;
  let state = 'stopped';
  const set = (s, err) => {
    state = s;
    onState(s, err);
  };

  async function play(parts, mine) {
    let next = parts.length ? speak(parts[0]) : null;
    for (let i = 0; i < parts.length; i += 1) {
      let url;
      let weights = null;
      try {
        // The kiosk gives {audio, weights}; the preview's stand-in a URL.
        const got = await next;
        url = typeof got === 'string' ? got : got.audio;
        weights = typeof got === 'string' ? null : got.weights;
      } catch (err) {
        if (mine === run) set('failed', err);
        return;
      }
      if (mine !== run) return;
      next = i + 1 < parts.length ? speak(parts[i + 1]) : null;
      // A later part that fails is reported when its turn comes.
      if (next) next.catch(() => {});
      const times = wordTimes(parts[i], weights);
      let shown = -2;
      const ended = new Promise((resolve, reject) => {
        audio = makeAudio(url);
        audio.onended = resolve;
        audio.onerror = () => reject(new Error('audio'));
      });
      // The word spoken now, ten times a second (timeupdate alone comes
      // about four times a second: too slow to follow the words).
      const playing = audio;
      let ticker = null;
      const follow = () => {
        if (mine !== run) {
          clearInterval(ticker); // stopped: its end never comes
          return;
        }
        if (!(playing.duration > 0)) return;
        const index = wordAt(times, playing.currentTime / playing.duration);
        if (index !== shown) onWord(times, (shown = index));
      };
      onWord(times, (shown = 0));
      ticker = setInterval(follow, 100);
      ended.then(() => clearInterval(ticker), () => clearInterval(ticker));
      try {
        await audio.play();
        await ended;
      } catch (err) {
        if (mine === run) set('failed', err);
        return;
      }
      if (mine !== run) return;
    }
    audio = null;
    onWord([], -1);
    set('stopped');
  }

  return {
    get state() {
      return state;
    },
    /** Reads `text` from the start (stopping what was being read). */
    start(text) {
      this.stop();
      const parts = speechParts(text);
      if (!parts.length) return;
      run += 1;
      set('playing');
      play(parts, run);
    },
    pause() {
      if (state !== 'playing' || !audio) return;
      audio.pause();
      set('paused');
    },
    resume() {
      if (state !== 'paused' || !audio) return;
      audio.play();
      set('playing');
    },
    stop() {
      run += 1;
      if (audio) audio.pause();
      audio = null;
      if (state !== 'stopped') {
        onWord([], -1);
        set('stopped');
      }
    },
  };
}

/** The shortcuts' labels for aria-keyshortcuts and the buttons' titles. */
export const SHORTCUTS = { toggle: 'Alt+V', pause: 'Alt+P' };

/**
 * The read-aloud shortcut a key press is, if any: Alt+V reads the item that
 * has the focus (or the first on the page), or stops; Alt+P pauses and
 * resumes. By physical key (`code`), so the layout does not matter; with
 * Ctrl, Meta or Shift it is not a shortcut.
 */
export function readAloudKey(e) {
  if (!e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return null;
  if (e.code === 'KeyV') return 'toggle';
  if (e.code === 'KeyP') return 'pause';
  return null;
}
