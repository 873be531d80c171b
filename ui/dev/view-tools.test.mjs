// Leesliniaal and text size (issue 19) on the fake DOM: the toggle and its
// shortcut, moving the band by key, mouse and focus, and the text-size limits
// (the accommodation's preset is the minimum). `node --test ui/dev/`; the
// pictures and axe: shoot.mjs (viewToolsCheck).

import test from 'node:test';
import assert from 'node:assert/strict';
import { installFakeDom } from './fake-dom.mjs';
import { mountViewTools, resetViewTools, viewToolKey, minStep, stepPercent, SIZE_STEPS_PX } from '../js/tools-view.js';
import { setLang } from '../i18n.js';

installFakeDom();
setLang('nl');

// announce() writes into #live-polite after 50 ms.
const live = document.createElement('div');
document.getElementById = (id) => (id === 'live-polite' ? live : null);
const announced = () => new Promise((r) => setTimeout(() => r(live.textContent), 60));

const metrics = () => ({ line: 27, height: 768 });
const key = (props) => ({ altKey: false, ctrlKey: false, metaKey: false, shiftKey: false, defaultPrevented: false, preventDefault() { this.defaultPrevented = true; }, ...props });
const button = (tools, id) => [...tools.group.walk()].find((e) => e.id === id);

test('shortcuts: Alt+L by physical key, Alt+↑/↓; nothing with Ctrl, Shift or Meta, and not the read-aloud keys', () => {
  assert.equal(viewToolKey(key({ altKey: true, code: 'KeyL', key: 'l' })), 'ruler');
  assert.equal(viewToolKey(key({ altKey: true, code: 'KeyL', key: '¬' })), 'ruler', 'layout does not matter');
  assert.equal(viewToolKey(key({ altKey: true, key: 'ArrowUp' })), 'up');
  assert.equal(viewToolKey(key({ altKey: true, key: 'ArrowDown' })), 'down');
  assert.equal(viewToolKey(key({ code: 'KeyL', key: 'l' })), null, 'a plain l is typing');
  for (const mod of ['ctrlKey', 'shiftKey', 'metaKey']) assert.equal(viewToolKey(key({ altKey: true, [mod]: true, code: 'KeyL' })), null, mod);
  assert.equal(viewToolKey(key({ altKey: true, code: 'KeyV' })), null, 'Alt+V is read-aloud');
  assert.equal(viewToolKey(key({ altKey: true, code: 'KeyP' })), null, 'Alt+P is read-aloud');
});

test('leesliniaal: toggle button with aria-pressed, aria-hidden overlay without pointer events, Alt+L, announced', async () => {
  resetViewTools('r1');
  const root = document.createElement('html');
  const tools = mountViewTools({ textSize: null, root, metrics });
  const toggle = button(tools, 'line-focus-toggle');
  assert.equal(toggle.textContent, 'Leesliniaal');
  assert.equal(toggle.getAttribute('aria-pressed'), 'false');
  assert.equal(toggle.getAttribute('aria-keyshortcuts'), 'Alt+L');
  assert.equal(tools.overlay.getAttribute('aria-hidden'), 'true');
  assert.equal(tools.overlay.hidden, true, 'off at the start');
  toggle.fire('click');
  assert.equal(toggle.getAttribute('aria-pressed'), 'true');
  assert.equal(tools.overlay.hidden, false);
  assert.match(await announced(), /^Leesliniaal aan/);
  // The band: three lines (81 px), inside the window.
  const top = parseInt(tools.overlay.style.getPropertyValue('--ruler-top'), 10);
  const bottom = parseInt(tools.overlay.style.getPropertyValue('--ruler-bottom'), 10);
  assert.equal(bottom - top, 81);
  const e = key({ altKey: true, code: 'KeyL', key: 'l' });
  tools.onKeydown(e);
  assert.ok(e.defaultPrevented);
  assert.equal(toggle.getAttribute('aria-pressed'), 'false');
  assert.equal(tools.overlay.hidden, true);
  assert.equal(await announced(), 'Leesliniaal uit');
});

test('leesliniaal: follows the mouse and the focused element, Alt+↑/↓ moves a line, kept in the window', () => {
  resetViewTools('r2');
  const tools = mountViewTools({ textSize: null, root: document.createElement('html'), metrics });
  const band = () => [parseInt(tools.overlay.style.getPropertyValue('--ruler-top'), 10), parseInt(tools.overlay.style.getPropertyValue('--ruler-bottom'), 10)];
  // Off: the keys are not taken (Alt+↓ stays the order interaction's or the select's).
  const off = key({ altKey: true, key: 'ArrowDown' });
  tools.onKeydown(off);
  assert.equal(off.defaultPrevented, false);
  tools.onPointermove({ clientY: 300 });
  assert.equal(tools.ruler.y, null, 'the mouse moves nothing while it is off');
  tools.ruler.toggle();
  tools.onPointermove({ clientY: 300 });
  assert.deepEqual(band(), [260, 341]);
  const down = key({ altKey: true, key: 'ArrowDown' });
  tools.onKeydown(down);
  assert.ok(down.defaultPrevented);
  assert.equal(tools.ruler.y, 327);
  tools.onKeydown(key({ altKey: true, key: 'ArrowUp' }));
  tools.onKeydown(key({ altKey: true, key: 'ArrowUp' }));
  assert.equal(tools.ruler.y, 273);
  // An interaction that used Alt+↑ itself (order) goes first.
  const taken = key({ altKey: true, key: 'ArrowUp', defaultPrevented: true });
  tools.onKeydown(taken);
  assert.equal(tools.ruler.y, 273);
  // Alt+↓ on a select opens its list.
  const sel = document.createElement('select');
  const onSelect = key({ altKey: true, key: 'ArrowDown', target: sel });
  tools.onKeydown(onSelect);
  assert.equal(onSelect.defaultPrevented, false);
  assert.equal(tools.ruler.y, 273);
  // Focus: the band goes to the focused element (a tall one: its first lines).
  const field = document.createElement('textarea');
  field.getBoundingClientRect = () => ({ top: 500, height: 200 });
  tools.onFocusin({ target: field });
  assert.equal(tools.ruler.y, 500 + 40.5);
  const radio = document.createElement('input');
  radio.getBoundingClientRect = () => ({ top: 100, height: 20 });
  tools.onFocusin({ target: radio });
  assert.equal(tools.ruler.y, 110);
  // Never out of the window.
  tools.onPointermove({ clientY: -50 });
  assert.deepEqual(band(), [0, 81]);
  tools.onPointermove({ clientY: 5000 });
  assert.deepEqual(band(), [687, 768]);
  for (let i = 0; i < 5; i += 1) tools.onKeydown(key({ altKey: true, key: 'ArrowDown' }));
  assert.deepEqual(band(), [687, 768]);
});

test('leesliniaal: stays on for the sitting (remount after a page turn or lock), off for the next sitting', () => {
  resetViewTools('r3');
  const first = mountViewTools({ textSize: null, root: document.createElement('html'), metrics });
  first.ruler.toggle();
  first.onPointermove({ clientY: 200 });
  first.unmount();
  resetViewTools('r3');
  const again = mountViewTools({ textSize: null, root: document.createElement('html'), metrics });
  assert.equal(again.overlay.hidden, false);
  assert.equal(button(again, 'line-focus-toggle').getAttribute('aria-pressed'), 'true');
  assert.equal(again.ruler.y, 200);
  resetViewTools('another-student');
  const next = mountViewTools({ textSize: null, root: document.createElement('html'), metrics });
  assert.equal(next.overlay.hidden, true);
});

test('text size: A−/A+ named "Tekst kleiner"/"Tekst groter", 100 % to 250 %, limits announced, aria-disabled at the ends', async () => {
  resetViewTools('s1');
  const root = document.createElement('html');
  const tools = mountViewTools({ textSize: null, root, metrics });
  const smaller = button(tools, 'text-smaller');
  const bigger = button(tools, 'text-bigger');
  assert.equal(smaller.getAttribute('aria-label'), 'Tekst kleiner, A−', 'what it does, and the visible label (WCAG 2.5.3)');
  assert.equal(bigger.getAttribute('aria-label'), 'Tekst groter, A+');
  assert.equal(smaller.textContent, 'A−');
  assert.equal(bigger.textContent, 'A+');
  assert.equal(root.style.fontSize, '', 'the preset: no override');
  assert.equal(smaller.getAttribute('aria-disabled'), 'true');
  assert.equal(bigger.getAttribute('aria-disabled'), 'false');
  smaller.fire('click');
  assert.equal(await announced(), 'Kleinste tekstgrootte voor jou: 100 %');
  assert.equal(root.style.fontSize, '');
  bigger.fire('click');
  assert.equal(root.style.fontSize, '22px');
  assert.equal(await announced(), 'Tekstgrootte 122 %');
  assert.equal(root.classList.contains('text-big'), false, 'large text keeps the normal layout');
  bigger.fire('click');
  assert.equal(root.style.fontSize, '26px');
  assert.equal(root.classList.contains('text-big'), true, 'from x-large on: the big-text layout');
  for (let i = 0; i < 10; i += 1) bigger.fire('click');
  assert.equal(root.style.fontSize, '45px');
  assert.equal(stepPercent(tools.size.current), 250);
  assert.equal(bigger.getAttribute('aria-disabled'), 'true');
  assert.equal(await announced(), 'Grootste tekstgrootte: 250 %');
  for (let i = 0; i < 10; i += 1) smaller.fire('click');
  assert.equal(root.style.fontSize, '');
  assert.equal(root.classList.contains('text-big'), false);
  // Leaving the exam screen: the preset again.
  bigger.fire('click');
  tools.unmount();
  assert.equal(root.style.fontSize, '');
});

test('text size: the preset is the minimum (large cannot go below large, x-large not below x-large); kept for the sitting', () => {
  assert.equal(minStep(null), 0);
  assert.equal(minStep('large'), 1);
  assert.equal(minStep('x-large'), 2);
  assert.equal(SIZE_STEPS_PX[1], 22, 'large is the preset\'s 22 px (html.text-large)');
  assert.equal(SIZE_STEPS_PX[2], 26, 'x-large is the preset\'s 26 px (html.text-x-large)');
  resetViewTools('s2');
  const root = document.createElement('html');
  let tools = mountViewTools({ textSize: 'large', root, metrics });
  const smaller = button(tools, 'text-smaller');
  assert.equal(smaller.getAttribute('aria-disabled'), 'true');
  smaller.fire('click');
  assert.equal(tools.size.current, 1);
  assert.equal(root.style.fontSize, '', 'html.text-large applies');
  button(tools, 'text-bigger').fire('click');
  button(tools, 'text-bigger').fire('click');
  assert.equal(root.style.fontSize, '31.5px');
  tools.unmount();
  // Remounted (language switch, unlock, the same sitting): the same step.
  resetViewTools('s2');
  tools = mountViewTools({ textSize: 'large', root, metrics });
  assert.equal(root.style.fontSize, '31.5px');
  assert.equal(tools.size.current, 3);
  tools.unmount();
  // x-large: the first step down is refused.
  resetViewTools('s3');
  tools = mountViewTools({ textSize: 'x-large', root, metrics });
  button(tools, 'text-smaller').fire('click');
  assert.equal(tools.size.current, 2);
  assert.equal(root.style.fontSize, '');
  assert.equal(root.classList.contains('text-big'), false, 'at the preset its own class rules apply');
  tools.unmount();
});
