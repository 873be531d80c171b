// Issue 18: content inside item bodies beyond XHTML — MathML, audio/video,
// companion materials, stimuli — as the UI builds it (ui/js/qti-content.js),
// on the fake DOM: `node --test ui/dev/`. The pictures: shoot.mjs
// --instrument content, and webkit-shot.py for MathML in WebKitGTK.

import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { installFakeDom } from './fake-dom.mjs';
import { renderNodes, renderItemBody, plainText, speechText } from '../js/qti.js';
import { MATHML_NS } from '../js/qti-content.js';
import { setLang } from '../i18n.js';

installFakeDom();
const here = dirname(fileURLToPath(import.meta.url));
const ctx = (media = {}) => ({ item: { ref: 'i1' }, seed: 's', counters: {}, media, get: () => undefined, set: () => {}, cardinality: () => 'single' });
const m = (tag, attrs, ...children) => ({ type: 'mathml', tag, attrs: attrs || {}, children: children.map((c) => (typeof c === 'string' ? { type: 'text', text: c } : c)) });

test('MathML is built with createElementNS in the MathML namespace, allow-listed again', () => {
  const math = {
    type: 'math', tag: 'math', attrs: { display: 'block', alttext: 'E is m c kwadraat', onclick: 'steal()' },
    children: [m('mrow', { href: 'https://evil.example/' }, m('mi', {}, 'E'), m('mo', {}, '='), m('msup', {}, m('mi', {}, 'c'), m('mn', {}, '2')), m('script', {}, 'alert(1)'))],
  };
  const [el] = renderNodes([math], ctx());
  assert.equal(el.localName, 'math');
  const all = [...el.walk()];
  assert.ok(all.every((e) => e.namespaceURI === MATHML_NS), 'every element in the MathML namespace');
  assert.deepEqual(all.map((e) => e.localName), ['math', 'mrow', 'mi', 'mo', 'msup', 'mi', 'mn'], 'no <script>');
  assert.equal(el.getAttribute('onclick'), null);
  assert.equal(all[1].getAttribute('href'), null);
  assert.equal(el.getAttribute('alttext'), 'E is m c kwadraat');
  assert.equal(el.getAttribute('aria-label'), 'E is m c kwadraat', 'the alternative text reaches screen readers');
  assert.equal(el.textContent, 'E=c2');
  assert.equal(plainText([{ type: 'element', tag: 'p', attrs: {}, children: [{ type: 'text', text: 'Formule' }, math] }]), 'Formule E is m c kwadraat');
});

test('audio and video: package URLs only, with controls, never autoplay, captions kept', () => {
  const video = {
    type: 'media', kind: 'video', label: 'Dijken', width: '320',
    sources: [{ src: 'media/film.mp4', mime: 'video/mp4' }],
    tracks: [{ src: 'media/film.vtt', kind: 'captions', srclang: 'nl', label: 'Nederlands', default: true }],
  };
  const media = { 'media/film.mp4': 'exammedia://localhost/media/film.mp4', 'media/film.vtt': 'exammedia://localhost/media/film.vtt' };
  const [box] = renderNodes([video], ctx(media));
  const [v] = box.all('video');
  assert.ok(v.controls && v.hasAttribute('controls'));
  assert.equal(v.getAttribute('autoplay'), null);
  assert.equal(v.getAttribute('aria-label'), 'Dijken');
  assert.equal(v.all('source')[0].getAttribute('src'), 'exammedia://localhost/media/film.mp4');
  const [tr] = v.all('track');
  assert.deepEqual([tr.getAttribute('kind'), tr.getAttribute('srclang'), tr.hasAttribute('default')], ['captions', 'nl', true]);
  // A source that is not the package's: not loaded, said in brackets.
  const [gone] = renderNodes([{ ...video, sources: [{ src: 'https://cdn.example/x.mp4', mime: 'video/mp4' }] }], ctx({}));
  assert.equal(gone.all('video').length, 0);
  assert.match(gone.textContent, /Dijken/);
});

test('companion materials: the item says in Dutch what the student may use; stimuli come before the body', () => {
  setLang('nl');
  const item = {
    ref: 'i1', body: [{ type: 'text', text: 'Vraag' }],
    companion: { calculators: [{ kind: 'basic' }] },
    stimuli: [{ identifier: 'st', href: 'stimuli/a.xml', title: 'Dijken', body: [{ type: 'text', text: 'Nederland ligt laag.' }] }],
  };
  const body = renderItemBody(item, ctx());
  const [note] = body.all('p.companion-note');
  assert.equal(note.textContent, 'Bij deze vraag mag je een rekenmachine (basis) gebruiken.');
  assert.equal(note.getAttribute('lang'), 'nl');
  const [region] = body.all('section.qti-stimulus');
  assert.equal(region.getAttribute('aria-label'), 'Bron: Dijken');
  assert.ok(body.textContent.indexOf('Nederland ligt laag.') < body.textContent.indexOf('Vraag'));
  const many = renderItemBody({ ...item, stimuli: [], companion: { calculators: [{ kind: 'scientific' }], rules: [{ kind: 'cm' }], protractors: [{}] } }, ctx());
  assert.equal(many.all('p.companion-note')[0].textContent, 'Bij deze vraag mag je een rekenmachine (wetenschappelijk), een liniaal (cm) en een geodriehoek gebruiken.');
  setLang('en');
  assert.equal(renderItemBody(item, ctx()).all('p.companion-note')[0].textContent, 'For this question you may use a calculator (basic).');
  setLang('nl');
});

test('qti-content.js builds no HTML from strings', () => {
  const src = readFileSync(join(here, '..', 'js', 'qti-content.js'), 'utf8');
  assert.doesNotMatch(src, /innerHTML|outerHTML|insertAdjacentHTML|DOMParser|createContextualFragment|document\.write/);
});

test('the stylesheet never sets display on math (display: block broke the layout of a block formula into a column)', () => {
  const css = readFileSync(join(here, '..', 'css', 'kiosk.css'), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
  for (const m of css.matchAll(/([^{}]+)\{([^{}]*)\}/g)) {
    if (/(^|[\s,>])math\b/.test(m[1])) assert.doesNotMatch(m[2], /display\s*:/, `${m[1].trim()} sets display`);
  }
});

test('data-qti-suppress-tts: not read aloud; hidden from screen readers where nothing inside is worked with', () => {
  const text = (t) => ({ type: 'text', text: t });
  const span = (value, ...children) => ({ type: 'element', tag: 'span', attrs: { 'data-qti-suppress-tts': value }, children });
  const body = [{
    type: 'element', tag: 'p', attrs: {},
    children: [text('Bereken '), span('computer-read-aloud', text('(zie ★)')), text(' de oppervlakte'), span('all', text('✱')), text(' '), span('screen-reader', text('en de omtrek'))],
  }];
  // Read-aloud skips what is suppressed for it; labels and the rest keep every word.
  assert.equal(speechText(body), 'Bereken de oppervlakte en de omtrek');
  assert.equal(plainText(body), 'Bereken (zie ★) de oppervlakte✱ en de omtrek');
  const [p] = renderNodes(body, ctx());
  const spans = p.all('span');
  assert.deepEqual(spans.map((e) => e.getAttribute('aria-hidden')), [null, 'true', 'true'], 'screen-reader and all are hidden from screen readers');
  assert.ok(spans.every((e) => e.getAttribute('data-qti-suppress-tts') === null), 'the attribute itself is not put on the page');
  // A gap inside stays reachable: aria-hidden on something a student works with would leave it unnamed.
  const [q] = renderNodes([span('all', text('Vul in: '), { type: 'gap', identifier: 'G1' })], ctx());
  assert.equal(q.getAttribute('aria-hidden'), null);
});

test('the accessibility catalog: read-aloud says the spoken alternative of what refers to it', () => {
  const text = (t) => ({ type: 'text', text: t });
  const body = [{
    type: 'element', tag: 'p', attrs: {},
    children: [text('Water is '), { type: 'element', tag: 'span', attrs: { 'data-catalog-idref': 'water' }, children: [text('H'), { type: 'element', tag: 'sub', attrs: {}, children: [text('2')] }, text('O')] }, text('.')],
  }];
  assert.equal(speechText(body, { water: 'H twee O' }), 'Water is H twee O .');
  assert.equal(speechText(body), 'Water is H2O.', 'without a catalog: the text');
  assert.equal(speechText(body, { other: 'x' }), 'Water is H2O.');
  assert.equal(plainText(body), 'Water is H2O.', 'labels and the page keep the text');
});
