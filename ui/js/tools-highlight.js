// Markeerstift (issue 19): the student marks parts of an item's text, as
// with a highlighter on paper. Marks are <mark class="hl"> elements around
// exactly the marked characters (WebKit announces them as highlighted; no
// aria-hidden).
//
// What is stored (by the caller, through onChange) is a sorted list of
// non-overlapping [start, end] offsets (UTF-16 code units, as JS string
// indices) into the item's text: its text nodes in document order WITHOUT
// what changes while the student works — form controls and buttons, the
// kiosk's own hints and counters inside the item (they change with the
// answer or the language), live regions, SVG and MathML, and any element
// with `data-no-highlight` — so typing an answer or switching the language
// never moves a mark. What comes back from storage goes through validRanges.
//
// Keyboard: Alt+M (by physical key) marks the selected text; the caller
// routes it to the item that holds the selection (highlightKey). "Wis
// markering" removes the marks in the selection, or every mark of the item
// when nothing is selected (nothing to confirm: marking again undoes it).
//
// Marking by keyboard (the kiosk has no caret browsing, so a keyboard-only
// student cannot select static text): Alt+M with no selection in the item
// (the caller calls keyboard()), or "Markeer selectie" activated by keyboard
// (click with detail 0) with nothing selected, makes the item's text blocks
// (blockRanges: the innermost block elements with text of their own) a
// roving-tabindex list. The first gets the focus; ↓/↑ next/previous,
// Home/End first/last; Space or Enter marks the block's whole text (every
// character its offsets count) or, when it is already fully marked (white
// space at its ends aside), removes every mark in it; Escape or Alt+M again
// ends the mode and gives the focus back to where it was (the button that
// started it or the element that had the focus, else the item heading: the
// aria-labelledby of the nearest ancestor that has one). The focused
// block has class hl-kb-focus (kiosk.css: the focus ring) and
// aria-describedby to a visually hidden hint inside the item; its state
// ("gemarkeerd" / "niet gemarkeerd") is announced on every move and toggle.
// Tab or a click elsewhere (the focus leaves the blocks) ends it too, without
// moving the focus. Ending removes every tabindex, aria-describedby, class
// and the hint it added; the DOM is as before except the marks. Changes go
// through onChange and MAX_RANGES like mouse marks.

import { h, announce, nextId } from './dom.js';
import { t } from '../i18n.js';

export const MAX_RANGES = 500;
export const HIGHLIGHT_SHORTCUT = 'Alt+M';

const TEXT = 3;
const ELEMENT = 1;
/** Not item text: controls, media and non-HTML content (an HTML <mark> cannot go in SVG or MathML). */
const SKIP_TAGS = new Set(['input', 'textarea', 'select', 'option', 'button', 'output', 'script', 'style', 'template', 'svg', 'math', 'audio', 'video']);
/** The kiosk's own text inside an item (qti.js own(), companionNote): it changes with the language or the answer. */
const SKIP_CLASSES = ['hint', 'word-count', 'media-count', 'slider-current', 'notice-box', 'bank-no', 'associate-with', 'sr-only',
  'companion-note', 'graphic-placed', 'qti-unsupported', 'qti-image-missing'];
/** Text directly in these (whitespace between rows or list items) counts but cannot be wrapped. */
const NO_WRAP = new Set(['table', 'thead', 'tbody', 'tfoot', 'tr', 'colgroup', 'ul', 'ol', 'dl']);

function skipped(el) {
  return SKIP_TAGS.has(el.localName) || el.hasAttribute('data-no-highlight') || el.hasAttribute('aria-live')
    || SKIP_CLASSES.some((c) => el.classList.contains(c));
}

const isMark = (el) => el.localName === 'mark' && el.classList.contains('hl');

/** Calls f(element) for every element under `el` that is not skipped (nor under a skipped one), in document order. */
function eachElement(el, f) {
  for (const c of [...el.childNodes]) {
    if (c.nodeType === ELEMENT && !skipped(c)) {
      f(c);
      eachElement(c, f);
    }
  }
}

/** The item text's nodes in document order as [{node, start}], and the text's length. */
function textNodes(container) {
  const nodes = [];
  let pos = 0;
  const walk = (el) => {
    for (const c of [...el.childNodes]) {
      if (c.nodeType === TEXT) {
        nodes.push({ node: c, start: pos });
        pos += c.data.length;
      } else if (c.nodeType === ELEMENT && !skipped(c)) walk(c);
    }
  };
  walk(container);
  return { nodes, length: pos };
}

/** The item's text: what the offsets count. */
export function textOf(container) {
  return textNodes(container).nodes.map((x) => x.node.data).join('');
}

/** Block-level elements: text in them is a block of its own for marking by keyboard. */
const BLOCK_TAGS = new Set(['p', 'li', 'td', 'th', 'dd', 'dt', 'blockquote', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'figcaption',
  'legend', 'caption', 'pre', 'div', 'section', 'article', 'aside', 'figure', 'fieldset', 'details', 'summary', 'header', 'footer',
  'address', 'main', 'nav', 'form', 'ul', 'ol', 'dl', 'table', 'thead', 'tbody', 'tfoot', 'tr']);
const isBlock = (el) => BLOCK_TAGS.has(el.localName) || el.classList.contains('qti-prompt');
const isHidden = (el) => el.hidden === true || el.getAttribute('aria-hidden') === 'true';

/**
 * The item's text blocks for marking by keyboard, in document order, as
 * [{el, start, end}] with el's whole text as item-text offsets (textOf):
 * every block-level element (p, li, td, h1…, a div, a .qti-prompt, …) with
 * text of its own — non-white item text not inside a nested block (text in
 * inline elements such as <strong> or a choice's <label> counts). A block
 * around blocks without text of its own (a list, a blockquote of <p>s) is
 * not one; one with both (an <li> with text and a nested list) is, and its
 * range holds the nested blocks' text too. The container itself is one when
 * it holds such text. Skipped content (textOf) and hidden elements are not.
 */
export function blockRanges(container) {
  const out = [];
  let pos = 0;
  /** Walks el's children; true when el has text of its own. */
  const walk = (el, hidden) => {
    let own = false;
    for (const c of [...el.childNodes]) {
      if (c.nodeType === TEXT) {
        if (c.data.trim()) own = true;
        pos += c.data.length;
      } else if (c.nodeType === ELEMENT && !skipped(c)) {
        const hide = hidden || isHidden(c);
        if (isBlock(c)) {
          const entry = { el: c, start: pos, end: pos };
          out.push(entry); // before the blocks inside it
          entry.keep = walk(c, hide) && !hide;
          entry.end = pos;
        } else if (walk(c, hide) && !hide) own = true;
      }
    }
    return own;
  };
  if (walk(container, false)) out.unshift({ el: container, start: 0, end: pos, keep: true });
  return out.filter((b) => b.keep).map(({ el, start, end }) => ({ el, start, end }));
}

/** Item-text characters before the boundary point (node, offset) inside `container`; a point in skipped content is where that content starts. */
function offsetInside(container, node, offset) {
  let pos = 0;
  let found = null;
  const walk = (el) => {
    const kids = [...el.childNodes];
    for (let i = 0; i <= kids.length && found === null; i += 1) {
      if (el === node && i >= offset) found = pos;
      const c = kids[i];
      if (found !== null || !c) break;
      if (c.nodeType === TEXT) {
        if (c === node) found = pos + Math.min(offset, c.data.length);
        else pos += c.data.length;
      } else if (c === node && c.nodeType !== ELEMENT) found = pos; // a comment
      else if (c.nodeType === ELEMENT) {
        if (!skipped(c)) walk(c);
        else if (c.contains(node)) found = pos;
      }
    }
  };
  walk(container);
  return found ?? pos;
}

/** The child indexes from the root down to `node`. */
function path(node) {
  const p = [];
  for (let n = node; n.parentNode; n = n.parentNode) p.unshift(Array.prototype.indexOf.call(n.parentNode.childNodes, n));
  return p;
}

function rootOf(node) {
  let n = node;
  while (n.parentNode) n = n.parentNode;
  return n;
}

/** A boundary point as an item-text offset, clipped to the container (0 before it, `length` after it); null in another tree. */
function offsetOf(container, node, offset, length) {
  if (!node) return null;
  if (node === container || container.contains(node)) return offsetInside(container, node, offset);
  if (rootOf(node) !== rootOf(container)) return null;
  const a = path(node);
  const b = path(container);
  // An ancestor of the container: before or after the child that holds it.
  if (node.nodeType === ELEMENT && node.contains(container)) return offset <= b[a.length] ? 0 : length;
  for (let i = 0; i < Math.min(a.length, b.length); i += 1) if (a[i] !== b[i]) return a[i] < b[i] ? 0 : length;
  return 0;
}

/** A DOM Range (or {startContainer, startOffset, endContainer, endOffset}) as [[start, end]] in the container's item text; [] when collapsed or outside. */
export function selectionRanges(container, range) {
  if (!range) return [];
  const { length } = textNodes(container);
  const s = offsetOf(container, range.startContainer, range.startOffset, length);
  const e = offsetOf(container, range.endContainer, range.endOffset, length);
  return s === null || e === null || s >= e ? [] : [[s, e]];
}

/** The list with [start, end] added; overlapping and adjacent ranges become one. */
export function addRange(list, [start, end]) {
  if (!(start < end)) return list.map((r) => r.slice());
  let s = start;
  let e = end;
  const out = [];
  for (const [a, b] of list) {
    if (b < s || a > e) out.push([a, b]);
    else {
      s = Math.min(s, a);
      e = Math.max(e, b);
    }
  }
  out.push([s, e]);
  return out.sort((x, y) => x[0] - y[0]);
}

/** The list without the characters of [start, end] (a range cut in two where it was inside). */
export function removeRange(list, [start, end]) {
  const out = [];
  for (const [a, b] of list) {
    if (b <= start || a >= end) out.push([a, b]);
    else {
      if (a < start) out.push([a, start]);
      if (b > end) out.push([end, b]);
    }
  }
  return out;
}

/** What storage gave back, made safe: integer pairs clipped to [0, textLength], empty ones dropped, sorted and merged, at most MAX_RANGES. */
export function validRanges(list, textLength) {
  if (!Array.isArray(list) || !Number.isInteger(textLength) || textLength <= 0) return [];
  const ok = [];
  for (const r of list) {
    if (!Array.isArray(r) || r.length !== 2 || !Number.isInteger(r[0]) || !Number.isInteger(r[1])) continue;
    const s = Math.max(0, r[0]);
    const e = Math.min(textLength, r[1]);
    if (s < e) ok.push([s, e]);
  }
  ok.sort((x, y) => x[0] - y[0]);
  const out = [];
  for (const [s, e] of ok) {
    const last = out[out.length - 1];
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else out.push([s, e]);
  }
  return out.slice(0, MAX_RANGES);
}

/** Joins adjacent text nodes (outside skipped content), so the same text always has the same nodes. */
function joinText(el) {
  let prev = null;
  for (const c of [...el.childNodes]) {
    if (c.nodeType === TEXT && prev) {
      prev.data += c.data;
      el.removeChild(c);
      continue;
    }
    prev = c.nodeType === TEXT ? c : null;
    if (c.nodeType === ELEMENT && !skipped(c)) joinText(c);
  }
}

/**
 * Shows `list` as the container's marks: the old marks made here are
 * unwrapped, the text nodes joined, then exactly those characters wrapped
 * in <mark class="hl"> (text nodes split where needed). Idempotent; the
 * text stays the same; skipped content is never touched. Returns the list
 * as applied (validRanges).
 */
export function applyHighlights(container, list) {
  const old = [];
  eachElement(container, (el) => { if (isMark(el)) old.push(el); });
  for (const m of old) {
    for (const c of [...m.childNodes]) m.parentNode.insertBefore(c, m);
    m.parentNode.removeChild(m);
  }
  joinText(container);
  const { nodes, length } = textNodes(container);
  const ranges = validRanges(list, length);
  for (const { node, start } of nodes) {
    const end = start + node.data.length;
    if (start === end || NO_WRAP.has(node.parentNode.localName)) continue;
    const parts = [];
    for (const [a, b] of ranges) {
      if (b <= start) continue;
      if (a >= end) break;
      parts.push([Math.max(a, start) - start, Math.min(b, end) - start]);
    }
    // Last part first: the node keeps the text before it.
    for (const [a, b] of parts.reverse()) {
      if (b < node.data.length) node.splitText(b);
      const piece = a > 0 ? node.splitText(a) : node;
      const mark = h('mark', { class: 'hl' });
      piece.parentNode.insertBefore(mark, piece);
      mark.append(piece);
    }
  }
  return ranges;
}

/** The document's selection as a Range, or null. */
function documentSelection() {
  const sel = typeof document.getSelection === 'function' ? document.getSelection() : null;
  return sel && sel.rangeCount ? sel.getRangeAt(0) : null;
}

const collapsed = (r) => (typeof r.collapsed === 'boolean' ? r.collapsed : r.startContainer === r.endContainer && r.startOffset === r.endOffset);

/** 'mark' for Alt+M (by physical key, so any layout); with Ctrl, Meta or Shift, or any other key: null. */
export function highlightKey(e) {
  if (!e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return null;
  return e.code === 'KeyM' ? 'mark' : null;
}

/** The first of the ids in `aria-labelledby` on the nearest ancestor that has it (the item heading of an <article>), or null. */
function headingOf(container) {
  for (let n = container.parentNode; n && n.nodeType === ELEMENT; n = n.parentNode) {
    const ids = (n.getAttribute('aria-labelledby') || '').split(/\s+/).filter(Boolean);
    if (ids.length) return document.getElementById(ids[0]);
  }
  return null;
}

/** Whether focus can go back to `el`: an element still in the page, not the page itself. */
function focusable(el) {
  return Boolean(el && el.nodeType === ELEMENT && typeof el.focus === 'function' && el !== document.body
    && el !== document.documentElement && el.isConnected !== false);
}

/**
 * The highlighter of one item. `container`: the item body; `initial`: the
 * stored list (checked here); `onChange(list)` after every change;
 * `getSelection()` → a Range-like or null (default: the document's
 * selection, which is cleared after a change so the marks show).
 * Returns { buttons, markSelection(), unmarkSelection(), clear(), ranges(),
 * keyboard(), keyboardActive() }: `buttons` goes in the item's tool bar.
 * markSelection() and unmarkSelection() return false when nothing was
 * selected (Alt+M with several items on the page: call it on the item that
 * holds the selection). keyboard(returnTo?) starts marking by keyboard
 * (see the header; focus goes back to `returnTo`, default the focused
 * element, else the item heading), or ends it when it is on (Alt+M again);
 * it returns keyboardActive().
 */
export function mountHighlighter({ container, initial = null, onChange = () => {}, getSelection = documentSelection }) {
  let list = applyHighlights(container, validRanges(initial, textNodes(container).length));
  // The item text becomes selectable (kiosk.css); copying it stays impossible (lockdown.js).
  container.classList.add('hl-on');

  /** Shows and reports `next`; false when it is the list already. */
  function commit(next) {
    if (JSON.stringify(next) === JSON.stringify(list)) return false;
    list = applyHighlights(container, next);
    onChange(list.map((r) => r.slice()));
    return true;
  }

  function change(next, message) {
    const changed = commit(next);
    const sel = getSelection === documentSelection && typeof document.getSelection === 'function' ? document.getSelection() : null;
    if (sel) sel.removeAllRanges();
    announce(t(changed || message === 'hl.marked' ? message : 'hl.clear.none'));
    return true;
  }

  const selected = () => {
    const range = getSelection();
    return range ? selectionRanges(container, range) : [];
  };

  // --- marking by keyboard: null, or {blocks: [{el, start, end, saved}], index, hint, returnTo} ---
  let kb = null;

  /** Whether the block's text, without white space at its ends, is marked all through. */
  function fullyMarked(b) {
    const text = textOf(container).slice(b.start, b.end);
    const s = b.start + text.length - text.trimStart().length;
    const e = b.end - (text.length - text.trimEnd().length);
    return list.some(([a, z]) => a <= s && z >= e);
  }

  const announceState = (b) => announce(fullyMarked(b) ? t('hl.kb.marked') : t('hl.kb.unmarked'));

  /** Makes block i the current one (tabindex 0, ring, hint); focuses it unless it has the focus already. */
  function moveTo(i, focus = true) {
    const prev = kb.blocks[kb.index];
    if (prev && kb.index !== i) {
      prev.el.setAttribute('tabindex', '-1');
      prev.el.classList.remove('hl-kb-focus');
      restore(prev, 'aria-describedby');
    }
    kb.index = i;
    const b = kb.blocks[i];
    b.el.setAttribute('tabindex', '0');
    b.el.classList.add('hl-kb-focus');
    b.el.setAttribute('aria-describedby', [b.saved['aria-describedby'], kb.hint.id].filter(Boolean).join(' '));
    if (focus) b.el.focus();
    announceState(b);
  }

  /** Puts back the attribute as it was before the mode. */
  function restore(b, name) {
    const v = b.saved[name];
    if (v === null) b.el.removeAttribute(name);
    else b.el.setAttribute(name, v);
  }

  function startKeyboard(returnTo) {
    if (kb) endKeyboard(false);
    const blocks = blockRanges(container)
      // Not rendered (display: none by a style): cannot take the focus.
      .filter((b) => typeof b.el.getClientRects !== 'function' || b.el.getClientRects().length > 0);
    if (!blocks.length) {
      announce(t('hl.kb.none'));
      return false;
    }
    const from = returnTo || document.activeElement;
    kb = { blocks, index: -1, hint: h('span', { id: nextId('hl-kb-hint'), class: 'sr-only', 'data-no-highlight': true }, t('hl.kb.hint')), returnTo: from };
    for (const b of blocks) {
      b.saved = { tabindex: b.el.getAttribute('tabindex'), 'aria-describedby': b.el.getAttribute('aria-describedby'), hadClass: b.el.hasAttribute('class') };
      b.el.setAttribute('tabindex', '-1');
    }
    container.append(kb.hint);
    moveTo(0);
    return true;
  }

  /** Ends the mode: the DOM as before (but the marks); with `refocus` the focus goes back. */
  function endKeyboard(refocus) {
    if (!kb) return;
    const { blocks, hint, returnTo } = kb;
    kb = null;
    for (const b of blocks) {
      restore(b, 'tabindex');
      restore(b, 'aria-describedby');
      b.el.classList.remove('hl-kb-focus');
      if (!b.saved.hadClass && !b.el.classList.toString()) b.el.removeAttribute('class');
    }
    if (hint.parentNode) hint.parentNode.removeChild(hint);
    if (!refocus) return;
    const back = focusable(returnTo) ? returnTo : headingOf(container);
    if (back) back.focus();
  }

  /** Space/Enter: the current block marked whole, or every mark in it removed. */
  function toggle() {
    const b = kb.blocks[kb.index];
    // Offsets as they are now (the text may have changed since the start).
    const now = blockRanges(container).find((x) => x.el === b.el);
    if (now) Object.assign(b, { start: now.start, end: now.end });
    const next = fullyMarked(b) ? removeRange(list, [b.start, b.end]) : addRange(list, [b.start, b.end]);
    if (next.length > MAX_RANGES) {
      announce(t('hl.full'));
      return;
    }
    commit(next);
    announceState(b);
  }

  const blockIndex = (el) => (kb ? kb.blocks.findIndex((b) => b.el === el) : -1);

  container.addEventListener('keydown', (e) => {
    if (!kb || blockIndex(e.target) < 0) return;
    let done = true;
    if (highlightKey(e) === 'mark') endKeyboard(true);
    else if (e.altKey || e.ctrlKey || e.metaKey) done = false;
    else if (e.key === 'Escape' || e.key === 'Esc') endKeyboard(true);
    else if (e.key === 'ArrowDown' || e.key === 'Down') moveTo(Math.min(kb.index + 1, kb.blocks.length - 1));
    else if (e.key === 'ArrowUp' || e.key === 'Up') moveTo(Math.max(kb.index - 1, 0));
    else if (e.key === 'Home') moveTo(0);
    else if (e.key === 'End') moveTo(kb.blocks.length - 1);
    else if ((e.key === ' ' || e.key === 'Spacebar' || e.key === 'Enter') && !e.shiftKey) toggle();
    else done = false;
    if (!done) return;
    // Handled here: no scrolling, and not the exam's Alt+M (that would start the mode again).
    e.preventDefault();
    if (typeof e.stopPropagation === 'function') e.stopPropagation();
  });
  // A block clicked (it can take the focus): it is the current one.
  container.addEventListener('focusin', (e) => {
    const i = blockIndex(e.target);
    if (i >= 0 && i !== kb.index) moveTo(i, false);
  });
  // The focus leaves the blocks (Tab, a click elsewhere, a dialog): the mode ends there.
  // Checked after the move; while the window is in the background the focus stays on the block.
  container.addEventListener('focusout', () => {
    if (!kb) return;
    setTimeout(() => {
      if (kb && blockIndex(document.activeElement) < 0) endKeyboard(false);
    }, 0);
  });

  const api = {
    /** The item text this highlighter marks in. */
    container,
    markSelection() {
      const sel = selected();
      if (!sel.length) {
        announce(t('hl.noselection'));
        return false;
      }
      const next = sel.reduce(addRange, list);
      if (next.length > MAX_RANGES) {
        announce(t('hl.full'));
        return false;
      }
      return change(next, 'hl.marked');
    },
    unmarkSelection() {
      const range = getSelection();
      if (!range || collapsed(range)) return false;
      const sel = selectionRanges(container, range);
      // A selection elsewhere (another item) is none here: "Wis markering" clears this item.
      if (!sel.length) return false;
      return change(sel.reduce(removeRange, list), 'hl.cleared');
    },
    clear() {
      return change([], 'hl.cleared');
    },
    ranges: () => list.map((r) => r.slice()),
    keyboard(returnTo = null) {
      if (kb) endKeyboard(true);
      else startKeyboard(returnTo);
      return Boolean(kb);
    },
    keyboardActive: () => Boolean(kb),
  };

  // A mouse press on the buttons would move the selection away: keep it.
  const keep = (e) => e.preventDefault();
  // Activated by keyboard (a click with detail 0) with nothing selected: marking by keyboard.
  const markClick = (e) => {
    if (e && e.detail === 0 && !selected().length) startKeyboard(markButton);
    else api.markSelection();
  };
  const markButton = h('button', { type: 'button', class: 'secondary small hl-mark', 'aria-keyshortcuts': HIGHLIGHT_SHORTCUT,
    onmousedown: keep, onclick: markClick }, t('hl.mark'));
  const buttons = h('span', { class: 'hl-tools', role: 'group', 'aria-label': t('hl.tools'), 'data-no-highlight': true },
    markButton,
    h('button', { type: 'button', class: 'secondary small hl-clear',
      onmousedown: keep, onclick: () => api.unmarkSelection() || api.clear() }, t('hl.clear')));

  return { buttons, ...api };
}
