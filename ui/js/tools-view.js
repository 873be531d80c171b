// View tools for every student (issue 19; docs/ui.md "Leesliniaal and text
// size"): they reveal nothing, so they need no grant.
//
// - Line focus (leesliniaal): an overlay that dims everything but a band of
//   about three lines. The band follows the mouse and the focused element;
//   Alt+↑/↓ moves it a line while it is on; Alt+L turns it on and off. The
//   overlay is aria-hidden and takes no pointer events, so clicks and typing
//   go through.
// - Text size beyond the preset: A− / A+ step the root font size from the
//   accommodation's preset (the student's minimum) up to 250 % of normal.
//   The step lasts for the sitting (module state), across pages, a language
//   switch and a lock; a reload starts at the preset again.

import { h, announce } from './dom.js';
import { t } from '../i18n.js';

/** Root font sizes in px: normal, the `large` and `x-large` presets, then beyond. */
export const SIZE_STEPS_PX = [18, 22, 26, 31.5, 36, 45];
/** Steps from which the big-text layout (narrow review column) applies. */
const BIG_FROM_PX = 26;
/** Steps from which the frame around the question is made compact. */
const HUGE_FROM_PX = 36;
/** The band: three lines of 1.5rem. */
const BAND_LINES = 3;
const LINE_REM = 1.5;

export const VIEW_SHORTCUTS = { ruler: 'Alt+L', up: 'Alt+ArrowUp', down: 'Alt+ArrowDown' };

/** What lasts for the sitting: the text-size step and whether the ruler is on. */
const sitting = { key: null, step: null, ruler: false, rulerY: null };

/** A new sitting (another exam or student): preset size, ruler off. */
export function resetViewTools(key) {
  if (sitting.key === key) return;
  sitting.key = key;
  sitting.step = null;
  sitting.ruler = false;
  sitting.rulerY = null;
}

/** The lowest step a student may choose: their accommodation's preset. */
export function minStep(textSize) {
  if (textSize === 'x-large') return 2;
  if (textSize === 'large') return 1;
  return 0;
}

/** The step as a percentage of normal text, for the announcement. */
export function stepPercent(step) {
  return Math.round((SIZE_STEPS_PX[step] / SIZE_STEPS_PX[0]) * 100);
}

/**
 * The view-tool key a press is, if any: 'ruler' (Alt+L, by physical key),
 * 'up' / 'down' (Alt+↑/↓). With Ctrl, Meta or Shift it is none.
 */
export function viewToolKey(e) {
  if (!e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return null;
  if (e.code === 'KeyL') return 'ruler';
  if (e.key === 'ArrowUp') return 'up';
  if (e.key === 'ArrowDown') return 'down';
  return null;
}

/**
 * Mounts the tools: returns { group, overlay, onKeydown, onFocusin,
 * onPointermove, apply(), unmount(), ruler, size } — the buttons' group
 * goes where the caller wants it, the overlay at the end of the screen.
 * `textSize` is the accommodation's preset; `root` the element whose font
 * size is set (document.documentElement); `metrics()` gives {line, height}
 * in px (the browser's; tests give their own).
 */
export function mountViewTools({ textSize, root = document.documentElement, metrics = defaultMetrics }) {
  const min = minStep(textSize);
  if (sitting.step === null || sitting.step < min) sitting.step = min;

  // The name says what the button does and, for WCAG 2.5.3 (label in
  // name), ends with what is seen on it.
  const smaller = h('button', { type: 'button', id: 'text-smaller', class: 'secondary small view-size', 'aria-label': `${t('view.size.smaller')}, A−`, onclick: () => size.change(-1) }, 'A−');
  const bigger = h('button', { type: 'button', id: 'text-bigger', class: 'secondary small view-size', 'aria-label': `${t('view.size.bigger')}, A+`, onclick: () => size.change(1) }, 'A+');
  const rulerBtn = h('button', {
    type: 'button', id: 'line-focus-toggle', class: 'secondary small line-focus-toggle', 'aria-pressed': 'false',
    'aria-keyshortcuts': VIEW_SHORTCUTS.ruler, onclick: () => ruler.toggle(),
  }, t('view.ruler'));
  const group = h('div', { class: 'view-tools', role: 'group', 'aria-label': t('view.tools') },
    h('div', { class: 'view-size-buttons' }, smaller, bigger), rulerBtn);

  const band = h('div', { class: 'line-focus-band' });
  const overlay = h('div', { class: 'line-focus', id: 'line-focus', 'aria-hidden': 'true', hidden: true },
    h('div', { class: 'line-focus-shade line-focus-above' }), band, h('div', { class: 'line-focus-shade line-focus-below' }));

  const size = {
    get current() { return sitting.step; },
    get min() { return min; },
    change(dir) {
      const next = Math.max(min, Math.min(SIZE_STEPS_PX.length - 1, sitting.step + dir));
      if (next === sitting.step) {
        announce(t(dir < 0 ? 'view.size.smallest' : 'view.size.largest', { pct: stepPercent(sitting.step) }));
        return;
      }
      sitting.step = next;
      this.apply();
      announce(t('view.size.now', { pct: stepPercent(next) }));
      if (ruler.on) ruler.moveTo(sitting.rulerY);
    },
    /** Sets the root font size (none at the preset: its own class rules apply). */
    apply() {
      const px = SIZE_STEPS_PX[sitting.step];
      if (sitting.step === min) root.style.fontSize = '';
      else root.style.fontSize = `${px}px`;
      // Beyond the preset: the big-text layout (narrower side column), from
      // 200 % a compact frame (header, page buttons, overview), so the
      // question keeps most of the window.
      for (const [cls, from] of [['text-big', BIG_FROM_PX], ['text-huge', HUGE_FROM_PX]]) {
        if (px >= from && sitting.step > min) root.classList.add(cls);
        else root.classList.remove(cls);
      }
      smaller.setAttribute('aria-disabled', String(sitting.step === min));
      bigger.setAttribute('aria-disabled', String(sitting.step === SIZE_STEPS_PX.length - 1));
    },
  };

  const ruler = {
    get on() { return sitting.ruler; },
    get y() { return sitting.rulerY; },
    set(on) {
      sitting.ruler = on;
      overlay.hidden = !on;
      rulerBtn.setAttribute('aria-pressed', String(on));
      if (on) this.moveTo(sitting.rulerY ?? metrics().height / 3);
    },
    toggle() {
      this.set(!sitting.ruler);
      announce(t(sitting.ruler ? 'view.ruler.on' : 'view.ruler.off'));
    },
    /** Centres the band at `y` (px from the top of the window), kept inside the window. */
    moveTo(y) {
      const { line, height } = metrics();
      const half = (BAND_LINES * line) / 2;
      const c = Math.max(half, Math.min(Math.max(half, height - half), Number(y) || 0));
      sitting.rulerY = c;
      overlay.style.setProperty('--ruler-top', `${Math.round(c - half)}px`);
      overlay.style.setProperty('--ruler-bottom', `${Math.round(c + half)}px`);
    },
    /** One line up (-1) or down (1). */
    step(dir) {
      this.moveTo((sitting.rulerY ?? 0) + dir * metrics().line);
    },
  };

  function onKeydown(e) {
    if (e.defaultPrevented) return; // an interaction's own Alt+↑/↓ (order) went first
    const action = viewToolKey(e);
    if (!action) return;
    if (action === 'ruler') {
      e.preventDefault();
      ruler.toggle();
      return;
    }
    // Alt+↓ opens a select's list; leave it that.
    if (!sitting.ruler || (e.target && e.target.localName === 'select')) return;
    e.preventDefault();
    ruler.step(action === 'up' ? -1 : 1);
  }
  function onPointermove(e) {
    if (sitting.ruler) ruler.moveTo(e.clientY);
  }
  function onFocusin(e) {
    if (!sitting.ruler || !e.target || typeof e.target.getBoundingClientRect !== 'function') return;
    const r = e.target.getBoundingClientRect();
    const { line } = metrics();
    // A tall element (a text area): its first lines.
    ruler.moveTo(r.top + Math.min(r.height / 2, (BAND_LINES * line) / 2));
  }

  size.apply();
  ruler.set(sitting.ruler);

  return {
    group, overlay, size, ruler, onKeydown, onFocusin, onPointermove,
    /** Leaving the exam screen: the preset size again, no overlay. */
    unmount() {
      root.style.fontSize = '';
      root.classList.remove('text-big', 'text-huge');
      overlay.remove();
    },
  };
}

function defaultMetrics() {
  const px = parseFloat(getComputedStyle(document.documentElement).fontSize) || 18;
  return { line: LINE_REM * px, height: window.innerHeight };
}
