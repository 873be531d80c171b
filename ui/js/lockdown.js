// In-page lockdown: the shell enforces the real rules (no devtools, no
// navigation, no new windows, no shared clipboard); this stops the web
// view's own shortcuts and gestures so that nothing surprising happens to
// the student, and keeps copy/paste inside the exam (below).

// Ctrl/Cmd + key combinations that reload, print, search, save, open,
// view source, open/close windows or tabs, or open the inspector.
const CTRL_KEYS = new Set(['r', 'p', 'f', 'g', 's', 'o', 'u', 'n', 't', 'w', 'j', 'h', 'd', 'e', 'l', 'k', 'q']);
const CTRL_SHIFT_KEYS = new Set(['i', 'j', 'c', 'k', 'r', 'n', 't', 'w', 'p', 'delete']);
const PLAIN_KEYS = new Set(['F1', 'F3', 'F5', 'F6', 'F7', 'F11', 'F12', 'BrowserBack', 'BrowserForward', 'BrowserRefresh', 'BrowserSearch', 'BrowserHome']);

function isEditable(el) {
  return el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement || (el && el.isContentEditable);
}

export function blocked(e) {
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  const ctrl = e.ctrlKey || e.metaKey;
  if (PLAIN_KEYS.has(e.key)) return true;
  if (ctrl && e.shiftKey && CTRL_SHIFT_KEYS.has(key.toLowerCase())) return true;
  if (ctrl && !e.shiftKey && !e.altKey && CTRL_KEYS.has(key)) return true;
  // History navigation.
  if (e.altKey && (e.key === 'ArrowLeft' || e.key === 'ArrowRight' || e.key === 'Home')) return true;
  // Backspace outside a text field navigated back in old engines.
  if (e.key === 'Backspace' && !isEditable(e.target)) return true;
  return false;
}

export function installLockdown(doc = document) {
  doc.addEventListener(
    'keydown',
    (e) => {
      if (blocked(e)) {
        e.preventDefault();
        e.stopPropagation();
      }
    },
    { capture: true },
  );
  doc.addEventListener('contextmenu', (e) => e.preventDefault(), { capture: true });
  // No dragging anything out (text, images) and no dropping files in.
  doc.addEventListener('dragstart', (e) => e.preventDefault(), { capture: true });
  doc.addEventListener('dragover', (e) => e.preventDefault(), { capture: true });
  doc.addEventListener('drop', (e) => e.preventDefault(), { capture: true });
  // Ctrl+wheel zoom is left alone on purpose: zooming is an accessibility
  // aid, and it cannot leak anything.
  // No printing even if something bypasses the shortcut.
  window.addEventListener('beforeprint', (e) => e.preventDefault());
  // Links inside item content are rendered as text, but guard anyway.
  doc.addEventListener(
    'click',
    (e) => {
      const a = e.target instanceof Element ? e.target.closest('a[href]') : null;
      if (a) e.preventDefault();
    },
    { capture: true },
  );
  installExamClipboard(doc);
}

// The exam's own clipboard (issue 15 point 6). Copy, cut and paste work
// inside the exam, between the student's own answers, and never through the
// session's clipboard: nothing another program put on the clipboard or the
// primary selection comes in (Ctrl+V, Shift+Insert, a middle click — WebKit
// sends all three through the `paste` event), and nothing of an answer goes
// out (the shell's clipboard guard, src-tauri/src/clipboard_guard.rs, also
// keeps the selection WebKit sets on its own empty). Neither the policy nor
// the instrument format has a "no copy/paste" setting, so inside copy/paste
// is always allowed. Only text the student typed (text fields) can be
// copied; item text cannot, as before.

/** What was copied or cut in the exam (never on the session's clipboard). */
let examClipboard = '';

/** The text of the exam's clipboard (for tests and the shell-free preview). */
export function examClipboardText() {
  return examClipboard;
}

/** Empties the exam's clipboard (a new exam on the same page). */
export function clearExamClipboard() {
  examClipboard = '';
}

/**
 * The selected part of a field's value, `start`..`end` (as
 * `selectionStart`/`selectionEnd`, in either order; clamped).
 */
export function selectedPart(value, start, end) {
  const [a, b] = ordered(value, start, end);
  return value.slice(a, b);
}

/**
 * `value` with `start`..`end` replaced by `text`; `caret` is where the
 * insertion ends (what a paste or a cut leaves).
 */
export function replaceRange(value, start, end, text) {
  const [a, b] = ordered(value, start, end);
  return { value: value.slice(0, a) + text + value.slice(b), caret: a + text.length };
}

function ordered(value, start, end) {
  const clamp = (n) => Math.max(0, Math.min(value.length, Number.isInteger(n) ? n : value.length));
  const a = clamp(start);
  const b = clamp(end);
  return a <= b ? [a, b] : [b, a];
}

/**
 * What fits a field with a `maxlength` (`max` < 0 or missing: no limit)
 * when `text` replaces `selected` characters of a value of length `length`.
 */
export function fitting(text, length, selected, max) {
  if (!Number.isInteger(max) || max < 0) return text;
  const room = Math.max(0, max - (length - selected));
  return Array.from(text).slice(0, room).join('');
}

/** A text field whose selection the page can read and change. */
function textField(el) {
  if (el instanceof HTMLTextAreaElement) return el;
  if (el instanceof HTMLInputElement && ['text', 'search', ''].includes(el.type)) return el;
  return null;
}

/** Replaces the field's selection with `text` as an edit of the student's: `input` fires, so the answer is saved (exam.js). */
function edit(field, text, inputType) {
  if (field.readOnly || field.disabled) return;
  const start = field.selectionStart;
  const end = field.selectionEnd;
  const fits = fitting(text, field.value.length, Math.abs(end - start), field.maxLength);
  const next = replaceRange(field.value, start, end, fits);
  field.value = next.value;
  field.setSelectionRange(next.caret, next.caret);
  field.dispatchEvent(new InputEvent('input', { bubbles: true, inputType, data: inputType === 'insertFromPaste' ? fits : null }));
}

export function installExamClipboard(doc) {
  const copyOrCut = (cut) => (e) => {
    // Never the session's clipboard: WebKit writes what the page gave it
    // (nothing) when the event is cancelled.
    e.preventDefault();
    e.stopPropagation();
    const field = textField(doc.activeElement);
    if (!field) return;
    const start = field.selectionStart;
    const end = field.selectionEnd;
    if (start === null || start === end) return;
    examClipboard = selectedPart(field.value, start, end);
    if (cut) edit(field, '', 'deleteByCut');
  };
  doc.addEventListener('copy', copyOrCut(false), { capture: true });
  doc.addEventListener('cut', copyOrCut(true), { capture: true });
  // A middle click pastes the primary selection (X11): WebKit sends it as a
  // `paste` right after the button's release. It pastes nothing here (not
  // the exam's clipboard either: that takes Ctrl+V or Shift+Insert).
  let middleClick = false;
  doc.addEventListener(
    'mouseup',
    (e) => {
      middleClick = e.button === 1;
      if (!middleClick) return;
      setTimeout(() => {
        middleClick = false;
      }, 0);
    },
    { capture: true },
  );
  doc.addEventListener(
    'paste',
    (e) => {
      // Whatever the session's clipboard or selection holds stays out.
      e.preventDefault();
      e.stopPropagation();
      const field = textField(doc.activeElement);
      if (field && examClipboard && !middleClick) edit(field, examClipboard, 'insertFromPaste');
    },
    { capture: true },
  );
  // Should an engine insert outside text without a `paste` event first.
  doc.addEventListener(
    'beforeinput',
    (e) => {
      if (/^insertFrom(Paste|Drop|Yank)/.test(e.inputType || '')) {
        e.preventDefault();
        e.stopPropagation();
      }
    },
    { capture: true },
  );
}
