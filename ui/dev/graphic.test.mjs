// Graphic interactions (ui/js/qti-graphic.js) on the fake DOM: keyboard use
// alone saves the value each interaction must give (issue 18), in the shape
// kiosk-core's answer_ids accepts. `node --test ui/dev/`.

import test from 'node:test';
import assert from 'node:assert/strict';
import { installFakeDom } from './fake-dom.mjs';
import { renderNodes } from '../js/qti.js';
import { setLang } from '../i18n.js';

installFakeDom();
setLang('nl');

const image = { src: 'img/kaart.svg', alt: 'Kaart', width: 400, height: 300 };
const hs = (identifier, label, coords = [100, 100, 14], shape = 'circle') => ({ identifier, shape, coords, label, match_max: 2, match_min: 0 });
const spots = [hs('P', 'Stad P'), hs('Q', 'Stad Q', [250, 80, 14]), hs('R', null, [186, 186, 214, 214], 'rect'), hs('S', null, [290, 214, 306, 230, 290, 246], 'poly')];
const graphic = (kind, extra = {}) => ({
  type: 'graphic-interaction', kind, response_identifier: 'RESPONSE', min_choices: 0, max_choices: 1, min_associations: 0, max_associations: 0,
  class: [], prompt: [{ type: 'text', text: 'Kies.' }], image, hotspots: kind === 'select-point' ? [] : spots, ...extra,
});

/** Renders one node; returns the root and the saved values. */
function render(node, cardinality = 'multiple') {
  const saved = [];
  const ctx = { item: { ref: 'i1' }, seed: 's', counters: {}, media: { 'img/kaart.svg': 'data:image/png;base64,AAAA' },
    get: () => undefined, set: (rid, v) => saved.push([rid, v]), cardinality: () => cardinality };
  const root = document.createElement('div');
  root.append(...renderNodes([node], ctx));
  return { root, saved, last: () => saved[saved.length - 1]?.[1] };
}
const spot = (root, id) => [...root.walk()].find((e) => e.getAttribute('data-hotspot') === id);
const key = (el, k, extra = {}) => el.fire('keydown', { key: k, ...extra });

test('hotspot, single: focusable radios named by hotspot-label or "Gebied n"; Space chooses, Enter on another moves the choice', () => {
  const { root, last } = render(graphic('hotspot'), 'single');
  const svg = root.all('svg')[0];
  assert.equal(svg.getAttribute('viewBox'), '0 0 400 300', 'the SVG is in the image\'s own pixels');
  assert.equal(svg.getAttribute('role'), 'radiogroup');
  const shapes = ['P', 'Q', 'R', 'S'].map((id) => spot(root, id));
  assert.deepEqual(shapes.map((g) => g.getAttribute('role')), ['radio', 'radio', 'radio', 'radio']);
  assert.deepEqual(shapes.map((g) => g.getAttribute('tabindex')), ['0', '0', '0', '0']);
  assert.deepEqual(shapes.map((g) => g.getAttribute('aria-label')), ['Stad P', 'Stad Q', 'Gebied 3', 'Gebied 4']);
  assert.deepEqual(shapes.map((g) => g.childNodes[2].localName), ['circle', 'circle', 'rect', 'polygon']);
  key(shapes[1], ' ');
  assert.equal(last(), 'Q');
  assert.equal(shapes[1].getAttribute('aria-checked'), 'true');
  assert.ok(shapes[1].classList.contains('chosen'), 'chosen shows as a class (thick outline + mark), not colour alone');
  assert.equal(shapes[1].all('text')[0].textContent, '✓');
  key(shapes[3], 'Enter');
  assert.equal(last(), 'S');
  assert.equal(shapes[1].getAttribute('aria-checked'), 'false');
  assert.ok(key(shapes[0], 'a').defaultPrevented === false, 'other keys pass');
});

test('hotspot, max-choices 2: checkboxes; a third is refused and the others say they are unavailable', () => {
  const { root, last } = render(graphic('hotspot', { max_choices: 2 }));
  key(spot(root, 'P'), ' ');
  key(spot(root, 'R'), ' ');
  assert.deepEqual(last(), ['P', 'R']);
  assert.equal(spot(root, 'Q').getAttribute('role'), 'checkbox');
  assert.equal(spot(root, 'Q').getAttribute('aria-disabled'), 'true');
  key(spot(root, 'Q'), ' ');
  assert.deepEqual(last(), ['P', 'R'], 'no third choice');
  key(spot(root, 'P'), 'Enter');
  assert.deepEqual(last(), ['R']);
});

test('graphic order: the hotspots in the order chosen; choosing again takes one out', () => {
  const { root, last } = render(graphic('graphic-order', { max_choices: 0 }));
  for (const id of ['Q', 'P', 'S']) key(spot(root, id), 'Enter');
  assert.deepEqual(last(), ['Q', 'P', 'S']);
  assert.equal(spot(root, 'P').getAttribute('aria-label'), 'Stad P, nummer 2');
  assert.equal(spot(root, 'S').all('text')[0].textContent, '3');
  key(spot(root, 'Q'), ' ');
  assert.deepEqual(last(), ['P', 'S']);
});

test('graphic associate: two hotspots make a pair; a pair twice (either way) or with itself is not made; Weghalen removes it', () => {
  const { root, last } = render(graphic('graphic-associate', { max_associations: 2 }));
  key(spot(root, 'P'), ' ');
  assert.equal(spot(root, 'P').getAttribute('aria-pressed'), 'true');
  key(spot(root, 'Q'), ' ');
  assert.deepEqual(last(), ['P Q']);
  key(spot(root, 'Q'), ' ');
  key(spot(root, 'P'), ' ');
  assert.deepEqual(last(), ['P Q'], 'Q P is the same pair');
  key(spot(root, 'R'), ' ');
  key(spot(root, 'R'), ' ');
  assert.deepEqual(last(), ['P Q'], 'no pair with itself');
  key(spot(root, 'R'), ' ');
  key(spot(root, 'S'), ' ');
  assert.deepEqual(last(), ['P Q', 'R S']);
  const items = root.all('ul.graphic-placed')[0].all('li');
  assert.deepEqual(items.map((li) => li.childNodes[0].textContent), ['Stad P – Stad Q', 'Gebied 3 – Gebied 4']);
  assert.equal(root.all('line.graphic-line').length, 2);
  items[0].all('button')[0].fire('click');
  assert.deepEqual(last(), ['R S']);
});

test('graphic gap match: pick an image (toggle button), then a hotspot; the image is used at most match-max times', () => {
  const choice = (id, alt) => ({ identifier: id, match_max: 1, match_min: 0, fixed: false, content: [{ type: 'image', src: `img/${id}.svg`, alt }] });
  const node = graphic('graphic-gap-match', { max_associations: 3, gap_choices: [choice('auto', 'Auto'), choice('radio', 'Radio')] });
  const { root, last } = render(node);
  const [auto, radio] = root.all('button.graphic-choice');
  key(spot(root, 'P'), 'Enter');
  assert.equal(last(), undefined, 'a hotspot without a picked image saves nothing');
  auto.fire('click');
  assert.equal(auto.getAttribute('aria-pressed'), 'true');
  key(spot(root, 'R'), 'Enter');
  assert.deepEqual(last(), ['auto R']);
  assert.equal(auto.disabled, true, 'used up');
  assert.equal(spot(root, 'R').getAttribute('aria-label'), 'Gebied 3: Auto');
  radio.fire('click');
  key(spot(root, 'Q'), ' ');
  assert.deepEqual(last(), ['auto R', 'radio Q']);
  assert.deepEqual(root.all('ul.graphic-placed')[0].all('li').map((li) => li.childNodes[0].textContent), ['Auto in Gebied 3', 'Radio in Stad Q']);
});

test('select point: arrow keys move the crosshair, Enter places a point in whole image pixels; at most max-choices; Weghalen removes', () => {
  const { root, last } = render(graphic('select-point', { max_choices: 2 }));
  const svg = root.all('svg')[0];
  assert.equal(svg.getAttribute('role'), 'application');
  assert.equal(svg.getAttribute('tabindex'), '0');
  key(svg, 'ArrowRight');
  key(svg, 'ArrowRight');
  key(svg, 'ArrowUp', { shiftKey: true });
  key(svg, 'Enter');
  assert.deepEqual(last(), ['216 110'], 'start in the middle (200 150), two steps of 8 right, one of 40 up');
  for (let i = 0; i < 20; i += 1) key(svg, 'ArrowLeft', { shiftKey: true });
  key(svg, ' ');
  assert.deepEqual(last(), ['216 110', '0 110'], 'the crosshair stops at the edge');
  key(svg, 'ArrowDown');
  key(svg, 'Enter');
  assert.deepEqual(last(), ['216 110', '0 110'], 'no third point');
  const li = root.all('ul.graphic-placed')[0].all('li');
  assert.deepEqual(li.map((l) => l.childNodes[0].textContent), ['Punt 1: 216, 110', 'Punt 2: 0, 110']);
  assert.equal(li[0].all('button')[0].getAttribute('aria-label'), 'Punt 1 weghalen');
  li[0].all('button')[0].fire('click');
  assert.deepEqual(last(), ['0 110']);
});

test('select point, single: a new point replaces the old one and is saved bare', () => {
  const { root, last } = render(graphic('select-point', { max_choices: 1 }), 'single');
  const svg = root.all('svg')[0];
  key(svg, 'Enter');
  key(svg, 'ArrowDown');
  key(svg, 'Enter');
  assert.equal(last(), '200 158', 'one step of 8 down from the middle');
});

test('position object: each interaction of the stage places copies of its object by keyboard', () => {
  const node = { type: 'position-object-stage', image, interactions: [
    { response_identifier: 'RESPONSE', min_choices: 0, max_choices: 2, object: { src: 'img/kaart.svg', alt: 'Vliegveld', width: 20, height: 20 } },
  ] };
  const { root, saved } = render(node);
  const svg = root.all('svg')[0];
  key(svg, 'ArrowLeft');
  key(svg, 'Enter');
  assert.deepEqual(saved.pop(), ['RESPONSE', ['192 150']]);
  assert.equal(root.all('g.graphic-marks')[0].all('image').length, 1, 'the object is drawn where it was placed');
});

// Public items (Citolab/1EdTech UK airports) give their gap images alt="":
// the bank's buttons had no name (axe button-name).
test('graphic gap match: a gap image without alt text is named by its place, never by its identifier', () => {
  const choice = (id, alt) => ({ identifier: id, match_max: 1, match_min: 0, fixed: false, content: [{ type: 'image', src: `img/${id}.svg`, alt }] });
  const { root } = render(graphic('graphic-gap-match', { gap_choices: [choice('CBG', ''), choice('EBG', 'Edinburgh')] }));
  const [first, second] = root.all('button.graphic-choice');
  assert.equal(first.getAttribute('aria-label'), 'Afbeelding 1');
  assert.equal(second.getAttribute('aria-label'), null, 'named by its alt text');
  first.fire('click');
  key(spot(root, 'P'), ' ');
  assert.equal(root.all('ul.graphic-placed')[0].all('li')[0].childNodes[0].textContent, 'Afbeelding 1 in Stad P');
});

// The kiosk's lockdown blocks HTML drag and drop; the bank's images are
// dragged with pointer events.
test('graphic gap match: an image dragged with the pointer onto a hotspot is placed; a press without movement stays a click', () => {
  const choice = (id, alt) => ({ identifier: id, match_max: 1, match_min: 0, fixed: false, content: [{ type: 'image', src: `img/${id}.svg`, alt }] });
  const { root, last } = render(graphic('graphic-gap-match', { gap_choices: [choice('auto', 'Auto'), choice('radio', 'Radio')] }));
  const [auto] = root.all('button.graphic-choice');
  const target = spot(root, 'Q').childNodes[2];
  document.elementFromPoint = () => target;
  auto.fire('pointerdown', { button: 0, pointerId: 1, clientX: 10, clientY: 10 });
  auto.fire('pointermove', { pointerId: 1, clientX: 40, clientY: 60 });
  assert.equal(document.body.all('div.graphic-ghost').length, 1, 'a label follows the pointer');
  auto.fire('pointerup', { pointerId: 1, clientX: 200, clientY: 300 });
  assert.deepEqual(last(), ['auto Q']);
  assert.equal(document.body.all('div.graphic-ghost').length, 0);
  document.elementFromPoint = () => null;
});
