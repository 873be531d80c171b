// Hottext, associate, slider and media (ui/js/qti-inter.js; issue 18): the
// value each saves when used by keyboard alone, on the fake DOM. `press`
// plays the browser's own default action of the native control for a key
// (a button clicks on Space/Enter, a checkbox toggles on Space, a range
// steps on the arrow keys); what the UI adds on top is what is tested.
// The pictures and axe: shoot.mjs --instrument interactions.

import test from 'node:test';
import assert from 'node:assert/strict';
import { installFakeDom } from './fake-dom.mjs';
import { renderNodes } from '../js/qti.js';
import { setLang } from '../i18n.js';

installFakeDom();
setLang('nl');

const txt = (text) => ({ type: 'text', text });
const fire = (el, type, extra = {}) => (el.listeners[type] || []).forEach((f) => f({ type, target: el, preventDefault() {}, ...extra }));

/** The browser's default action of a native control for a key. */
function press(el, key) {
  if (el.disabled) return;
  if (el.localName === 'button' && (key === ' ' || key === 'Enter')) fire(el, 'click');
  else if (el.localName === 'input' && el.getAttribute('type') === 'checkbox' && key === ' ') {
    el.checked = !el.checked;
    fire(el, 'change');
  } else if (el.localName === 'input' && el.getAttribute('type') === 'range') {
    const [min, max, step] = ['min', 'max', 'step'].map((k) => Number(el.getAttribute(k)));
    const v = Number(el.value);
    const next = { ArrowRight: v + step, ArrowUp: v + step, ArrowLeft: v - step, ArrowDown: v - step, Home: min, End: max }[key];
    el.value = String(Math.min(max, Math.max(min, next)));
    fire(el, 'input');
  } else throw new Error(`no default action for ${key} on ${el.localName}`);
}

/** Renders one interaction; returns the root and the saved values. */
function render(node, { cardinality = 'multiple', baseType = null, answer = {} } = {}) {
  const saved = { ...answer };
  const ctx = {
    item: { ref: 'i1' }, seed: 's', counters: {}, media: {},
    get: (rid) => saved[rid], set: (rid, v) => { saved[rid] = v; },
    cardinality: () => cardinality, baseType: () => baseType,
  };
  const root = document.createElement('div');
  root.append(...renderNodes([node], ctx));
  return { root, saved };
}

test('hottext: spans are toggle buttons; Space chooses and un-chooses; the limit holds', () => {
  const ht = (id, text) => ({ type: 'hottext', identifier: id, content: [txt(text)] });
  const { root, saved } = render({
    type: 'hottext-interaction', response_identifier: 'RESPONSE', max_choices: 2, min_choices: 0, class: [], prompt: [txt('Kies')],
    content: [{ type: 'element', tag: 'p', attrs: {}, children: [ht('H1', 'een'), txt(' '), ht('H2', 'twee'), txt(' '), ht('H3', 'drie')] }],
  });
  const buttons = root.all('button.hottext');
  assert.deepEqual(buttons.map((b) => b.textContent), ['een', 'twee', 'drie']);
  assert.ok(buttons.every((b) => b.getAttribute('aria-pressed') === 'false'));
  press(buttons[2], ' ');
  press(buttons[0], 'Enter');
  assert.deepEqual(saved.RESPONSE, ['H3', 'H1']);
  assert.equal(buttons[1].disabled, true, 'a third choice waits until one is undone');
  assert.equal(buttons[0].getAttribute('aria-pressed'), 'true');
  press(buttons[2], ' ');
  assert.deepEqual(saved.RESPONSE, ['H1']);
  assert.equal(buttons[1].disabled, false);
  assert.match(root.all('p.hint')[0].textContent, /ten hoogste 2/);
});

test('hottext with max 1 and single cardinality: a new choice replaces the old, the value is one id', () => {
  const { root, saved } = render({
    type: 'hottext-interaction', response_identifier: 'R', max_choices: 1, min_choices: 0, class: [], prompt: [],
    content: [{ type: 'hottext', identifier: 'A', content: [txt('a')] }, { type: 'hottext', identifier: 'B', content: [txt('b')] }],
  }, { cardinality: 'single' });
  const [a, b] = root.all('button.hottext');
  press(a, ' ');
  press(b, ' ');
  assert.equal(saved.R, 'B');
  assert.equal(a.getAttribute('aria-pressed'), 'false');
});

test('associate: every pair once as a labelled checkbox; Space makes pairs "A B"; max-associations and match-max hold', () => {
  const c = (id) => ({ identifier: id, match_max: 1, match_min: 0, fixed: false, content: [txt(id.toLowerCase())] });
  const { root, saved } = render({
    type: 'associate-interaction', response_identifier: 'RESPONSE', shuffle: false, max_associations: 2, min_associations: 0, class: [], prompt: [txt('Paren')],
    choices: [c('W'), c('L'), c('K'), c('D')],
  });
  const boxes = root.all('input');
  assert.deepEqual(boxes.map((b) => b.dataset.pair), ['W L', 'W K', 'W D', 'L K', 'L D', 'K D'], 'each unordered pair once');
  const byPair = (p) => boxes.find((b) => b.dataset.pair === p);
  for (const b of boxes) {
    const label = root.all('label').find((l) => l.getAttribute('for') === b.getAttribute('id'));
    assert.ok(label && label.textContent.includes(' en '), 'each box names both parts');
  }
  press(byPair('W K'), ' ');
  assert.equal(byPair('W L').disabled, true, 'W is in its one pair (match-max 1)');
  assert.equal(byPair('L K').disabled, true, 'K too');
  press(byPair('L D'), ' ');
  assert.deepEqual(saved.RESPONSE, ['W K', 'L D']);
  press(byPair('W K'), ' ');
  assert.deepEqual(saved.RESPONSE, ['L D']);
  assert.equal(byPair('W L').disabled, true, 'L is still used');
  assert.equal(byPair('W K').disabled, false);
});

test('slider: a labelled range; arrow keys save a number on a step within the bounds; nothing saved before use', () => {
  const { root, saved } = render({
    type: 'slider-interaction', response_identifier: 'RESPONSE', lower_bound: 0, upper_bound: 1000, step: 50, step_label: true, reverse: false, class: [], prompt: [txt('Hoeveel?')],
  }, { cardinality: 'single', baseType: 'integer' });
  const [input] = root.all('input');
  assert.equal(input.getAttribute('type'), 'range');
  const label = root.all('label').find((l) => l.getAttribute('for') === input.getAttribute('id'));
  assert.match(label.textContent, /van 0 tot en met 1000/);
  assert.equal(saved.RESPONSE, undefined, 'no answer until the student moves it');
  assert.equal(input.getAttribute('aria-valuetext'), 'nog niet gekozen');
  press(input, 'ArrowRight');
  press(input, 'ArrowRight');
  press(input, 'ArrowLeft');
  assert.equal(saved.RESPONSE, 50);
  press(input, 'End');
  assert.equal(saved.RESPONSE, 1000);
  assert.equal(root.all('output')[0].textContent, '1000', 'the value is shown');
  assert.equal(input.getAttribute('aria-valuetext'), null);
  assert.deepEqual(root.all('div.slider-ticks')[0].childNodes.map((s) => s.textContent), ['0', '100', '200', '300', '400', '500', '600', '700', '800', '900', '1000'],
    'step labels, at most 11, evenly spaced');
});

test('media: plays are counted into the response; after max-plays it cannot be started again', () => {
  const { root, saved } = render({
    type: 'media-interaction', response_identifier: 'PLAYS', kind: 'audio', sources: [{ src: 'media/toon.wav', mime: 'audio/wav' }],
    autostart: false, min_plays: 1, max_plays: 2, loop: false, class: [], prompt: [txt('Luister')],
  }, { cardinality: 'single' });
  // No media URL for the source: it cannot play, and says so (no element with a foreign src).
  assert.equal(root.all('audio').length, 0);
  assert.match(root.textContent, /kan niet worden afgespeeld/);
  const data = 'data:audio/wav;base64,UklGRg==';
  const saved2 = {};
  const ctx = { item: { ref: 'i1' }, seed: 's', counters: {}, media: { 'media/toon.wav': data }, get: (r) => saved2[r], set: (r, v) => { saved2[r] = v; }, cardinality: () => 'single' };
  const box = document.createElement('div');
  box.append(...renderNodes([{ type: 'media-interaction', response_identifier: 'PLAYS', kind: 'audio', sources: [{ src: 'media/toon.wav', mime: 'audio/wav' }], autostart: false, min_plays: 1, max_plays: 2, loop: false, class: [], prompt: [] }], ctx));
  const [audio] = box.all('audio');
  assert.equal(box.all('source')[0].getAttribute('src'), data);
  assert.equal(audio.controls, true, 'native controls: Space/Enter on play');
  assert.match(audio.getAttribute('controlslist'), /nodownload/, 'no download of the exam\'s media');
  let paused = 0;
  audio.pause = () => { paused += 1; };
  audio.paused = true;
  fire(audio, 'play');
  fire(audio, 'pause');
  fire(audio, 'play'); // a resume is the same play
  assert.equal(saved2.PLAYS, 1);
  fire(audio, 'ended');
  fire(audio, 'play');
  assert.equal(saved2.PLAYS, 2);
  fire(audio, 'ended');
  assert.equal(audio.controls, false, 'used up: no controls');
  fire(audio, 'play');
  assert.equal(saved2.PLAYS, 2);
  assert.equal(paused, 1, 'a third start is stopped');
  assert.match(box.textContent, /2 van de 2 keer afgespeeld/);
  assert.equal(saved.PLAYS, undefined);
});

test('upload and drawing: a Dutch explanation, no file input, no value; end attempt renders nothing', () => {
  const { root } = render({ type: 'upload-interaction', response_identifier: 'R', class: [], prompt: [txt('Lever in')] });
  assert.equal(root.all('input').length, 0, 'no file picker');
  assert.match(root.textContent, /vraagt om een bestand; dat kan in deze afname niet — ?|vraagt om een bestand; dat kan in deze afname niet\. Meld het bij de surveillant/);
  const { root: d } = render({ type: 'drawing-interaction', response_identifier: 'R', class: [], prompt: [], image: { type: 'image', src: 'x.png', alt: 'Een huis' } });
  assert.match(d.textContent, /tekenen kan in deze afname niet/);
  assert.match(d.textContent, /Een huis/, 'the picture (or its alt text) is shown');
  const { root: e } = render({ type: 'end-attempt-interaction', response_identifier: 'E', title: 'Klaar' });
  assert.equal(e.childNodes.length, 0);
});

// Issue 18: gap match by drag and drop, by keyboard — the saved value is the
// gap's select's (answer_ids unchanged), and every step is announced.
test('gap match: Space picks a word up, arrows go to a gap, Space puts it down; the select and the value follow', () => {
  const announced = [];
  const region = { set textContent(v) { if (v) announced.push(v); }, get textContent() { return ''; } };
  const realGet = document.getElementById;
  document.getElementById = (id) => (id === 'live-polite' ? region : null);
  const realTimeout = globalThis.setTimeout;
  globalThis.setTimeout = (f) => f();
  try {
    const w = (id, text, max = 1) => ({ identifier: id, match_max: max, match_min: 0, fixed: false, content: [txt(text)] });
    const gap = (id) => ({ type: 'gap', identifier: id, required: false });
    const { root, saved } = render({
      type: 'gap-match-interaction', response_identifier: 'RESPONSE', shuffle: false, max_associations: 0, min_associations: 0, class: [], prompt: [],
      gap_choices: [w('W1', 'rood'), w('W2', 'geel')],
      content: [{ type: 'element', tag: 'p', attrs: {}, children: [txt('Het dak is '), gap('G1'), txt(', de muur is '), gap('G2'), txt('.')] }],
    });
    const sources = root.all('button.dnd-source');
    const drops = root.all('button.dnd-drop');
    const selects = root.all('select.gap');
    assert.deepEqual(sources.map((s) => s.textContent), ['rood', 'geel']);
    assert.ok(drops.every((d) => d.hidden), 'drop buttons only while something is held');
    assert.match(root.textContent, /Slepen kan ook met het toetsenbord/);
    assert.ok(sources[0].getAttribute('aria-describedby'), 'the keyboard hint describes each source');
    press(sources[1], ' ');
    assert.equal(sources[1].getAttribute('aria-pressed'), 'true');
    assert.ok(drops.every((d) => !d.hidden));
    assert.equal(document.activeElement, drops[0], 'focus goes to the first gap');
    assert.match(announced.at(-1), /geel opgepakt/);
    fire(drops[0], 'keydown', { key: 'ArrowRight' });
    assert.equal(document.activeElement, drops[1]);
    press(drops[1], ' ');
    assert.deepEqual(saved.RESPONSE, ['W2 G2']);
    assert.equal(selects[1].value, 'W2', 'the gap\'s own select shows it');
    assert.equal(announced.at(-1), 'geel geplaatst bij Open vak 2.');
    assert.ok(drops.every((d) => d.hidden));
    assert.equal(document.activeElement, selects[1]);
    // geel is used once (match_max 1): it cannot go in the other gap too.
    press(sources[1], ' ');
    press(drops[0], ' ');
    assert.deepEqual(saved.RESPONSE, ['W2 G2']);
    assert.match(announced.at(-1), /kan hier niet meer bij/);
    fire(drops[0], 'keydown', { key: 'Escape' });
    assert.equal(announced.at(-1), 'Teruggelegd.');
    assert.equal(document.activeElement, sources[1]);
    press(sources[0], 'Enter');
    press(drops[0], ' ');
    assert.deepEqual(saved.RESPONSE, ['W1 G1', 'W2 G2']);
  } finally {
    document.getElementById = realGet;
    globalThis.setTimeout = realTimeout;
  }
});

test('match: the targets are a bank to drag from; a drop on a row sets its select (one) or checkbox (several); value "S T" unchanged', () => {
  const a = (id, text, max = 1) => ({ identifier: id, match_max: max, match_min: 0, fixed: false, content: [txt(text)] });
  const { root, saved } = render({
    type: 'match-interaction', response_identifier: 'RESPONSE', shuffle: false, max_associations: 0, min_associations: 0, class: [], prompt: [],
    source: [a('S1', 'warm'), a('S2', 'licht', 2)], target: [a('T1', 'koud'), a('T2', 'donker')],
  });
  const sources = root.all('button.dnd-source');
  const drops = root.all('button.dnd-drop');
  assert.deepEqual(sources.map((s) => s.textContent), ['koud', 'donker']);
  assert.deepEqual(drops.map((d) => d.textContent), ['Zet neer bij warm', 'Zet neer bij licht']);
  press(sources[0], ' ');
  press(drops[0], ' ');
  assert.deepEqual(saved.RESPONSE, ['S1 T1']);
  assert.equal(root.all('select')[0].value, 'T1');
  press(sources[1], ' ');
  fire(drops[0], 'keydown', { key: 'ArrowDown' });
  press(document.activeElement, ' ');
  assert.deepEqual(saved.RESPONSE, ['S1 T1', 'S2 T2']);
  const box = root.all('input').find((i) => i.dataset.target === 'T2');
  assert.equal(box.checked, true, 'the row of several takes it as a checkbox');
  assert.equal(document.activeElement, box);
});

test('order: Space picks an entry up, arrows move it (saved each time), Space puts it down, Escape puts it back', () => {
  const c = (id) => ({ identifier: id, fixed: false, content: [txt(id.toLowerCase())] });
  const { root, saved } = render({
    type: 'order-interaction', response_identifier: 'RESPONSE', shuffle: false, class: [], prompt: [], choices: [c('A'), c('B'), c('C')],
  }, { cardinality: 'ordered' });
  const handle = (id) => root.all('button.order-grab').find((b) => b.parentNode.parentNode.dataset.choice === id);
  press(handle('A'), ' ');
  assert.equal(handle('A').getAttribute('aria-pressed'), 'true');
  fire(handle('A'), 'keydown', { key: 'ArrowDown' });
  fire(handle('A'), 'keydown', { key: 'ArrowDown' });
  assert.deepEqual(saved.RESPONSE, ['B', 'C', 'A']);
  press(handle('A'), ' ');
  assert.equal(handle('A').getAttribute('aria-pressed'), 'false');
  fire(handle('A'), 'keydown', { key: 'ArrowUp' });
  assert.deepEqual(saved.RESPONSE, ['B', 'C', 'A'], 'arrows do nothing when it is not held');
  press(handle('B'), ' ');
  fire(handle('B'), 'keydown', { key: 'ArrowDown' });
  assert.deepEqual(saved.RESPONSE, ['C', 'B', 'A']);
  fire(handle('B'), 'keydown', { key: 'Escape' });
  assert.deepEqual(saved.RESPONSE, ['B', 'C', 'A'], 'Escape puts it back');
  assert.deepEqual(root.all('li').map((li) => li.dataset.choice), ['B', 'C', 'A']);
});
