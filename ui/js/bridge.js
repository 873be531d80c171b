// The only place that talks to the Rust shell. The UI knows these commands
// and the one event, nothing else (see docs/ui.md).

function tauri() {
  const t = window.__TAURI__;
  if (!t || !t.core || typeof t.core.invoke !== 'function') {
    throw new Error('no-shell');
  }
  return t;
}

/** Rejections carry a plain string from Rust; normalise anything else. */
function message(err) {
  if (typeof err === 'string') return err;
  if (err && typeof err.message === 'string') return err.message;
  try {
    return JSON.stringify(err);
  } catch {
    return String(err);
  }
}

async function call(name, args) {
  try {
    return await tauri().core.invoke(name, args);
  } catch (err) {
    throw new Error(message(err));
  }
}

export const shell = {
  available() {
    try {
      tauri();
      return true;
    } catch {
      return false;
    }
  },
  view: () => call('view'),
  uiReady: () => call('ui_ready'),
  login: (studentNumber, accessCode, roomCode) => call('login', { studentNumber, accessCode, roomCode }),
  confirmAssignment: () => call('confirm_assignment'),
  startExam: () => call('start_exam'),
  saveAnswer: (itemId, value) => call('save_answer', { itemId, value }),
  /** The scratchpad text (`note` 'scratchpad') or highlights ('highlights') of an item; `null` clears. Never scored. */
  saveNote: (itemId, note, value) => call('save_note', { itemId, note, value }),
  /** The exam page shown (kept by the shell, so a resume opens it). */
  examPosition: (page) => call('exam_position', { page }),
  submit: () => call('submit'),
  /** A frame the page's content security policy refused to load (journalled by the shell). */
  navigationRefused: (url, directive) => call('navigation_refused', { url, directive }),
  unlock: (pin, reason) => call('unlock', { pin, reason }),
  /** The calculator: `{ value, display }`, or a Dutch refusal (kiosk-core decides who has which). */
  calculate: (itemId, expression, angle) => call('calculate', { itemId, expression, angle }),
  /** The Dutch spell-check of a typed answer: `[{start, end, word, suggestions}]` (spell-check accommodation only). */
  // kiosk-core checks the answer it holds for the item, not a text from the page.
  spellCheck: (itemId) => call('spell_check', { itemId }),
  /** Read-aloud: `text` spoken by the kiosk (espeak-ng) as a WAV data: URL (read-aloud accommodation only). */
  readAloud: (text, lang, rate) => call('read_aloud', { text, lang, rate }),
  /** Calls `f(view)` with every `kiosk-view` event. */
  onView(f) {
    return tauri().event.listen('kiosk-view', (e) => f(e.payload));
  },
};
