// The exam frame: items (one page at a time, or all on one page), previous/
// next, a review list (answered / flagged), flags, read-aloud, autosave and
// the hand-in confirmation.
//
// What the UI keeps itself: which page is shown, the flags, and the answers
// typed since the last view (so a view event never overwrites what the
// student is typing). Every change is sent with save_answer at once (one
// save in flight per item; changes made meanwhile follow as soon as it is
// on disk), so a crash loses at most the change being written; the shell's
// view.sync says whether the hub has them.

import { h, clear, announce, setText } from './dom.js';
import { t } from '../i18n.js';
import { shell } from './bridge.js';
import { flatten, renderNodes, renderItemBody, withIds, finishIds, answered, plainText, speechText, countInline } from './qti.js';
import { confirmDialog } from './dialog.js';
import { mountWebExam } from './web-instrument.js';
import { clearExamClipboard } from './lockdown.js';
import { mountCalculator, resetCalculator } from './tools-calculator.js';
import { createReader, SPEEDS, SHORTCUTS, readAloudKey } from './read-aloud.js';
import { mountViewTools, resetViewTools } from './tools-view.js';
import { mountHighlighter, highlightKey, selectionRanges } from './tools-highlight.js';
import { mountScratchpad, resetScratchpads, flushScratchpads } from './tools-scratchpad.js';
import { mountReferences } from './tools-reference.js';

const SAVE_RETRY_MS = 2000;

/** Exam state that outlives a re-render (language switch, lock and unlock). */
const state = {
  active: false,
  key: null,
  instrument: null,
  model: null,
  answers: new Map(), // ref -> {responseId: value}
  flags: new Set(),
  notes: new Map(), // ref -> {scratchpad, highlights}: the student's own aids, never scored
  marks: new Map(), // ref -> {inflight, pending, failed}: the markeerstift's saves, newest list only, in order
  page: 0,
  scroll: false,
  saves: new Map(), // ref -> {timer, inflight, dirty, failed}
  noteSaves: new Map(), // `${ref}/${kind}` -> 'inflight' | 'failed': kladblok and markeerstift not yet kept by the shell
  tools: { calculators: {}, spell_check: false }, // view.tools: kiosk-core says which item has which tool
  calculator: null, // the open calculator panel
  onSaveState: null,
};

function instrumentKey(view, i) {
  if (!i) return null;
  const s = view.student ? view.student.number : '';
  return `${s}/${i.identifier || i.title}/${i.item_count ?? (i.items ? i.items.length : '')}`;
}

/** Local saves not yet acknowledged by the shell: answers, and kladblok
 * and markeerstift notes (a failed note counts until its retry is kept). */
export function pendingSaves() {
  let n = state.noteSaves.size;
  for (const s of state.saves.values()) if (s.timer || s.inflight || s.dirty || s.failed) n += 1;
  return n;
}

/** Sends a note through `send()` and counts it in [`pendingSaves`] until the shell keeps it. */
export function trackNoteSave(ref, kind, send) {
  const key = `${ref}/${kind}`;
  state.noteSaves.set(key, 'inflight');
  saveState();
  const sent = send();
  sent.then(
    () => state.noteSaves.delete(key),
    () => state.noteSaves.set(key, 'failed'),
  ).finally(saveState);
  return sent;
}

function saveState() {
  if (state.onSaveState) state.onSaveState(pendingSaves());
}

function flush(ref) {
  const s = state.saves.get(ref);
  if (!s) return;
  if (s.timer) {
    clearTimeout(s.timer);
    s.timer = null;
  }
  if (s.inflight) {
    s.dirty = true;
    return;
  }
  s.inflight = shell
    .saveAnswer(ref, state.answers.get(ref) ?? null)
    .then(() => {
      s.failed = false;
    })
    .catch((err) => {
      // While the exam screen is away (locked) the shell refuses saves; they
      // are retried and sent again as soon as the exam is back.
      if (!s.failed && state.active) announce(t('save.failed', { msg: err.message }), true);
      s.failed = true;
      s.dirty = true;
    })
    .finally(() => {
      s.inflight = null;
      if (s.dirty) {
        s.dirty = false;
        if (s.failed) s.timer = setTimeout(() => flush(ref), SAVE_RETRY_MS);
        else flush(ref);
      }
      saveState();
    });
  saveState();
}

function schedule(ref) {
  let s = state.saves.get(ref);
  if (!s) {
    s = { timer: null, inflight: null, dirty: false, failed: false };
    state.saves.set(ref, s);
  }
  // No delay: the answer store writes each change durably in a few ms
  // (docs/benchmarks.md), and the hub upload runs in the background.
  flush(ref);
}

/** A changed answer of item `ref` (response id → value): kept, and sent to the shell at once. */
export function recordAnswer(ref, answer) {
  state.answers.set(ref, answer);
  schedule(ref);
}

/** Sends item `ref`'s pending answer now and waits until the shell has it; false when it is not kept (yet). */
async function settleSave(ref) {
  flush(ref);
  for (let i = 0; i < 50; i += 1) {
    const s = state.saves.get(ref);
    if (!s || !(s.inflight || s.timer || s.dirty)) return !(s && s.failed);
    if (s.inflight) await s.inflight.catch(() => {});
    else await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

/** Sends every pending answer now and waits for them (before hand-in). */
export async function flushAll() {
  for (const ref of state.saves.keys()) flush(ref);
  for (let i = 0; i < 50; i += 1) {
    const inflight = [...state.saves.values()].map((s) => s.inflight).filter(Boolean);
    if (!inflight.length) break;
    await Promise.allSettled(inflight);
  }
  const failed = [...state.saves.values()].some((s) => s.failed);
  if (failed) throw new Error(t('save.failed', { msg: '—' }));
}

function accommodations(view) {
  const acc = (view.assignment && view.assignment.accommodations) || {};
  const tools = (acc.tools || []).map((x) => String(x).toLowerCase());
  // The kiosk says whether read-aloud is granted (the accommodation, or the
  // instrument gives it everyone); the preview has no kiosk and reads the
  // accommodation.
  const granted = view.tools && typeof view.tools.read_aloud === 'boolean' ? view.tools.read_aloud : tools.includes('read-aloud');
  return {
    // In the kiosk: its own engine (espeak-ng, read_aloud), which the shell
    // grants only for the read-aloud accommodation. Elsewhere (the preview):
    // the web view's speechSynthesis, as before.
    // Exactly the accommodation the kiosk grants (the hub maps voorlezen,
    // voorleessoftware… to it): "screen-reader" once matched /read/ and got a
    // button the kiosk then refused on every press.
    readAloud: granted && (shell.available() || 'speechSynthesis' in window),
  };
}

/** What the student typed on `item` (responses of base type string), never choice ids. */
function typedAnswers(item, answer) {
  const typed = new Set((item.responses || []).filter((r) => r.base_type === 'string').map((r) => r.identifier));
  return Object.entries(answer || {}).filter(([rid, v]) => typed.has(rid) && typeof v === 'string' && v.trim()).map(([, v]) => v);
}

/**
 * Mounts the exam screen into `root`. Returns { update(view), unmount() }.
 * `onSaveState(n)` is told the number of local saves pending.
 */
export function mountExam(root, view, { onSaveState, render }) {
  state.onSaveState = onSaveState;
  // The shell may send the instrument once and null afterwards: keep it.
  const instrument = view.instrument || state.instrument;
  const key = instrumentKey(view, instrument);
  if (instrument && instrument.kind === 'web') {
    state.instrument = instrument;
    return mountWebExam(root, instrument, { render });
  }
  if (!instrument) {
    root.append(h('section', { id: 'screen-exam', class: 'screen', 'aria-labelledby': 'exam-wait' }, h('h1', { id: 'exam-wait', tabindex: '-1' }, t('phase.unknown'))));
    return { update() {}, unmount() {}, focus() {} };
  }
  if (key !== state.key) {
    state.key = key;
    state.instrument = instrument;
    const seed = instrument.shuffle_seed || key;
    state.model = flatten(instrument, seed);
    state.answers = new Map();
    state.flags = new Set();
    state.notes = new Map(Object.entries(view.notes || {}));
    state.marks = new Map();
    // After a crash the shell says which page the student was on.
    state.page = Number.isInteger(view.page) && view.page >= 0 && view.page < state.model.pages.length ? view.page : 0;
    state.scroll = false;
    for (const s of state.saves.values()) if (s.timer) clearTimeout(s.timer);
    state.saves = new Map();
    state.noteSaves = new Map();
  }
  resetCalculator(key);
  resetViewTools(key);
  resetScratchpads(key);
  state.tools = view.tools && view.tools.calculators ? view.tools : { calculators: {}, spell_check: false };
  // Answers the shell holds (resume) fill in what the UI has not touched.
  for (const [ref, value] of Object.entries(view.answers || {})) {
    if (!state.answers.has(ref) && !state.saves.has(ref)) state.answers.set(ref, value);
  }

  const model = state.model;
  const sitting = state.key; // the notes saved from this screen are this sitting's
  const acc = accommodations(view);
  // Read-aloud by the kiosk's engine: one text at a time for the whole exam.
  let speed = 'normal';
  let readingLang = 'nl';
  let readingBtn = null;
  let readingPause = null;
  // What is being read, shown with the spoken word marked (for the eyes:
  // a screen reader hears the speech itself, so it is aria-hidden).
  const caption = h('p', { class: 'read-aloud-caption', id: 'read-aloud-caption', 'aria-hidden': 'true', hidden: true });
  const showWord = (times, index) => {
    clear(caption);
    caption.hidden = index < 0;
    times.forEach((w, i) => {
      if (i) caption.append(' ');
      caption.append(i === index ? h('mark', { class: 'spoken' }, w.text) : w.text);
    });
  };
  const reader = acc.readAloud && shell.available()
    ? createReader({
      onWord: showWord,
      speak: (text) => shell.readAloud(text, readingLang, SPEEDS[speed]),
      makeAudio: (url) => new Audio(url),
      onState: (s, err) => {
        if (readingBtn) setText(readingBtn, s === 'stopped' || s === 'failed' ? t('exam.readaloud') : t('exam.readaloud.stop'));
        if (readingPause) {
          readingPause.hidden = s !== 'playing' && s !== 'paused';
          setText(readingPause, s === 'paused' ? t('exam.readaloud.resume') : t('exam.readaloud.pause'));
        }
        if (s === 'failed') announce(t('exam.readaloud.failed', { msg: err && err.message ? err.message : '—' }));
        if (s === 'stopped' || s === 'failed') { readingBtn = null; readingPause = null; }
      },
    })
    : null;
  const linear = model.navigation === 'linear';
  const total = model.items.length;

  // Read-aloud shortcuts (Alt+V, Alt+P): the item with the focus, else the
  // first on the page.
  const readAloudKeys = (e) => {
    const action = reader ? readAloudKey(e) : null;
    if (!action) return;
    e.preventDefault();
    if (action === 'pause') {
      if (reader.state === 'paused') reader.resume();
      else reader.pause();
      return;
    }
    const focused = document.activeElement && document.activeElement.closest ? document.activeElement.closest('article.item') : null;
    const button = (focused || itemsArea).querySelector('button.read-aloud');
    if (button) button.click();
  };
  // Markeerstift: Alt+M marks the selection in the item that holds it, or
  // (no selection) starts marking by keyboard in the item with the focus.
  const highlightKeys = (e) => {
    if (highlightKey(e) !== 'mark') return;
    e.preventDefault();
    const sel = typeof document.getSelection === 'function' ? document.getSelection() : null;
    const range = sel && sel.rangeCount ? sel.getRangeAt(0) : null;
    const holder = range ? [...highlighters.values()].find((x) => selectionRanges(x.container, range).length) : null;
    if (holder) {
      holder.markSelection();
      return;
    }
    const focused = document.activeElement && document.activeElement.closest ? document.activeElement.closest('article.item') : null;
    const entry = highlighters.get((focused || itemsArea.querySelector('article.item') || { dataset: {} }).dataset.itemId);
    if (entry && entry.keyboard) entry.keyboard();
  };
  // Leesliniaal and text size (every student): Alt+L, Alt+↑/↓ (tools-view.js).
  const viewTools = mountViewTools({ textSize: ((view.assignment && view.assignment.accommodations) || {}).text_size || null });
  const screen = h('section', { id: 'screen-exam', class: 'screen exam', 'aria-labelledby': 'screen-exam-title', onkeydown: (e) => { readAloudKeys(e); highlightKeys(e); viewTools.onKeydown(e); }, onfocusin: viewTools.onFocusin },
    h('h1', { id: 'screen-exam-title', class: 'sr-only' }, model.title || t('exam.region')));
  const itemsArea = h('div', { class: 'exam-items', id: 'exam-items' });
  const pageStatus = h('p', { class: 'page-status', id: 'page-status' });
  const prev = h('button', { type: 'button', id: 'prev-item', class: 'secondary', onclick: () => go(state.page - 1) }, '← ', t('exam.prev'));
  const next = h('button', { type: 'button', id: 'next-item', class: 'primary', onclick: () => go(state.page + 1) }, t('exam.next'), ' →');
  const navBar = h('div', { class: 'exam-nav' }, linear ? h('span') : prev, pageStatus, next);
  const reviewList = h('ol', { class: 'review-list', id: 'review-list' });
  const reviewSummary = h('p', { class: 'review-summary', id: 'review-summary' });
  const layoutToggle = linear
    ? null
    : h('button', { type: 'button', id: 'layout-toggle', class: 'secondary small', onclick: () => {
      state.scroll = !state.scroll;
      drawItems();
      const el = itemEls.get(model.pages[state.page] ? model.pages[state.page][0] : 0);
      if (state.scroll && el) el.scrollIntoView({ block: 'start' });
      setText(layoutToggle, t(state.scroll ? 'exam.layout.single' : 'exam.layout.scroll'));
    } }, t(state.scroll ? 'exam.layout.single' : 'exam.layout.scroll'));
  const submitBtn = h('button', { type: 'button', id: 'submit-exam', class: 'primary submit', onclick: () => confirmSubmit() }, t('exam.submit'));
  const aside = h('nav', { class: 'exam-review', 'aria-labelledby': 'review-heading' },
    h('h2', { id: 'review-heading' }, t('exam.review')),
    reviewSummary,
    linear ? h('p', { class: 'hint' }, t('exam.review.linear')) : null,
    reviewList,
    h('p', { class: 'review-legend', 'aria-hidden': 'true' }, '✓ ', t('exam.review.answered'), ' · ⚑ ', t('exam.review.flagged')),
    layoutToggle,
    viewTools.group,
    submitBtn);
  const mainCol = h('div', { class: 'exam-main' }, itemsArea, caption, navBar);
  screen.append(mainCol, aside, viewTools.overlay);
  root.append(screen);
  // The band follows the mouse anywhere in the window (header included).
  const pointer = (e) => viewTools.onPointermove(e);
  if (typeof window !== 'undefined' && window.addEventListener) window.addEventListener('pointermove', pointer, { passive: true });

  const itemEls = new Map(); // index -> article
  const highlighters = new Map(); // ref -> the markeerstift of an item shown
  const scratchpads = new Map(); // ref -> the kladblok of an item shown

  // In the one-page layout the current item is the one that has focus.
  itemsArea.addEventListener('focusin', (e) => {
    const article = e.target instanceof Element ? e.target.closest('[data-item-id]') : null;
    if (!article) return;
    // The calculator belongs to its item: working on another item (the
    // one-page layout, or several items on one page) closes it, leaving the
    // focus where the student put it.
    if (state.calculator && state.calculator.itemId !== article.dataset.itemId) state.calculator.close({ refocus: false });
    if (!state.scroll) return;
    const index = model.items.findIndex((x) => x.ref === article.dataset.itemId);
    const page = pageOf(index);
    if (index >= 0 && page !== state.page) {
      state.page = page;
      keepPosition();
      drawReview();
    }
  });

  /** Tells the shell the page shown (a resume opens it), one call after
   * the other so the last page turn is the one kept; for tests,
   * `data-page-kept` says which page the shell holds. */
  function keepPosition() {
    const page = state.page;
    state.positionSent = (state.positionSent || Promise.resolve())
      .then(() => shell.examPosition(page))
      .then(() => {
        screen.dataset.pageKept = String(page);
      }, () => {});
  }

  function setResponse(ref, rid, value) {
    const cur = { ...(state.answers.get(ref) || {}) };
    cur[rid] = value;
    recordAnswer(ref, cur);
    drawReview();
  }

  function pageOf(index) {
    return Math.max(0, model.pages.findIndex((p) => p.includes(index)));
  }

  function renderItem(index) {
    const entry = model.items[index];
    const { item, ref } = entry;
    const headingId = `item-heading-${index}`;
    const flagBtn = h('button', {
      type: 'button',
      class: 'flag-toggle secondary small',
      'aria-pressed': String(state.flags.has(ref)),
      dataset: { flag: ref },
      onclick: () => {
        if (state.flags.has(ref)) state.flags.delete(ref);
        else state.flags.add(ref);
        flagBtn.setAttribute('aria-pressed', String(state.flags.has(ref)));
        setText(flagIcon, state.flags.has(ref) ? '⚑' : '⚐');
        drawReview();
      },
    });
    const flagIcon = h('span', { class: 'flag-icon', 'aria-hidden': 'true' }, state.flags.has(ref) ? '⚑' : '⚐');
    flagBtn.append(flagIcon, ' ', t('exam.flag'));
    // --- calculator (issue 19): only where kiosk-core grants one ---
    const calcKind = state.tools.calculators[ref];
    let calcBtn = null;
    if (calcKind === 'basic' || calcKind === 'scientific') {
      calcBtn = h('button', {
        type: 'button', class: 'secondary small calc-open', 'aria-expanded': 'false', 'aria-controls': 'calculator',
        onclick: () => openCalculator(ref, calcKind, calcBtn),
      }, t('calc.open'));
    }
    let readBtn = null;
    let readTools = null;
    if (reader) {
      const pauseBtn = h('button', { type: 'button', class: 'secondary small read-aloud-pause', hidden: true, 'aria-keyshortcuts': SHORTCUTS.pause, onclick: () => {
        if (reader.state === 'paused') reader.resume();
        else reader.pause();
      } }, t('exam.readaloud.pause'));
      const speedSel = h('select', { class: 'read-aloud-speed', 'aria-label': t('exam.readaloud.speed'), onchange: (e) => { speed = e.target.value; } },
        ...[['slow', t('exam.readaloud.slow')], ['normal', t('exam.readaloud.normal')], ['fast', t('exam.readaloud.fast')]]
          .map(([k, label]) => h('option', { value: k, selected: k === speed }, label)));
      readBtn = h('button', { type: 'button', class: 'secondary small read-aloud', 'aria-keyshortcuts': SHORTCUTS.toggle, onclick: () => {
        if (readingBtn === readBtn) {
          reader.stop();
          return;
        }
        reader.stop();
        readingLang = item.lang || instrument.lang || document.documentElement.lang || 'nl';
        readingBtn = readBtn;
        readingPause = pauseBtn;
        // The item, its options, and what the student typed themselves.
        const own = typedAnswers(item, state.answers.get(ref));
        reader.start([speechText(item.body, item.spoken), ...own.map((v) => `${t('exam.readaloud.own')} ${v}`)].join('\n'));
      } }, t('exam.readaloud'));
      readTools = h('span', { class: 'read-aloud-tools' }, readBtn, pauseBtn, speedSel);
    } else if (acc.readAloud) {
      readBtn = h('button', { type: 'button', class: 'secondary small read-aloud', onclick: () => {
        const synth = window.speechSynthesis;
        if (synth.speaking) {
          synth.cancel();
          setText(readBtn, t('exam.readaloud'));
          return;
        }
        const u = new SpeechSynthesisUtterance(speechText(item.body, item.spoken));
        u.lang = item.lang || instrument.lang || document.documentElement.lang;
        u.onend = () => setText(readBtn, t('exam.readaloud'));
        synth.speak(u);
        setText(readBtn, t('exam.readaloud.stop'));
      } }, t('exam.readaloud'));
    }
    const counters = countInline(item.body);
    const ctx = {
      item: entry,
      seed: model.seed,
      media: instrument.media || null,
      headingBase: 2,
      counters,
      get: (rid) => (state.answers.get(ref) || {})[rid],
      cardinality: (rid) => {
        const r = (item.responses || []).find((x) => x.identifier === rid);
        return r ? r.cardinality : null;
      },
      baseType: (rid) => {
        const r = (item.responses || []).find((x) => x.identifier === rid);
        return r ? r.base_type || null : null;
      },
      set: (rid, v) => setResponse(ref, rid, v),
    };
    // Section heading and its instructions, on the first item of a section.
    const sectionBits = [];
    const sectionCtx = withIds(ctx);
    for (const s of entry.sections) {
      const first = model.items.findIndex((x) => x.sections.includes(s)) === index;
      if (first && s.visible && s.title) sectionBits.push(h('p', { class: 'section-title' }, s.title));
      if (first) for (const rb of s.rubric_blocks || []) sectionBits.push(...renderNodes([{ type: 'rubric-block', ...rb }], sectionCtx));
    }
    finishIds(sectionCtx);
    const body = renderItemBody(item, ctx, instrument.lang);
    // --- markeerstift and kladblok (issue 19, every student): kept with
    // the answers through save_note, never scored ---
    const notes = state.notes.get(ref) || {};
    const highlighter = mountHighlighter({ container: body, initial: notes.highlights || null, onChange: (list) => saveMarks(ref, list.length ? list : null) });
    highlighters.set(ref, highlighter);
    const pad = mountScratchpad({ itemId: ref, initial: notes.scratchpad || null, labelId: headingId, onSave: (text) => saveNote(ref, 'scratchpad', text) });
    scratchpads.set(ref, pad);
    // --- naslag: the reference material the item ships (an image) ---
    const refs = mountReferences({ companion: item.companion, media: instrument.media || null, idBase: `item-${index}`, lang: item.lang || instrument.lang || null });
    // --- spell-check (the accommodation, or the instrument's): typed answers
    // only, never on an item the instrument switched it off on ---
    let spellBtn = null;
    let spellPanel = null;
    let spellOffNote = null;
    const typedItem = (item.responses || []).some((r) => r.base_type === 'string');
    const spellOff = (state.tools.no_spell_check || []).includes(ref);
    if (state.tools.spell_check && typedItem && spellOff) {
      spellOffNote = h('p', { class: 'hint spell-off', 'data-no-highlight': true }, t('spell.off'));
    } else if (state.tools.spell_check && typedItem) {
      spellPanel = h('div', { class: 'spell-panel', id: `spell-${index}`, hidden: true, role: 'region', 'aria-label': t('spell.region'), 'data-no-highlight': true });
      spellBtn = h('button', { type: 'button', class: 'secondary small spell-open', 'aria-controls': spellPanel.id, onclick: () => checkSpelling(ref, spellPanel) }, t('spell.check'));
    }
    return h('article', { class: 'item', dataset: { itemId: ref }, 'aria-labelledby': headingId },
      sectionBits.length ? h('div', { class: 'section-intro', lang: instrument.lang || null }, sectionBits) : null,
      h('header', { class: 'item-header' },
        h('h2', { id: headingId, tabindex: '-1', class: 'item-heading' }, t('exam.item', { n: index + 1, total })),
        h('div', { class: 'item-tools' }, calcBtn, ...refs.buttons, readTools || readBtn, highlighter.buttons, pad.toggle, spellBtn, linear ? null : flagBtn)),
      ...refs.panels, spellOffNote, body, spellPanel, pad.panel);
  }

  /** Keeps a note of item `ref` (kladblok text or highlights) in the shell,
   * for this sitting only: a retry after another student's exam opened is
   * dropped (the pad stops retrying when the new sitting resets it). */
  function saveNote(ref, kind, value) {
    if (state.key !== sitting) return Promise.reject(new Error(t('note.stale')));
    const cur = { ...(state.notes.get(ref) || {}) };
    if (value === null) delete cur[kind];
    else cur[kind] = value;
    state.notes.set(ref, cur);
    return trackNoteSave(ref, kind, () => shell.saveNote(ref, kind, value));
  }

  /** The markeerstift's marks of item `ref`: one save in flight, then only
   * the newest list (so an older list never lands after a newer one), and a
   * failed save is tried again every 2 s (announced once). */
  function saveMarks(ref, list) {
    let chain = state.marks.get(ref);
    if (!chain) state.marks.set(ref, (chain = { inflight: null, pending: undefined, failed: false }));
    chain.pending = list;
    const pump = () => {
      if (chain.inflight || chain.pending === undefined || state.key !== sitting) return;
      const value = chain.pending;
      chain.pending = undefined;
      chain.inflight = saveNote(ref, 'highlights', value)
        .then(() => { chain.failed = false; }, (err) => {
          if (!chain.failed) announce(t('save.failed', { msg: err.message }), true);
          chain.failed = true;
          if (chain.pending === undefined) chain.pending = value;
          return new Promise((resolve) => setTimeout(resolve, SAVE_RETRY_MS));
        })
        .finally(() => {
          chain.inflight = null;
          pump();
        });
    };
    pump();
  }

  /** The Dutch spell-check of item `ref`'s typed answers: the unknown words with suggestions in `panel`. */
  async function checkSpelling(ref, panel) {
    const item = (model.items.find((e) => e.ref === ref) || {}).item || {};
    const texts = typedAnswers(item, state.answers.get(ref));
    clear(panel);
    panel.hidden = false;
    if (!texts.length) {
      panel.append(h('p', {}, t('spell.nothing')));
      announce(t('spell.nothing'));
      return;
    }
    try {
      // The shell checks what it holds: the newest typed text is saved
      // first; an answer not kept (yet) is said, not checked in an older form.
      if (!(await settleSave(ref))) throw new Error(t('spell.unsaved'));
      const found = await shell.spellCheck(ref);
      const heading = h('p', { class: 'spell-summary' }, t('spell.found', { n: found.length }));
      panel.append(heading);
      if (found.length) {
        panel.append(h('ul', { class: 'spell-list' }, ...found.map((m) => h('li', {},
          h('strong', { lang: 'nl' }, m.word),
          m.suggestions.length ? ` — ${t('spell.suggest')} ${m.suggestions.join(', ')}` : ` — ${t('spell.nosuggest')}`))));
      }
      announce(t('spell.found', { n: found.length }));
      if (panel.scrollIntoView) panel.scrollIntoView({ block: 'nearest' });
    } catch (err) {
      panel.append(h('p', { class: 'notice-box' }, err.message));
      announce(err.message, true);
    }
  }

  /** Opens the calculator of item `ref` beside the items (one at a time); closing gives focus back to `opener`. */
  function openCalculator(ref, kind, opener) {
    if (state.calculator) state.calculator.close();
    opener.setAttribute('aria-expanded', 'true');
    screen.classList.add('with-calculator');
    let refocus = true;
    const panel = mountCalculator(screen, {
      itemId: ref,
      kind,
      calculate: (itemId, expression, angle) => shell.calculate(itemId, expression, angle),
      onClose: () => {
        state.calculator = null;
        screen.classList.remove('with-calculator');
        opener.setAttribute('aria-expanded', 'false');
        if (refocus && opener.isConnected !== false) opener.focus();
      },
    });
    state.calculator = {
      itemId: ref,
      focus: () => panel.focus(),
      close: ({ refocus: back = true } = {}) => {
        refocus = back;
        panel.close();
      },
    };
    state.calculator.focus();
  }

  function drawItems(focus = false) {
    // The calculator belongs to an item: another page closes it.
    if (state.calculator) state.calculator.close();
    if (reader) reader.stop();
    if (window.speechSynthesis && window.speechSynthesis.speaking) window.speechSynthesis.cancel();
    clear(itemsArea);
    itemEls.clear();
    highlighters.clear();
    for (const pad of scratchpads.values()) pad.unmount();
    scratchpads.clear();
    if (!total) {
      itemsArea.append(h('p', {}, t('exam.empty')));
      return;
    }
    const indexes = state.scroll ? model.items.map((_, i) => i) : model.pages[state.page] || [];
    for (const i of indexes) {
      const el = renderItem(i);
      itemEls.set(i, el);
      itemsArea.append(el);
    }
    navBar.hidden = state.scroll;
    const last = state.page >= model.pages.length - 1;
    prev.disabled = state.page === 0;
    next.disabled = last;
    next.hidden = linear && last;
    const first = indexes[0];
    const lastIdx = indexes[indexes.length - 1];
    setText(pageStatus, first === lastIdx ? t('exam.item', { n: first + 1, total }) : `${first + 1}–${lastIdx + 1} / ${total}`);
    if (last && !state.scroll) pageStatus.append(h('span', { class: 'sr-only' }, ` ${t('exam.last')}`));
    drawReview();
    if (focus) {
      const heading = itemsArea.querySelector('.item-heading');
      if (heading) heading.focus();
      itemsArea.scrollTop = 0;
    }
  }

  function go(page, itemIndex = null) {
    if (page < 0 || page >= model.pages.length) return;
    if (linear && page < state.page) return;
    if (state.scroll) {
      const el = itemEls.get(itemIndex ?? model.pages[page][0]);
      state.page = page;
      keepPosition();
      drawReview();
      if (el) {
        el.scrollIntoView({ block: 'start' });
        el.querySelector('.item-heading').focus();
      }
      return;
    }
    state.page = page;
    keepPosition();
    drawItems(false);
    const el = itemEls.get(itemIndex ?? model.pages[page][0]);
    const heading = el ? el.querySelector('.item-heading') : null;
    if (heading) heading.focus();
    itemsArea.scrollTop = 0;
  }

  function drawReview() {
    clear(reviewList);
    let nAnswered = 0;
    model.items.forEach((entry, i) => {
      const isAnswered = answered(state.answers.get(entry.ref));
      const isFlagged = state.flags.has(entry.ref);
      if (isAnswered) nAnswered += 1;
      const current = model.pages[state.page] && model.pages[state.page].includes(i);
      const status = [isAnswered ? t('exam.review.answered') : t('exam.review.open')];
      if (isFlagged) status.push(t('exam.review.flagged'));
      if (current) status.push(t('exam.review.current'));
      const label = `${t('exam.item', { n: i + 1, total })}: ${status.join(', ')}`;
      const content = [
        h('span', { class: 'review-no', 'aria-hidden': 'true' }, String(i + 1)),
        h('span', { class: 'review-marks', 'aria-hidden': 'true' }, isAnswered ? '✓' : '', isFlagged ? '⚑' : ''),
      ];
      const cls = ['review-entry', isAnswered ? 'answered' : 'open', isFlagged ? 'flagged' : null, current ? 'current' : null];
      const el = linear
        ? h('span', { class: cls, role: 'img', 'aria-label': label }, content)
        : h('button', { type: 'button', class: cls, 'aria-label': label, 'aria-current': current ? 'step' : null, dataset: { review: entry.ref }, onclick: () => go(pageOf(i), i) }, content);
      reviewList.append(h('li', {}, el));
    });
    setText(reviewSummary, t('exam.review.summary', { answered: nAnswered, total, flagged: state.flags.size }));
  }

  function confirmSubmit() {
    const open = model.items.filter((e) => !answered(state.answers.get(e.ref))).length;
    const flagged = model.items.filter((e) => state.flags.has(e.ref)).length;
    const withPad = model.items.filter((e) => (state.notes.get(e.ref) || {}).scratchpad).length;
    return confirmDialog({
      id: 'submit-dialog',
      title: t('submit.title'),
      body: [
        h('p', {}, t('submit.open', { n: open })),
        flagged ? h('p', {}, t('submit.flagged', { n: flagged })) : null,
        withPad ? h('p', {}, t('submit.scratchpad', { n: withPad })) : null,
        h('p', { class: 'strong' }, t('submit.body')),
      ],
      confirm: { id: 'confirm-submit', text: t('submit.confirm') },
      cancel: { id: 'cancel-submit', text: t('submit.cancel') },
      busyText: t('submit.busy'),
      onConfirm: async () => {
        await flushScratchpads();
        await Promise.allSettled([...state.marks.values()].map((c) => c.inflight).filter(Boolean));
        await flushAll();
        const v = await shell.submit();
        if (v && typeof v === 'object' && v.phase) render(v);
      },
    });
  }

  drawItems(false);
  state.active = true;
  // Saves refused while the exam was locked: send them now.
  for (const [ref, s] of state.saves) if (s.failed && !s.inflight) flush(ref);

  return {
    update() {
      // Answers and page are the UI's own; the header shows time and sync.
    },
    unmount() {
      state.active = false;
      viewTools.unmount();
      if (typeof window !== 'undefined' && window.removeEventListener) window.removeEventListener('pointermove', pointer);
      if (state.calculator) state.calculator.close();
      for (const pad of scratchpads.values()) pad.unmount();
      // Leaving the exam screen (lock, hand-in): send what is pending now.
      for (const [ref, s] of state.saves) if (s.timer && !s.failed) flush(ref);
      if (reader) reader.stop();
      if (window.speechSynthesis && window.speechSynthesis.speaking) window.speechSynthesis.cancel();
      const dlg = document.getElementById('submit-dialog');
      if (dlg) dlg.remove();
    },
    focus() {
      const heading = itemsArea.querySelector('.item-heading');
      if (heading) heading.focus();
    },
  };
}

/** Forgets the exam (after hand-in), so a next student starts clean. */
export function resetExam() {
  for (const s of state.saves.values()) if (s.timer) clearTimeout(s.timer);
  state.key = null;
  state.instrument = null;
  state.model = null;
  state.answers = new Map();
  state.flags = new Set();
  state.notes = new Map();
  state.marks = new Map();
  state.saves = new Map();
  state.noteSaves = new Map();
  state.page = 0;
  resetScratchpads(null);
  // What one student copied never reaches the next student on this PC.
  clearExamClipboard();
}
