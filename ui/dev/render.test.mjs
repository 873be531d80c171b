// The DOM the UI builds from kiosk-core's render model (issue 18, fidelity),
// on a minimal fake DOM (fake-dom.mjs), and the stylesheet rules that give
// it its meaning: `node --test ui/dev/`. The pictures: shoot.mjs.

import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { installFakeDom } from './fake-dom.mjs';
import { renderNodes, renderItemBody } from '../js/qti.js';
import { setLang } from '../i18n.js';

installFakeDom();
const here = dirname(fileURLToPath(import.meta.url));
const css = readFileSync(join(here, '..', 'css', 'kiosk.css'), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');

const txt = (text) => ({ type: 'text', text });
const el = (tag, attrs, ...children) => ({ type: 'element', tag, attrs: attrs || {}, children: children.map((c) => (typeof c === 'string' ? txt(c) : c)) });
const choice = (prompt) => ({
  type: 'choice-interaction', response_identifier: 'RESPONSE', shuffle: false, max_choices: 1, min_choices: 0, class: [],
  prompt, choices: [{ identifier: 'A', fixed: false, content: [txt('a')] }],
});
const ctx = () => ({ item: { ref: 'i1' }, seed: 's', counters: {}, get: () => undefined, set: () => {}, cardinality: () => 'single' });

/** The declarations of the rules whose selector list contains `selector` exactly (outside or inside at-rules). */
function rules(selector) {
  const out = [];
  for (const m of css.matchAll(/([^{}]+)\{([^{}]*)\}/g)) {
    if (m[1].split(',').map((s) => s.trim()).includes(selector)) out.push(m[2]);
  }
  return out.join(';');
}

// Issue 18: the whole prompt was bold and qti-italic had no style, so an item
// asking about its "vetgedrukte" and "cursieve" words could not be answered.
test('emphasis: HTML emphasis and the shared-vocabulary classes survive and are styled; the prompt is not bold', () => {
  const prompt = [txt('Welk woord is '), el('b', {}, 'vetgedrukt'), txt(' en welk '), el('span', { class: 'qti-italic' }, 'cursief'), txt('?')];
  const body = [
    el('p', {}, el('em', {}, 'em'), el('strong', {}, 'strong'), el('i', {}, 'i'), el('u', {}, 'u'), el('sub', {}, '2'), el('sup', {}, '3'),
      el('span', { class: 'qti-bold qti-underline' }, 'x'), el('div', { class: 'qti-well kiosk-own' }, 'well')),
    choice(prompt),
  ];
  const root = document.createElement('div');
  root.append(...renderNodes(body, ctx()));
  for (const tag of ['em', 'strong', 'i', 'u', 'sub', 'sup', 'b']) assert.equal(root.all(tag).length, 1, tag);
  assert.equal(root.all('span.qti-italic').length, 1, 'qti-italic kept in the prompt');
  assert.ok(root.all('span.qti-bold')[0].classList.contains('qti-underline'));
  const well = root.all('div.qti-well')[0];
  assert.ok(well && !well.classList.contains('kiosk-own'), 'only qti- classes are kept');
  // The stylesheet gives them their meaning; the prompt itself is regular.
  assert.match(rules('.qti-italic'), /font-style:\s*italic/);
  assert.match(rules('.qti-bold'), /font-weight:\s*(700|bold)/);
  assert.match(rules('.qti-underline'), /text-decoration:\s*underline/);
  assert.match(rules('.qti-well'), /background/);
  assert.match(rules('.item-body strong'), /font-weight:\s*700/);
  assert.match(rules('.item-body em'), /font-style:\s*italic/);
  const promptWeight = rules('.qti-prompt').match(/font-weight:\s*(\d+|bold)/);
  assert.ok(!promptWeight || promptWeight[1] === '400', `the prompt is bold as a whole: ${rules('.qti-prompt')}`);
  assert.doesNotMatch(rules('.choice input:checked + label'), /font-weight/, 'a chosen answer does not turn bold (its own bold words would vanish)');
});

// Issue 18: aria-label was dropped, and an RTL item turned the kiosk's own
// Dutch hint around.
test('accessibility attributes: aria-label kept, ids made kiosk-unique with their references, RTL only on the content', () => {
  setLang('nl');
  const item = {
    lang: 'ar', dir: 'rtl',
    body: [
      el('p', { id: 'uitleg', dir: 'rtl', lang: 'ar' }, 'نص'),
      el('table', { 'aria-label': 'Prijzen', 'aria-describedby': 'uitleg nergens' }, el('tr', {}, el('td', {}, '1'))),
      el('p', { id: 'main', 'aria-labelledby': 'later' }, 'x'),
      el('span', { id: 'later', dir: 'sideways' }, 'y'),
      el('p', { 'aria-describedby': 'nergens' }, 'z'),
      choice([txt('Kies')]),
    ],
  };
  const body = renderItemBody(item, ctx());
  assert.equal(body.getAttribute('dir'), 'rtl');
  assert.equal(body.getAttribute('lang'), 'ar');
  const [uitleg, main, zonder] = body.all('p');
  assert.match(uitleg.id, /^q-\d+$/, 'an item id becomes a kiosk-made one');
  assert.notEqual(main.id, 'main', 'an item cannot take the kiosk\'s own ids');
  assert.equal(uitleg.getAttribute('lang'), 'ar');
  const table = body.all('table')[0];
  assert.equal(table.getAttribute('aria-label'), 'Prijzen');
  assert.equal(table.getAttribute('aria-describedby'), uitleg.id, 'the reference follows the id; one to nothing is left out');
  const later = body.all('span').find((s) => s.textContent === 'y');
  assert.equal(main.getAttribute('aria-labelledby'), later.id, 'a reference to an id further on');
  assert.equal(later.getAttribute('dir'), null, 'an unknown dir is not passed on');
  assert.equal(zonder.getAttribute('aria-describedby'), null, 'a reference to nothing is dropped');
  const hint = body.all('span.hint')[0];
  assert.equal(hint.getAttribute('dir'), 'ltr', 'the kiosk\'s own hint stays left to right');
  assert.equal(hint.getAttribute('lang'), 'nl');
  // Two items with the same ids get different ones.
  const again = renderItemBody(item, ctx());
  assert.notEqual(again.all('p')[0].id, uitleg.id);
});

// Issue 18: long URLs pushed a table under the review list.
test('tables: long words wrap, a wide table scrolls in its own focusable, labelled region', () => {
  const nodes = [el('table', {}, el('caption', {}, 'Tarieven'), el('tr', {}, el('td', {}, 'https://example.org/' + 'x'.repeat(200))))];
  const [box] = renderNodes(nodes, ctx());
  assert.ok(box.classList.contains('table-scroll'), 'the table is wrapped');
  assert.equal(box.getAttribute('role'), 'region');
  assert.equal(box.getAttribute('tabindex'), '0');
  assert.match(box.getAttribute('aria-label'), /Tarieven/);
  assert.equal(box.childNodes[0].localName, 'table');
  assert.match(rules('.item-body'), /overflow-wrap:\s*anywhere/);
  assert.match(rules('.table-scroll'), /overflow-x:\s*auto/);
});

// Issue 18: qti-layout-* two-column layouts collapsed (13 items).
test('qti-layout-row/colN: kept on the elements, columns on a wide item, stacked on a narrow one', () => {
  const nodes = [el('div', { class: 'qti-layout-row' }, el('div', { class: 'qti-layout-col6' }, 'links'), el('div', { class: 'qti-layout-col6 qti-layout-offset0' }, 'rechts'))];
  const [row] = renderNodes(nodes, ctx());
  // A content heading comes one level below the item's own h2, even when the item starts at h2 (axe heading-order).
  const withHeading = renderItemBody({ body: [el('h2', {}, 'Bron'), el('h3', {}, 'Deel')] }, { ...ctx(), headingBase: 2 });
  assert.deepEqual(withHeading.childNodes.map((c) => c.localName), ['h3', 'h4']);
  assert.ok(row.classList.contains('qti-layout-row'));
  assert.deepEqual(row.all('div.qti-layout-col6').map((d) => d.textContent), ['links', 'rechts']);
  assert.match(rules('.qti-layout-row'), /display:\s*(flex|grid)/);
  for (let n = 1; n <= 12; n += 1) assert.match(rules(`.qti-layout-row > .qti-layout-col${n}`), /flex:/, `col${n}`);
  assert.match(css, /@container \(max-width: [\d.]+rem\) \{\s*\.qti-layout-row \{ display: block; \}/, 'stacked when narrow');
});
