// Kladblok (issue 19) on the fake DOM with mocked timers: the toggle and the
// labelled field, saving 600 ms after typing, one save in flight, retrying
// after a failure, flush before hand-in, unmount, and a remount taking an
// unsaved text over. `node --test ui/dev/`.

import test from 'node:test';
import assert from 'node:assert/strict';
import { installFakeDom } from './fake-dom.mjs';
import { mountScratchpad, resetScratchpads, SCRATCH_MAX } from '../js/tools-scratchpad.js';
import { setLang } from '../i18n.js';

installFakeDom();
setLang('nl');

/** A stand-in for the shell's save: records the texts; each save waits for ok() or fail(). */
function shell() {
  const calls = [];
  const pending = [];
  return {
    calls,
    onSave: (text) => {
      calls.push(text);
      return new Promise((resolve, reject) => pending.push({ resolve, reject }));
    },
    ok: () => pending.shift().resolve(),
    fail: () => pending.shift().reject(new Error('opslag vol')),
    get waiting() { return pending.length; },
  };
}

/** Lets the promise chains run (setImmediate is not mocked). */
const settle = () => new Promise((r) => setImmediate(r));
const type = (pad, text) => {
  const area = pad.panel.all('textarea')[0];
  area.value = text;
  area.fire('input');
};
const statusOf = (pad) => pad.panel.all('p.scratch-status')[0].textContent;

test('the toggle opens a labelled pad that says it is not marked; Escape closes it and gives the focus back', () => {
  resetScratchpads('k1');
  const fake = shell();
  const pad = mountScratchpad({ itemId: 'item 1', initial: 'eerder', onSave: fake.onSave, labelId: 'item-heading-0' });
  const { toggle, panel } = pad;
  const area = panel.all('textarea')[0];
  const label = panel.all('label')[0];
  assert.equal(toggle.localName, 'button');
  assert.equal(toggle.getAttribute('type'), 'button');
  assert.equal(toggle.textContent, 'Kladblok');
  assert.equal(toggle.getAttribute('aria-expanded'), 'false');
  assert.equal(toggle.getAttribute('aria-controls'), panel.id);
  assert.equal(panel.hidden, true, 'closed at first');
  assert.equal(panel.getAttribute('role'), 'region');
  assert.equal(panel.all('h2').length + panel.all('h3').length, 0, 'no heading');
  assert.ok(panel.hasAttribute('data-no-highlight'), 'never part of the marked text');
  assert.equal(label.textContent, 'Kladblok — wordt niet beoordeeld');
  assert.equal(label.getAttribute('for'), area.id);
  assert.equal(panel.getAttribute('aria-labelledby'), `${label.id} item-heading-0`);
  assert.equal(area.getAttribute('aria-labelledby'), `${label.id} item-heading-0`, 'the visible label first, then the item');
  assert.equal(area.getAttribute('spellcheck'), 'false');
  assert.equal(area.getAttribute('autocomplete'), 'off');
  assert.equal(area.getAttribute('maxlength'), String(SCRATCH_MAX));
  assert.equal(SCRATCH_MAX, 10000, 'exam_protocol::MAX_SCRATCHPAD_CHARS: the kiosk refuses more');
  const hint = panel.all('p.scratch-hint')[0];
  assert.equal(area.getAttribute('aria-describedby'), hint.id);
  assert.match(hint.textContent, /bij je antwoorden bewaard.*niet beoordeeld/);
  assert.equal(panel.all('p.scratch-status')[0].getAttribute('role'), 'status');
  assert.equal(area.value, 'eerder');
  assert.equal(pad.value(), 'eerder');
  assert.match(panel.id, /^scratch-[A-Za-z0-9_-]+$/, 'an id from any item id');

  toggle.fire('click');
  assert.equal(panel.hidden, false);
  assert.equal(toggle.getAttribute('aria-expanded'), 'true');
  assert.equal(document.activeElement, area, 'the focus goes into the field');
  const esc = area.fire('keydown', { key: 'Escape' });
  assert.ok(esc.defaultPrevented);
  assert.equal(panel.hidden, true);
  assert.equal(toggle.getAttribute('aria-expanded'), 'false');
  assert.equal(document.activeElement, toggle);
  toggle.fire('click');
  toggle.fire('click');
  assert.equal(panel.hidden, true);
  assert.deepEqual(fake.calls, [], 'opening and closing saves nothing');
});

test('typing saves 600 ms after the last change; empty saves null; an unchanged text is not sent', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  resetScratchpads('k2');
  const fake = shell();
  const pad = mountScratchpad({ itemId: 'q2', initial: null, onSave: fake.onSave });
  type(pad, 'a');
  t.mock.timers.tick(300);
  type(pad, 'ab');
  t.mock.timers.tick(599);
  assert.deepEqual(fake.calls, [], 'still typing');
  t.mock.timers.tick(1);
  assert.deepEqual(fake.calls, ['ab']);
  fake.ok();
  await settle();
  assert.equal(statusOf(pad), 'Kladblok opgeslagen');
  // Typed and undone before the save: nothing to send.
  type(pad, 'abc');
  type(pad, 'ab');
  t.mock.timers.tick(600);
  assert.deepEqual(fake.calls, ['ab']);
  // Emptied: null.
  type(pad, '');
  t.mock.timers.tick(600);
  assert.deepEqual(fake.calls, ['ab', null]);
  fake.ok();
  await settle();
  // Leaving the field saves at once.
  type(pad, 'x');
  pad.panel.all('textarea')[0].fire('blur');
  assert.deepEqual(fake.calls, ['ab', null, 'x']);
  fake.ok();
  await settle();
  t.mock.timers.tick(600);
  assert.equal(fake.calls.length, 3, 'the debounce was cancelled by the save');
});

test('one save in flight: changes made meanwhile follow after it, only the newest', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  resetScratchpads('k3');
  const fake = shell();
  const pad = mountScratchpad({ itemId: 'q3', initial: '', onSave: fake.onSave });
  type(pad, 'een');
  t.mock.timers.tick(600);
  assert.deepEqual(fake.calls, ['een']);
  type(pad, 'een twee');
  t.mock.timers.tick(600);
  type(pad, 'een twee drie');
  t.mock.timers.tick(600);
  assert.deepEqual(fake.calls, ['een'], 'nothing while the first is on its way');
  assert.equal(fake.waiting, 1);
  fake.ok();
  await settle();
  assert.deepEqual(fake.calls, ['een', 'een twee drie'], 'the newest follows at once');
  fake.ok();
  await settle();
  t.mock.timers.tick(5000);
  assert.equal(fake.calls.length, 2);
});

test('a failed save says so and is retried after 2 s with the newest text', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  resetScratchpads('k4');
  const fake = shell();
  const pad = mountScratchpad({ itemId: 'q4', initial: null, onSave: fake.onSave });
  type(pad, 'som');
  t.mock.timers.tick(600);
  fake.fail();
  await settle();
  assert.equal(statusOf(pad), 'Kladblok niet opgeslagen — wordt opnieuw geprobeerd');
  t.mock.timers.tick(1999);
  assert.deepEqual(fake.calls, ['som']);
  t.mock.timers.tick(1);
  assert.deepEqual(fake.calls, ['som', 'som'], 'retried after 2 s');
  fake.fail();
  await settle();
  // Typing meanwhile: the newest text goes 600 ms after the change.
  type(pad, 'som 2');
  t.mock.timers.tick(600);
  assert.deepEqual(fake.calls, ['som', 'som', 'som 2']);
  fake.fail();
  await settle();
  t.mock.timers.tick(1999);
  assert.equal(fake.calls.length, 3);
  t.mock.timers.tick(1);
  assert.deepEqual(fake.calls, ['som', 'som', 'som 2', 'som 2']);
  fake.ok();
  await settle();
  assert.equal(statusOf(pad), 'Kladblok opgeslagen');
  t.mock.timers.tick(10000);
  assert.equal(fake.calls.length, 4, 'saved: no more retries');
  // A save that throws instead of rejecting is a failure too.
  const throwing = mountScratchpad({ itemId: 'q4b', initial: null, onSave: () => { throw new Error('kapot'); } });
  type(throwing, 'x');
  t.mock.timers.tick(600);
  await settle();
  assert.equal(statusOf(throwing), 'Kladblok niet opgeslagen — wordt opnieuw geprobeerd');
  resetScratchpads('k4-end');
  await throwing.flush().catch(() => {});
});

test('flush() sends at once and resolves when nothing is pending; it rejects when the save fails', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  resetScratchpads('k5');
  const fake = shell();
  const pad = mountScratchpad({ itemId: 'q5', initial: 'begin', onSave: fake.onSave });
  let done = false;
  await pad.flush();
  assert.deepEqual(fake.calls, [], 'nothing changed: nothing sent');
  type(pad, 'begin en meer');
  const flushing = pad.flush().then(() => { done = true; });
  assert.deepEqual(fake.calls, ['begin en meer'], 'without waiting for the 600 ms');
  type(pad, 'begin en nog meer'); // typed while it is on its way
  fake.ok();
  await settle();
  assert.equal(done, false, 'the follow-up is still pending');
  assert.deepEqual(fake.calls, ['begin en meer', 'begin en nog meer']);
  fake.ok();
  await flushing;
  assert.equal(done, true);
  // A failure: flush rejects (hand-in stops), the retry goes on.
  type(pad, 'weg?');
  const failing = pad.flush();
  fake.fail();
  await assert.rejects(failing, /opslag vol/);
  t.mock.timers.tick(2000);
  assert.equal(fake.calls[fake.calls.length - 1], 'weg?');
  fake.ok();
  await settle();
  await pad.flush();
  // A flush while a retry waits sends at once.
  type(pad, 'weer weg?');
  pad.flush().catch(() => {});
  fake.fail();
  await settle();
  const n = fake.calls.length;
  const again = pad.flush();
  assert.equal(fake.calls.length, n + 1, 'not after the 2 s');
  fake.ok();
  await again;
  assert.equal(statusOf(pad), 'Kladblok opgeslagen');
});

test('unmount() flushes; a failed save goes on being retried until a new pad of the item takes the text over', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  resetScratchpads('k6');
  const fake = shell();
  let pad = mountScratchpad({ itemId: 'q6', initial: null, onSave: fake.onSave });
  type(pad, 'klad');
  const unmounted = pad.unmount();
  assert.deepEqual(fake.calls, ['klad'], 'sent at once');
  fake.ok();
  assert.equal(await unmounted, true);
  // Mounted again (another page and back): from what the caller stored.
  pad = mountScratchpad({ itemId: 'q6', initial: 'klad', onSave: fake.onSave });
  await settle();
  assert.equal(pad.value(), 'klad');
  assert.equal(fake.calls.length, 1, 'nothing to send');
  // Locked: the save fails at unmount and is retried.
  type(pad, 'klad 2');
  const gone = pad.unmount();
  fake.fail();
  assert.equal(await gone, false, 'unmount never rejects');
  t.mock.timers.tick(2000);
  assert.deepEqual(fake.calls, ['klad', 'klad 2', 'klad 2']);
  // The exam is back while that retry is on its way: the new pad has the
  // unsaved text (not the caller's older one) and saves it after the old save.
  const fresh = shell();
  const next = mountScratchpad({ itemId: 'q6', initial: 'klad', onSave: fresh.onSave });
  assert.equal(next.value(), 'klad 2');
  type(next, 'klad 23');
  t.mock.timers.tick(600);
  assert.deepEqual(fresh.calls, [], 'not while the old pad\'s save is on its way');
  fake.fail();
  await settle();
  assert.deepEqual(fresh.calls, ['klad 23']);
  t.mock.timers.tick(10000);
  assert.equal(fake.calls.length, 3, 'the old pad retries no more');
  fresh.ok();
  await next.flush();
  assert.equal(fresh.calls.length, 1);
});

test('a new sitting stops the retries of unmounted pads and takes nothing over', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  resetScratchpads('student-a');
  const fake = shell();
  const pad = mountScratchpad({ itemId: 'q7', initial: null, onSave: fake.onSave });
  type(pad, 'van student a');
  const gone = pad.unmount();
  fake.fail();
  await gone;
  resetScratchpads('student-b');
  t.mock.timers.tick(10000);
  assert.equal(fake.calls.length, 1, 'no retries');
  const other = mountScratchpad({ itemId: 'q7', initial: null, onSave: fake.onSave });
  assert.equal(other.value(), '', 'nothing of the previous student');
});
