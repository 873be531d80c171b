// Markeerstift (issue 19) on the fake DOM: the offsets (nested elements,
// skipped controls and kiosk text), selections as offsets, merging and
// subtracting, applying marks (idempotent, text unchanged), garbage from
// storage, the buttons and Alt+M, and marking by keyboard (blockRanges, the
// roving focus, toggling, ending it). `node --test ui/dev/`.

import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { installFakeDom } from './fake-dom.mjs';
import { h } from '../js/dom.js';
import { textOf, selectionRanges, addRange, removeRange, applyHighlights, validRanges, mountHighlighter, highlightKey, blockRanges, MAX_RANGES } from '../js/tools-highlight.js';
import { setLang, LANGS } from '../i18n.js';

installFakeDom();
setLang('nl');

// announce() writes into #live-polite after 50 ms.
const live = document.createElement('div');
document.getElementById = (id) => (id === 'live-polite' ? live : null);
const announced = () => new Promise((r) => setTimeout(() => r(live.textContent), 60));

const TEXT = 'Lees de tekst goed.Vul in:  en  klaar.Eén twee drie 😀 vier';

/** An item body with nesting, a hint, an input, a button, a data-no-highlight part, an emoji; inside a page with text before and after. */
function item() {
  const input = h('input', { type: 'text' });
  const button = h('button', { type: 'button' }, 'Knop');
  const body = h('div', { class: 'item-body' },
    h('p', {}, 'Lees de ', h('strong', {}, 'tekst'), ' goed.'),
    h('p', { class: 'hint' }, 'Kies één antwoord.'),
    h('p', {}, 'Vul in: ', input, ' en ', button, ' klaar.'),
    h('div', { 'data-no-highlight': true }, 'niet markeerbaar'),
    h('p', { class: 'word-count', 'aria-live': 'polite' }, '0 woorden'),
    h('p', {}, h('em', {}, 'Eén ', h('b', {}, 'twee')), ' drie 😀 vier'));
  const page = h('div', {}, h('p', {}, 'ervoor'), body, h('p', {}, 'erna'));
  return { body, input, button, page };
}

/** The tree as a string: text nodes quoted (so splits show), elements <tag.hl>…</>. */
const ser = (n) => (n.nodeType === 3 ? JSON.stringify(n.data) : `<${n.localName}${n.classList.contains('hl') ? '.hl' : ''}>${n.childNodes.map(ser).join('')}</>`);
const textNode = (el, i = 0) => el.childNodes.filter((c) => c.nodeType === 3)[i];
const range = (startContainer, startOffset, endContainer, endOffset) => ({ startContainer, startOffset, endContainer, endOffset });
const marks = (body) => body.all('mark.hl').map((m) => m.textContent);

test('textOf: text nodes in document order across nested elements, without controls, kiosk hints, live parts or data-no-highlight', () => {
  const { body, input, button } = item();
  assert.equal(textOf(body), TEXT);
  // Typing an answer, a changed word count or a button's text never moves an offset.
  input.value = 'een heel lang antwoord';
  textNode(body.all('p.word-count')[0]).data = '4 woorden';
  button.textContent = 'Andere knop';
  assert.equal(textOf(body), TEXT);
});

test('selectionRanges: offsets from text and element boundary points, clipped to the item, [] when collapsed or outside', () => {
  const { body, page, button } = item();
  const [p1, , p3, , , p6] = body.childNodes;
  const strong = p1.childNodes[1];
  const b = p6.childNodes[0].childNodes[1];
  // From inside <strong> to inside <b>: across paragraphs and nesting.
  const s = TEXT.indexOf('ekst');
  const e = TEXT.indexOf('twee') + 2;
  assert.deepEqual(selectionRanges(body, range(textNode(strong), 1, textNode(b), 2)), [[s, e]]);
  // Element boundary points: (p1, 1) is just before <strong>, (p1, 3) after the last child.
  assert.deepEqual(selectionRanges(body, range(p1, 1, p1, 3)), [[8, 19]]);
  assert.equal(TEXT.slice(8, 19), 'tekst goed.');
  // A boundary in a skipped element counts as where that element starts.
  const atButton = TEXT.indexOf(' en ') + 4;
  assert.deepEqual(selectionRanges(body, range(textNode(p3), 0, textNode(button), 2)), [[19, atButton]]);
  assert.deepEqual(selectionRanges(body, range(textNode(button), 1, textNode(p3, 2), 3)), [[atButton, atButton + 3]]);
  // Collapsed, or only in skipped text: nothing.
  assert.deepEqual(selectionRanges(body, range(textNode(strong), 2, textNode(strong), 2)), []);
  assert.deepEqual(selectionRanges(body, range(textNode(button), 0, textNode(button), 4)), []);
  // Starting before the item or ending after it: clipped to the item.
  const before = textNode(page.childNodes[0]);
  const after = textNode(page.childNodes[2]);
  assert.deepEqual(selectionRanges(body, range(before, 2, textNode(strong), 5)), [[0, 13]]);
  assert.deepEqual(selectionRanges(body, range(textNode(b), 0, after, 2)), [[TEXT.indexOf('twee'), TEXT.length]]);
  assert.deepEqual(selectionRanges(body, range(before, 0, after, 4)), [[0, TEXT.length]], 'over the whole item');
  assert.deepEqual(selectionRanges(body, range(page, 0, page, 3)), [[0, TEXT.length]], 'boundary points in an ancestor');
  assert.deepEqual(selectionRanges(body, range(page, 2, page, 3)), [], 'after the item');
  assert.deepEqual(selectionRanges(body, range(before, 0, before, 6)), [], 'before the item');
  const other = h('p', {}, 'elders');
  assert.deepEqual(selectionRanges(body, range(textNode(other), 0, textNode(other), 3)), [], 'another tree');
  assert.deepEqual(selectionRanges(body, null), []);
});

test('addRange merges overlapping and adjacent ranges, removeRange subtracts; neither changes its input', () => {
  const list = [[2, 4], [10, 12]];
  assert.deepEqual(addRange(list, [6, 8]), [[2, 4], [6, 8], [10, 12]]);
  assert.deepEqual(addRange(list, [4, 6]), [[2, 6], [10, 12]], 'adjacent');
  assert.deepEqual(addRange(list, [3, 11]), [[2, 12]], 'overlapping both');
  assert.deepEqual(addRange(list, [0, 1]), [[0, 1], [2, 4], [10, 12]]);
  assert.deepEqual(addRange(list, [5, 5]), list, 'empty');
  assert.deepEqual(removeRange([[2, 12]], [5, 8]), [[2, 5], [8, 12]], 'a hole');
  assert.deepEqual(removeRange(list, [3, 11]), [[2, 3], [11, 12]]);
  assert.deepEqual(removeRange(list, [0, 20]), []);
  assert.deepEqual(removeRange(list, [4, 10]), list, 'between: nothing');
  assert.deepEqual(list, [[2, 4], [10, 12]]);
});

test('applyHighlights wraps exactly those characters, keeps the text, is idempotent and never touches skipped elements', () => {
  const { body, input, button } = item();
  const buttonText = textNode(button);
  const before = body.textContent;
  const s = TEXT.indexOf('ekst');
  const e = TEXT.indexOf('twee') + 2;
  const emoji = TEXT.indexOf('😀');
  const list = [[0, 4], [s, e], [emoji, emoji + 2]];
  applyHighlights(body, list);
  assert.deepEqual(marks(body), ['Lees', 'ekst', ' goed.', 'Vul in: ', ' en ', ' klaar.', 'Eén ', 'tw', '😀'], 'one mark per text node, none in the button');
  assert.equal(body.textContent, before, 'the text is unchanged');
  assert.equal(textOf(body), TEXT, 'and so are the offsets');
  assert.equal(body.all('mark').every((m) => m.getAttribute('aria-hidden') === null), true);
  assert.equal(body.all('mark.hl').some((m) => button.contains(m)), false);
  assert.equal(textNode(button), buttonText, 'the button keeps its own text node');
  assert.equal(input.parentNode, body.childNodes[2]);
  // Applied again (a re-render, the same list): the same tree.
  const once = ser(body);
  applyHighlights(body, list);
  assert.equal(ser(body), once);
  // Another list: only that.
  applyHighlights(body, [[8, 13]]);
  assert.deepEqual(marks(body), ['tekst']);
  assert.equal(body.textContent, before);
  // None: no marks, the text nodes joined again (the strong's one whole text node).
  applyHighlights(body, []);
  assert.deepEqual(marks(body), []);
  assert.equal(ser(body.childNodes[0]), '<p>"Lees de "<strong>"tekst"</>" goed."</>');
  assert.equal(ser(body), ser(item().body), 'back to the tree as rendered');
});

test('applyHighlights on text that a renderer split into several nodes: the same tree the first time and after', () => {
  const body = h('div', {}, h('p', {}, 'ab', 'cd', 'ef'));
  applyHighlights(body, [[1, 5]]);
  const once = ser(body);
  assert.equal(once, '<div><p>"a"<mark.hl>"bcde"</>"f"</></>');
  applyHighlights(body, [[1, 5]]);
  assert.equal(ser(body), once);
});

test('validRanges: garbage from storage is dropped or clipped, the rest sorted and merged, at most 500', () => {
  assert.deepEqual(validRanges(null, 10), []);
  assert.deepEqual(validRanges('[[1,2]]', 10), []);
  assert.deepEqual(validRanges({ 0: [1, 2] }, 10), []);
  assert.deepEqual(validRanges([[1, 2]], 0), []);
  assert.deepEqual(validRanges([[1, 2]], NaN), []);
  assert.deepEqual(validRanges([
    [1.5, 3], ['1', '3'], [NaN, 4], [null, 2], [1], [1, 2, 3], 'x', null, { 0: 1, 1: 2 },
    [5, 5], [7, 6], [-4, -1], [40, 50],
    [-2, 2], [8, 99], [3, 4], [2, 3],
  ], 10), [[0, 4], [8, 10]]);
  const many = Array.from({ length: 600 }, (_, i) => [i * 2, i * 2 + 1]);
  const kept = validRanges(many, 2000);
  assert.equal(kept.length, MAX_RANGES);
  assert.deepEqual(kept[MAX_RANGES - 1], [998, 999]);
});

test('mountHighlighter: stored marks shown, Markeer selectie / Wis markering with the selection, onChange and announcements', async () => {
  const { body } = item();
  const p1 = body.childNodes[0];
  let selection = null;
  const changes = [];
  const hl = mountHighlighter({ container: body, initial: [[8, 13], [500, 600], 'x'], onChange: (l) => changes.push(l), getSelection: () => selection });
  assert.deepEqual(hl.ranges(), [[8, 13]], 'garbage from storage dropped');
  assert.deepEqual(marks(body), ['tekst']);
  assert.ok(body.classList.contains('hl-on'), 'the item text is selectable (kiosk.css)');
  const [mark, clear] = hl.buttons.all('button');
  assert.equal(mark.textContent, 'Markeer selectie');
  assert.ok(mark.classList.contains('hl-mark') && mark.classList.contains('secondary') && mark.classList.contains('small'));
  assert.equal(mark.getAttribute('aria-keyshortcuts'), 'Alt+M');
  assert.equal(mark.getAttribute('id'), null);
  assert.equal(clear.textContent, 'Wis markering');
  assert.ok(clear.classList.contains('hl-clear'));
  assert.equal(mark.getAttribute('type'), 'button');
  assert.ok(hl.buttons.hasAttribute('data-no-highlight'));
  assert.equal(mark.fire('mousedown').defaultPrevented, true, 'a click keeps the selection');

  // Nothing selected: nothing marked, the student is told.
  mark.fire('click');
  assert.equal(await announced(), 'Selecteer eerst de tekst die je wilt markeren.');
  assert.equal(changes.length, 0);
  // "Lees de" selected.
  selection = range(textNode(p1), 0, textNode(p1), 7);
  mark.fire('click');
  assert.deepEqual(changes, [[[0, 7], [8, 13]]]);
  assert.deepEqual(marks(body), ['Lees de', 'tekst']);
  assert.equal(await announced(), 'Tekst gemarkeerd');
  // From "e" of the first mark into the second: the space between them too, one range.
  assert.equal(ser(p1), '<p><mark.hl>"Lees de"</>" "<strong><mark.hl>"tekst"</></>" goed."</>');
  selection = range(p1.childNodes[0].childNodes[0], 6, p1.childNodes[2].childNodes[0].childNodes[0], 1);
  assert.equal(hl.markSelection(), true);
  assert.deepEqual(hl.ranges(), [[0, 13]]);
  assert.equal(body.textContent.includes('Lees de tekst goed.'), true);
  // Wis markering with a selection: only its part.
  const strongText = body.all('strong')[0].all('mark.hl')[0].childNodes[0];
  selection = range(strongText, 1, strongText, 3);
  clear.fire('click');
  assert.deepEqual(hl.ranges(), [[0, 9], [11, 13]]);
  assert.equal(await announced(), 'Markering gewist');
  // Without a selection: every mark of the item.
  selection = null;
  clear.fire('click');
  assert.deepEqual(hl.ranges(), []);
  assert.deepEqual(marks(body), []);
  assert.deepEqual(changes[changes.length - 1], []);
  assert.equal(await announced(), 'Markering gewist');
  const n = changes.length;
  assert.equal(hl.clear(), true);
  assert.equal(changes.length, n, 'no change, no onChange');
  assert.equal(await announced(), 'Hier is geen markering om te wissen');
  // The list handed out is a copy.
  hl.ranges().push([1, 2]);
  assert.deepEqual(hl.ranges(), []);
});

test('mountHighlighter: at most 500 marks per item', async () => {
  const body = h('div', {}, 'x'.repeat(2000));
  const initial = Array.from({ length: MAX_RANGES }, (_, i) => [i * 2, i * 2 + 1]);
  let selection = null;
  const hl = mountHighlighter({ container: body, initial, getSelection: () => selection });
  assert.equal(hl.ranges().length, MAX_RANGES);
  selection = range(body.childNodes[body.childNodes.length - 1], 5, body.childNodes[body.childNodes.length - 1], 6);
  assert.equal(hl.markSelection(), false);
  assert.equal(hl.ranges().length, MAX_RANGES);
  assert.equal(await announced(), 'Er kunnen geen markeringen meer bij. Wis er eerst een paar.');
});

test('Alt+M by physical key; nothing with Ctrl, Shift or Meta, and not the other tools\' keys', () => {
  const k = (props) => highlightKey({ altKey: true, ctrlKey: false, metaKey: false, shiftKey: false, ...props });
  assert.equal(k({ code: 'KeyM', key: 'm' }), 'mark');
  assert.equal(k({ code: 'KeyM', key: 'µ' }), 'mark', 'layout does not matter');
  assert.equal(k({ code: 'KeyM', altKey: false }), null, 'a plain m is typing');
  for (const mod of ['ctrlKey', 'shiftKey', 'metaKey']) assert.equal(k({ code: 'KeyM', [mod]: true }), null, mod);
  for (const code of ['KeyL', 'KeyV', 'KeyP']) assert.equal(k({ code }), null, code);
  assert.equal(k({ key: 'ArrowUp' }), null);
});

test('every t() key of the highlighter and the kladblok exists in Dutch and English', () => {
  const missing = [];
  for (const f of ['tools-highlight.js', 'tools-scratchpad.js']) {
    const src = readFileSync(new URL(`../js/${f}`, import.meta.url), 'utf8');
    const keys = [...src.matchAll(/\bt\('([a-z0-9_.-]+)'/g)].map((m) => m[1]);
    assert.ok(keys.length > 3, f);
    for (const k of keys) for (const l of ['nl', 'en']) if (!(k in LANGS[l])) missing.push(`${f}: ${l} ${k}`);
  }
  // The announcements chosen in change(): t(... ? message : 'hl.clear.none') with message 'hl.marked' / 'hl.cleared'.
  for (const k of ['hl.marked', 'hl.cleared']) assert.ok(k in LANGS.nl && k in LANGS.en, k);
  assert.deepEqual(missing, []);
});

// --- marking by keyboard ---

const key = (target, k, props = {}) => target.fire('keydown', { target: document.activeElement, key: k, code: '', altKey: false, ctrlKey: false, metaKey: false, shiftKey: false, ...props });
/** Every element under `root` with something the mode adds. */
const leftovers = (root) => root.all('').filter((e) => e.hasAttribute('tabindex') || e.hasAttribute('aria-describedby') || e.classList.contains('hl-kb-focus'));

test('blockRanges: the innermost blocks with text of their own, as item-text offsets; skipped, hidden and text-less parts are none', () => {
  const body = h('div', { class: 'item-body' },
    h('h3', {}, 'Titel'),
    h('blockquote', {}, '\n  ', h('p', {}, 'Een'), '\n  ', h('p', {}, 'Twee'), '\n'),
    h('ul', {}, '\n', h('li', {}, 'Drie', h('ul', {}, h('li', {}, 'Vier'))), h('li', {}, h('strong', {}, 'Vijf'))),
    h('p', { class: 'hint' }, 'Kies één.'),
    h('div', { class: 'choice' }, h('input', { type: 'radio' }), h('label', {}, h('span', { class: 'choice-letter' }, 'A', h('span', { class: 'sr-only' }, ':')), h('span', {}, ' Zes'))),
    h('p', {}, h('button', { type: 'button' }, 'Knop')),
    h('div', { 'data-no-highlight': true }, h('p', {}, 'niet')),
    h('div', { hidden: true }, h('p', {}, 'weg')),
    h('table', {}, h('tr', {}, h('td', {}, 'Zeven'), h('th', {}, h('em', {}, 'Acht')))),
    h('span', { class: 'qti-prompt' }, 'Negen ', h('b', {}, 'tien')));
  const text = textOf(body);
  const blocks = blockRanges(body);
  assert.deepEqual(blocks.map((b) => [b.el.localName, text.slice(b.start, b.end)]), [
    ['h3', 'Titel'], ['p', 'Een'], ['p', 'Twee'], ['li', 'DrieVier'], ['li', 'Vier'], ['li', 'Vijf'],
    ['div', 'A Zes'], ['td', 'Zeven'], ['th', 'Acht'], ['span', 'Negen tien']]);
  // The offsets themselves: after the blockquote's white space, the hidden text still counts.
  assert.deepEqual(blocks.slice(0, 5).map((b) => [b.start, b.end]), [[0, 5], [8, 11], [14, 18], [20, 28], [24, 28]]);
  assert.equal(blocks[7].start, text.indexOf('Zeven'));
  assert.ok(text.includes('weg'));
  assert.equal(blocks[6].el, body.childNodes[4]);
  // Text straight in the container: the container is a block too, first.
  const loose = h('div', {}, 'los ', h('p', {}, 'p'));
  assert.deepEqual(blockRanges(loose).map((b) => [b.el, b.start, b.end]), [[loose, 0, 5], [loose.childNodes[1], 4, 5]]);
  assert.deepEqual(blockRanges(h('div', {}, ' ', h('p', {}, h('input', {})))), []);
});

test('marking by keyboard: roving focus over the blocks, Space/Enter toggles, Escape ends with nothing left behind and focus back', async () => {
  const { body, input } = item();
  const heading = h('h2', { id: 'kop', tabindex: '-1' }, 'Vraag 1');
  h('article', { 'aria-labelledby': 'kop' }, h('header', {}, heading), body);
  const byId = document.getElementById;
  document.getElementById = (id) => (id === 'kop' ? heading : byId(id));
  const changes = [];
  const hl = mountHighlighter({ container: body, initial: [[0, 4]], onChange: (l) => changes.push(l), getSelection: () => null });
  const rendered = ser(body);
  const [p1, , p3, , , p6] = body.childNodes;
  try {
    assert.equal(hl.keyboardActive(), false);
    body.fire('keydown', { target: p1, key: 'ArrowDown' });
    assert.equal(hl.keyboardActive(), false, 'keys do nothing outside the mode');

    document.activeElement = document.body;
    assert.equal(hl.keyboard(), true);
    assert.equal(hl.keyboardActive(), true);
    assert.equal(document.activeElement, p1, 'the first block has the focus');
    assert.deepEqual([p1, p3, p6].map((p) => p.getAttribute('tabindex')), ['0', '-1', '-1']);
    assert.ok(p1.classList.contains('hl-kb-focus'));
    const hint = body.all('span.sr-only').find((e) => e.id && e.id === p1.getAttribute('aria-describedby'));
    assert.ok(hint, 'aria-describedby points to the hint');
    assert.equal(hint.textContent, 'Spatie: markeren of markering weghalen. Pijltjes: volgende of vorige alinea. Escape: klaar.');
    assert.ok(hint.hasAttribute('data-no-highlight'));
    assert.equal(textOf(body), TEXT, 'the hint is no item text');
    assert.equal(await announced(), 'niet gemarkeerd', '"Lees" only: not all of it');

    let e = key(body, 'ArrowDown');
    assert.equal(e.defaultPrevented, true);
    assert.equal(document.activeElement, p3);
    assert.deepEqual([p1, p3, p6].map((p) => p.getAttribute('tabindex')), ['-1', '0', '-1']);
    assert.equal(p1.getAttribute('aria-describedby'), null);
    assert.equal(p1.classList.contains('hl-kb-focus'), false);
    assert.ok(p3.classList.contains('hl-kb-focus') && p3.getAttribute('aria-describedby') === hint.id);
    assert.equal(await announced(), 'niet gemarkeerd');

    // Space: all of p3's item text (not the input's or the button's) marked; again: the old list.
    key(body, ' ');
    assert.deepEqual(changes, [[[0, 4], [19, 38]]]);
    assert.equal(TEXT.slice(19, 38), 'Vul in:  en  klaar.');
    assert.deepEqual(marks(body), ['Lees', 'Vul in: ', ' en ', ' klaar.']);
    assert.equal(document.activeElement, p3, 'the focus stays');
    assert.equal(await announced(), 'gemarkeerd');
    key(body, ' ');
    assert.deepEqual(hl.ranges(), [[0, 4]]);
    assert.deepEqual(changes[1], [[0, 4]]);
    assert.equal(await announced(), 'niet gemarkeerd');

    // Home/End, and the ends stay put.
    key(body, 'End');
    assert.equal(document.activeElement, p6);
    key(body, 'ArrowDown');
    assert.equal(document.activeElement, p6);
    key(body, 'Home');
    assert.equal(document.activeElement, p1);
    key(body, 'ArrowUp');
    assert.equal(document.activeElement, p1);
    // Enter on the partly marked p1: all of it; again: none of it.
    key(body, 'Enter');
    assert.deepEqual(hl.ranges(), [[0, 19]]);
    assert.equal(await announced(), 'gemarkeerd');
    key(body, 'Enter');
    assert.deepEqual(hl.ranges(), []);
    // Not ours: typing, Alt+↓ (text size), Shift+Enter.
    for (const [k, props] of [['a', {}], ['ArrowDown', { altKey: true }], ['Enter', { shiftKey: true }]]) {
      e = key(body, k, props);
      assert.equal(e.defaultPrevented, false, k);
    }
    assert.equal(document.activeElement, p1);
    assert.equal(changes.length, 4);

    key(body, 'Escape');
    assert.equal(hl.keyboardActive(), false);
    assert.equal(document.activeElement, heading, 'no focus before it: the item heading');
    assert.deepEqual(leftovers(body), []);
    assert.equal(p1.getAttribute('class'), null);
    assert.equal(body.all('span.sr-only').length, 0, 'the hint is gone');
    assert.equal(ser(body), rendered.replace('<mark.hl>"Lees"</>" de "', '"Lees de "'), 'the DOM as before but the marks');
    key(body, 'ArrowDown');
    assert.equal(document.activeElement, heading, 'keys do nothing after it');

    // Alt+M again ends it (not passed on to the exam's Alt+M), back to where the focus was.
    input.focus();
    hl.keyboard();
    assert.equal(document.activeElement, p1);
    let stopped = false;
    e = key(body, 'µ', { code: 'KeyM', altKey: true, stopPropagation: () => { stopped = true; } });
    assert.ok(e.defaultPrevented && stopped);
    assert.equal(hl.keyboardActive(), false);
    assert.equal(document.activeElement, input);
    // keyboard() while it is on ends it too.
    hl.keyboard();
    assert.equal(hl.keyboard(), false);
    assert.equal(document.activeElement, input);
    assert.deepEqual(leftovers(body), []);
  } finally {
    document.getElementById = byId;
  }
});

test('marking by keyboard: a block clicked becomes the current one; the focus leaving the blocks ends it in place; attributes it had come back', async () => {
  const body = h('div', {}, h('p', { tabindex: '-1', 'aria-describedby': 'uitleg', class: 'intro' }, 'Een'), h('p', {}, 'Twee'), h('p', {}, 'Drie'));
  const [a, b, c] = body.childNodes;
  const hl = mountHighlighter({ container: body, getSelection: () => null });
  const other = h('button', {}, 'elders');
  other.focus();
  hl.keyboard();
  assert.equal(a.getAttribute('aria-describedby').split(' ')[0], 'uitleg', 'its own description stays first');
  c.focus();
  body.fire('focusin', { target: c });
  assert.equal(c.getAttribute('tabindex'), '0');
  assert.equal(a.getAttribute('tabindex'), '-1');
  key(body, 'ArrowUp');
  assert.equal(document.activeElement, b);
  // Tab out of the blocks.
  const next = h('button', {}, 'verder');
  next.focus();
  body.fire('focusout', { target: b, relatedTarget: next });
  assert.equal(hl.keyboardActive(), true, 'checked after the move');
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(hl.keyboardActive(), false);
  assert.equal(document.activeElement, next, 'the focus stays where it went');
  assert.deepEqual([a, b, c].map((p) => [p.getAttribute('tabindex'), p.getAttribute('aria-describedby'), p.getAttribute('class')]),
    [['-1', 'uitleg', 'intro'], [null, null, null], [null, null, null]]);
  // The window in the background: the focus stays on the block, so the mode too.
  hl.keyboard();
  body.fire('focusout', { target: a, relatedTarget: null });
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(hl.keyboardActive(), true);
  key(body, 'Escape');
  assert.equal(document.activeElement, next);
});

test('Markeer selectie activated by keyboard (detail 0) with nothing selected starts marking by keyboard; by mouse it still says to select', async () => {
  const { body } = item();
  const p1 = body.childNodes[0];
  let selection = null;
  const hl = mountHighlighter({ container: body, getSelection: () => selection });
  const [mark] = hl.buttons.all('button');
  mark.focus();
  mark.fire('click', { detail: 1 });
  assert.equal(hl.keyboardActive(), false);
  assert.equal(await announced(), 'Selecteer eerst de tekst die je wilt markeren.');
  mark.fire('click', { detail: 0 });
  assert.equal(hl.keyboardActive(), true);
  assert.equal(document.activeElement, p1);
  key(body, 'Escape');
  assert.equal(document.activeElement, mark, 'back to the button');
  // With a selection, by keyboard too: the selection is marked.
  selection = range(textNode(p1), 0, textNode(p1), 4);
  mark.fire('click', { detail: 0 });
  assert.equal(hl.keyboardActive(), false);
  assert.deepEqual(hl.ranges(), [[0, 4]]);
});

test('marking by keyboard: the MAX_RANGES limit, and an item without text', async () => {
  const body = h('div', {}, h('p', {}, 'x'.repeat(2000)), h('p', {}, 'yy'));
  const initial = Array.from({ length: MAX_RANGES }, (_, i) => [i * 2, i * 2 + 1]);
  const changes = [];
  const hl = mountHighlighter({ container: body, initial, onChange: (l) => changes.push(l), getSelection: () => null });
  hl.keyboard();
  key(body, 'End');
  key(body, ' ');
  assert.equal(hl.ranges().length, MAX_RANGES);
  assert.deepEqual(changes, []);
  assert.equal(await announced(), 'Er kunnen geen markeringen meer bij. Wis er eerst een paar.');
  // The first block holds them all: marking it whole makes one.
  key(body, 'Home');
  key(body, ' ');
  assert.deepEqual(hl.ranges(), [[0, 2000]]);
  key(body, 'Escape');

  const empty = mountHighlighter({ container: h('div', {}, h('p', {}, h('button', {}, 'Knop'))), getSelection: () => null });
  assert.equal(empty.keyboard(), false);
  assert.equal(empty.keyboardActive(), false);
  assert.equal(await announced(), 'Deze vraag heeft geen tekst om te markeren.');
});

test('the text the marks count in is the same in every language of the kiosk (its own labels are left out)', async () => {
  const { renderItemBody } = await import('../js/qti.js');
  const txt = (text) => ({ type: 'text', text });
  const p = (...children) => ({ type: 'element', tag: 'p', attrs: {}, children });
  const item = {
    ref: 'i1', identifier: 'i1', responses: [{ identifier: 'R1', cardinality: 'single', base_type: 'string' }, { identifier: 'R2', cardinality: 'ordered', base_type: 'identifier' }],
    body: [
      p(txt('a) Lees de tekst.')),
      { type: 'extended-text-interaction', response_identifier: 'R1', expected_lines: 3, format: 'plain', class: [], prompt: [] },
      p(txt('b) Zet in volgorde.')),
      { type: 'order-interaction', response_identifier: 'R2', shuffle: false, class: [], prompt: [], choices: [{ identifier: 'x', fixed: false, content: [txt('een')] }, { identifier: 'y', fixed: false, content: [txt('twee')] }] },
      p(txt('c) Klaar.')),
    ],
  };
  const ctx = () => ({ item: { ref: 'i1', item }, seed: 's', counters: {}, media: {}, get: () => undefined, set: () => {}, cardinality: (r) => (r === 'R2' ? 'ordered' : 'single'), baseType: () => null });
  setLang('nl');
  const nl = textOf(renderItemBody(item, ctx(), 'nl'));
  setLang('en');
  const en = textOf(renderItemBody(item, ctx(), 'nl'));
  setLang('nl');
  assert.equal(en, nl, 'a mark stays on its words after a language switch');
  assert.ok(nl.includes('b) Zet in volgorde.') && nl.includes('c) Klaar.'));
  assert.ok(!/Jouw antwoord|Volgorde/.test(nl), `no kiosk labels in the counted text: ${nl}`);
});

test('no tool button has a title: WebKitGTK shows it as a native tooltip window over the exam (e2e window test)', async () => {
  const { mountViewTools } = await import('../js/tools-view.js');
  const body = h('div', { class: 'item-body' }, h('p', {}, 'Tekst'));
  const marker = mountHighlighter({ container: body, getSelection: () => null });
  const view = mountViewTools({ textSize: null, root: document.createElement('html'), metrics: () => ({ line: 27, height: 768 }) });
  const titled = [...marker.buttons.walk(), ...view.group.walk()].filter((e) => e.getAttribute && e.getAttribute('title') !== null);
  assert.deepEqual(titled.map((e) => e.className), []);
  view.unmount();
});
