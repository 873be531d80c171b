// Kladblok (issue 19): a note field per item for working things out. The
// text is kept with the answers (through the caller's onSave) but never
// marked, and the pad says so in its label.
//
// Saving: 600 ms after the last change, and at once when the field is left,
// through onSave(text) → Promise; empty text is saved as null. One save in
// flight at a time: a change made meanwhile follows when it is done. A
// failed save is tried again every 2 s and the pad says so ("Kladblok niet
// opgeslagen — wordt opnieuw geprobeerd"). flush() sends now (before
// hand-in). unmount() flushes; a save that still fails then goes on being
// retried until it is saved, or until the item's pad is mounted again —
// the new pad takes the unsaved text over, so an older text never lands
// after a newer one — or resetScratchpads() starts a new sitting.
//
// Keyboard: the Kladblok button opens the pad (focus goes into the field)
// and closes it; Escape in the field closes it and gives the focus back to
// the button.

import { h, setText } from './dom.js';
import { t } from '../i18n.js';

export const SCRATCH_MAX = 10000;
const SAVE_DELAY_MS = 600;
const RETRY_MS = 2000;

/** The newest pad of each item (itemId → its handle), kept until its text is saved after unmount. */
const pads = new Map();
let sittingKey = null;

/** A new sitting (another exam or student): pads still retrying stop and are forgotten. */
export function resetScratchpads(key) {
  if (key === sittingKey) return;
  sittingKey = key;
  for (const p of pads.values()) p.stop();
  pads.clear();
}

const stored = (text) => (text === '' ? null : text);

/** Sends every pad's unsaved text now, also of items no longer shown (before
 * the hand-in); rejects when a save fails. */
export async function flushScratchpads() {
  await Promise.all([...pads.values()].map((p) => p.flush()));
}

/**
 * Mounts the kladblok of item `itemId`. `initial`: the stored text (or
 * null); `onSave(text|null)` → Promise; `labelId`: the id of the item's
 * heading, added to the pad's name so each pad on a page has its own.
 * Returns { toggle, panel, value(), flush(), unmount() }: the toggle goes in
 * the item's tool bar, the panel below the item (outside its body).
 * flush() resolves when nothing is pending and rejects with the error when
 * the last save failed (retrying goes on); unmount() resolves true when
 * saved, false when not (never rejects).
 */
export function mountScratchpad({ itemId, initial = null, onSave, labelId = null }) {
  const base = `scratch-${String(itemId).replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const prev = pads.get(itemId);
  const adopt = prev && prev.unsaved() ? prev.text() : null;
  const start = adopt ?? (typeof initial === 'string' ? initial.slice(0, SCRATCH_MAX) : '');
  let saved = typeof initial === 'string' && initial !== '' ? initial : null; // what the shell holds, as far as known
  let timer = null;
  let inflight = null;
  let dirty = false;
  let failed = false;
  let error = null;
  let stopped = false;
  let unmounted = false;

  const names = labelId ? `${base}-label ${labelId}` : `${base}-label`;
  const status = h('p', { class: 'scratch-status', id: `${base}-status`, role: 'status', 'aria-live': 'polite' });
  const area = h('textarea', {
    id: `${base}-text`, class: 'scratch-text', rows: '6', maxlength: String(SCRATCH_MAX), spellcheck: 'false', autocomplete: 'off',
    autocapitalize: 'off', 'aria-labelledby': labelId ? names : null, 'aria-describedby': `${base}-hint`, value: start,
    oninput: () => later(), onblur: () => send(),
    onkeydown: (e) => {
      if (e.key !== 'Escape') return;
      e.preventDefault();
      show(false);
      toggle.focus();
    },
  });
  const panel = h('div', { id: base, class: 'scratchpad', role: 'region', 'aria-labelledby': names, hidden: true, 'data-no-highlight': true },
    h('label', { id: `${base}-label`, for: `${base}-text`, class: 'scratch-label' }, t('scratch.label')),
    h('p', { id: `${base}-hint`, class: 'hint scratch-hint' }, t('scratch.hint')),
    area, status);
  const toggle = h('button', { type: 'button', class: 'secondary small scratch-toggle', 'aria-expanded': 'false', 'aria-controls': base,
    onclick: () => show(panel.hidden) }, t('scratch.open'));

  function show(open) {
    panel.hidden = !open;
    toggle.setAttribute('aria-expanded', String(open));
    if (open) area.focus();
    else send();
  }

  function later() {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(send, SAVE_DELAY_MS);
  }

  /** Sends the text now, or after the save in flight. */
  function send() {
    if (stopped) return;
    clearTimeout(timer);
    timer = null;
    if (inflight) {
      dirty = true;
      return;
    }
    const value = stored(area.value);
    if (value === saved) {
      if (failed) setText(status, t('scratch.saved'));
      failed = false;
      settle();
      return;
    }
    let p;
    try {
      p = Promise.resolve(onSave(value));
    } catch (err) {
      p = Promise.reject(err);
    }
    inflight = p
      .then(() => {
        saved = value;
        failed = false;
        setText(status, t('scratch.saved'));
      }, (err) => {
        failed = true;
        error = err instanceof Error ? err : new Error(String(err));
        dirty = true;
        setText(status, t('scratch.failed'));
      })
      .finally(() => {
        inflight = null;
        const again = dirty && !stopped;
        dirty = false;
        if (again && failed) timer = setTimeout(send, RETRY_MS);
        else if (again) send();
        settle();
      });
  }

  /** Unmounted and nothing pending: forgotten. */
  function settle() {
    if (unmounted && !timer && !inflight && pads.get(itemId) === handle) pads.delete(itemId);
  }

  /** Sends now, and what changes meanwhile after it, until the text is saved or a save fails. */
  async function flush() {
    for (let i = 0; i < 50; i += 1) {
      if (!inflight) send();
      if (!inflight) break;
      await inflight;
      if (failed) break;
    }
    if (failed) throw error;
  }

  const handle = {
    flush,
    text: () => area.value,
    unsaved: () => stored(area.value) !== saved,
    /** Another pad of the item takes over: no more saves from this one; resolves with what the shell holds when its save in flight is done. */
    stop() {
      stopped = true;
      clearTimeout(timer);
      timer = null;
      return (inflight || Promise.resolve()).then(() => saved);
    },
  };
  pads.set(itemId, handle);
  if (prev) {
    // The previous pad's save in flight comes first; then this one's text, if it differs.
    inflight = prev.stop().then((held) => {
      if (adopt !== null) saved = held;
    }).finally(() => {
      inflight = null;
      dirty = false;
      send();
    });
  }

  return {
    toggle,
    panel,
    value: () => area.value,
    flush,
    unmount() {
      unmounted = true;
      const done = flush().then(() => true, () => false);
      settle();
      return done;
    },
  };
}
