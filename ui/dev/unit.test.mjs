// DOM-free unit tests of the UI modules: `node --test ui/dev/`
// (Node ≥ 18, no packages). The rendering itself is checked in a real
// browser by ui/dev/shoot.mjs.

import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { LANGS, t, stepName } from '../i18n.js';
import { flatten, seededShuffle, answered, plainText } from '../js/qti.js';
import { blocked, selectedPart, replaceRange, fitting, installExamClipboard, examClipboardText, clearExamClipboard } from '../js/lockdown.js';

const here = dirname(fileURLToPath(import.meta.url));
const ui = join(here, '..');

test('Dutch and English have the same keys, of the same kind', () => {
  const nl = LANGS.nl;
  const en = LANGS.en;
  assert.deepEqual(Object.keys(en).sort(), Object.keys(nl).sort());
  for (const k of Object.keys(nl)) assert.equal(typeof en[k], typeof nl[k], k);
});

test('placeholders are filled, plurals work', () => {
  assert.equal(t('location.room', { room: 'B2.14' }), 'Lokaal: B2.14');
  assert.equal(t('login.attempts', { n: 1 }), 'Nog 1 poging.');
  assert.equal(t('login.attempts', { n: 2 }), 'Nog 2 pogingen.');
  assert.equal(t('no.such.key'), 'no.such.key');
});

test('every t() key used in the code exists', () => {
  const files = ['js/main.js', 'js/screens.js', 'js/exam.js', 'js/qti.js', 'js/dialog.js'];
  const missing = [];
  for (const f of files) {
    const src = readFileSync(join(ui, f), 'utf8');
    for (const m of src.matchAll(/\bt\('([a-z0-9_.-]+)'/g)) if (!(m[1] in LANGS.nl)) missing.push(`${f}: ${m[1]}`);
  }
  assert.deepEqual(missing, []);
});

test('no innerHTML, eval, inline handlers or inline styles in the app', () => {
  const bad = [];
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        // dev: test tools; vendor: third-party code kept as published
        // (pdf.js, Apache-2.0), loaded only by tools-reference.js.
        if (e.name !== 'dev' && e.name !== 'vendor') walk(p);
      } else if (/\.(js|html)$/.test(e.name)) {
        const src = readFileSync(p, 'utf8');
        for (const re of [/innerHTML/, /outerHTML/, /insertAdjacentHTML/, /\beval\(/, /new Function\(/, /document\.write/, /\son[a-z]+="/, /\sstyle="/, /<script>(?!\s*<\/script>)/]) {
          if (re.test(src)) bad.push(`${p}: ${re}`);
        }
      }
    }
  };
  walk(ui);
  assert.deepEqual(bad, []);
});

test('seeded shuffle is stable and keeps fixed entries in place', () => {
  const list = ['a', 'b', 'c', 'd', 'e', 'f'].map((id, i) => ({ id, fixed: i === 5 }));
  const one = seededShuffle(list, 'seed-1').map((x) => x.id);
  const two = seededShuffle(list, 'seed-1').map((x) => x.id);
  assert.deepEqual(one, two);
  assert.equal(one[5], 'f');
  assert.deepEqual([...one].sort(), ['a', 'b', 'c', 'd', 'e', 'f']);
});

const item = (ref) => ({ kind: 'item', ref_identifier: ref, identifier: ref, title: ref, responses: [], body: [] });

test('flatten: one page per item, a keep_together section is one page, linear wins', () => {
  const model = flatten({
    title: 'T',
    test_parts: [
      { identifier: 'p1', navigation_mode: 'nonlinear', sections: [
        { identifier: 's1', title: 'S1', visible: true, keep_together: false, shuffle: false, rubric_blocks: [], parts: [
          item('i1'),
          { kind: 'section', identifier: 's2', title: 'S2', visible: true, keep_together: true, shuffle: false, rubric_blocks: [], parts: [item('i2'), item('i3')] },
          item('i4'),
        ] },
      ] },
      { identifier: 'p2', navigation_mode: 'linear', sections: [
        { identifier: 's3', title: 'S3', visible: false, keep_together: false, shuffle: false, rubric_blocks: [], parts: [item('i5')] },
      ] },
    ],
  }, 'seed');
  assert.deepEqual(model.items.map((x) => x.ref), ['i1', 'i2', 'i3', 'i4', 'i5']);
  assert.deepEqual(model.pages, [[0], [1, 2], [3], [4]]);
  assert.equal(model.navigation, 'linear');
  assert.deepEqual(model.items[1].sections.map((s) => s.identifier), ['s1', 's2']);
});

test('flatten accepts a shell-flattened {items} model', () => {
  const model = flatten({ title: 'T', navigation: 'nonlinear', items: [item('a'), item('b')] }, 's');
  assert.deepEqual(model.items.map((x) => x.ref), ['a', 'b']);
  assert.deepEqual(model.pages, [[0], [1]]);
});

test('answered: empty strings, arrays and nulls do not count', () => {
  assert.equal(answered(undefined), false);
  assert.equal(answered({ RESPONSE: null }), false);
  assert.equal(answered({ RESPONSE: '  ' }), false);
  assert.equal(answered({ RESPONSE: [] }), false);
  assert.equal(answered({ A: null, B: 'x' }), true);
  assert.equal(answered({ RESPONSE: ['S1 T1'] }), true);
});

test('plainText flattens content for options and read-aloud', () => {
  const nodes = [{ type: 'element', tag: 'p', attrs: {}, children: [{ type: 'text', text: 'Hello ' }, { type: 'element', tag: 'strong', attrs: {}, children: [{ type: 'text', text: 'world' }] }] }, { type: 'image', src: 'x.png', alt: 'a chart' }];
  assert.equal(plainText(nodes), 'Hello world a chart');
});

test('lockdown blocks reload, print, find and devtools, not typing', () => {
  const k = (key, mods = {}) => blocked({ key, ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, target: null, ...mods });
  assert.equal(k('r', { ctrlKey: true }), true);
  assert.equal(k('F5'), true);
  assert.equal(k('p', { ctrlKey: true }), true);
  assert.equal(k('f', { ctrlKey: true }), true);
  assert.equal(k('I', { ctrlKey: true, shiftKey: true }), true);
  assert.equal(k('ArrowLeft', { altKey: true }), true);
  assert.equal(k('r'), false);
  assert.equal(k('c', { ctrlKey: true }), false);
  assert.equal(k('Tab'), false);
});

test('kiosk-core step names map to translated labels', () => {
  assert.equal(stepName('procesbewaking gestart'), 'Bewaking van programma’s starten');
  assert.equal(stepName('guard'), 'Bewaking van programma’s starten');
  assert.equal(stepName('iets nieuws'), 'iets nieuws');
});

// Issue 15 point 3: an answer changed 9 ms before kill -9 was lost — the UI
// waited 300 ms before saving. Now the change goes to the shell at once (one
// save in flight per item; a change made meanwhile follows when it is done).
test('a changed answer goes to the shell at once, and the last change is never dropped', async () => {
  const calls = [];
  const pending = [];
  globalThis.window = { __TAURI__: { core: { invoke: (name, args) => {
    calls.push([name, JSON.parse(JSON.stringify(args))]);
    return new Promise((resolve) => pending.push(() => resolve({ saved: true, seq: calls.length })));
  } } } };
  const { recordAnswer, pendingSaves } = await import('../js/exam.js');
  recordAnswer('item-1', { RESPONSE: 'A' });
  assert.deepEqual(calls, [['save_answer', { itemId: 'item-1', value: { RESPONSE: 'A' } }]], 'sent without waiting');
  // Typed on while the first save is on its way: sent as soon as it is done.
  recordAnswer('item-1', { RESPONSE: 'AB' });
  recordAnswer('item-1', { RESPONSE: 'ABC' });
  assert.equal(calls.length, 1, 'one save in flight per item');
  assert.equal(pendingSaves(), 1);
  pending.shift()();
  for (let i = 0; i < 10 && calls.length < 2; i += 1) await Promise.resolve();
  assert.deepEqual(calls[1], ['save_answer', { itemId: 'item-1', value: { RESPONSE: 'ABC' } }], 'the newest answer follows');
  pending.shift()();
  for (let i = 0; i < 10 && pendingSaves() > 0; i += 1) await Promise.resolve();
  assert.equal(pendingSaves(), 0);
  assert.equal(calls.length, 2);
});

// Issue 19 review: the header's "saving" count ignored kladblok and
// markeerstift saves, so it said "Alles opgeslagen" while a note was still
// on its way (or had failed and waited for its retry).
test('kladblok and markeerstift saves count as pending until the shell keeps them', async () => {
  const { trackNoteSave, pendingSaves } = await import('../js/exam.js');
  const before = pendingSaves();
  let keep;
  let refuse;
  const first = trackNoteSave('item-1', 'scratchpad', () => new Promise((resolve) => { keep = resolve; }));
  const second = trackNoteSave('item-2', 'highlights', () => new Promise((_, reject) => { refuse = reject; }));
  assert.equal(pendingSaves(), before + 2, 'both on their way');
  keep();
  await first;
  await Promise.resolve();
  assert.equal(pendingSaves(), before + 1, 'the kept one no longer counts');
  refuse(new Error('weg'));
  await second.catch(() => {});
  await Promise.resolve();
  assert.equal(pendingSaves(), before + 1, 'a failed one still counts, until its retry is kept');
  await trackNoteSave('item-2', 'highlights', () => Promise.resolve());
  await Promise.resolve();
  assert.equal(pendingSaves(), before, 'the retry kept it');
});

// Issue 15 point 6: the exam's own clipboard. Ctrl+V, Shift+Insert and a
// middle click pasted what other programs had put on the session's
// clipboard; Ctrl+C put the answer there. Now copy/cut/paste stay in the page.
test('the exam clipboard: what a copy takes and where a paste goes', () => {
  assert.equal(selectedPart('Ik bied excuses aan', 3, 7), 'bied');
  assert.equal(selectedPart('Ik bied excuses aan', 7, 3), 'bied', 'a backwards selection');
  assert.equal(selectedPart('kort', 2, 99), 'rt', 'clamped to the value');
  assert.deepEqual(replaceRange('Ik  aan', 3, 3, 'bied'), { value: 'Ik bied aan', caret: 7 });
  assert.deepEqual(replaceRange('Ik bied aan', 3, 8, ''), { value: 'Ik aan', caret: 3 }, 'a cut');
  assert.deepEqual(replaceRange('abc', null, null, 'd'), { value: 'abcd', caret: 4 }, 'no selection: at the end');
  assert.equal(fitting('12345', 3, 0, 6), '123', 'a maxlength of 6 leaves room for 3');
  assert.equal(fitting('12345', 3, 2, 6), '12345', 'the replaced selection makes room');
  assert.equal(fitting('€€€', 0, 0, 2), '€€', 'whole characters');
  assert.equal(fitting('abc', 10, 0, -1), 'abc', 'no maxlength');
});

test('the exam clipboard: copy, cut and paste never use the session clipboard', () => {
  class FakeEvent extends Event {
    constructor(type, init = {}) {
      super(type, { cancelable: true, bubbles: true });
      for (const k of ['inputType', 'button', 'data']) if (k in init) Object.defineProperty(this, k, { value: init[k] });
    }
  }
  class Field extends EventTarget {
    constructor(value) {
      super();
      this.value = value;
      this.selectionStart = value.length;
      this.selectionEnd = value.length;
      this.maxLength = -1;
      this.readOnly = false;
      this.disabled = false;
      this.inputs = [];
      this.addEventListener('input', (e) => this.inputs.push([e.inputType, this.value]));
    }
    setSelectionRange(a, b) {
      this.selectionStart = a;
      this.selectionEnd = b;
    }
  }
  const saved = { input: globalThis.HTMLInputElement, area: globalThis.HTMLTextAreaElement, ev: globalThis.InputEvent };
  globalThis.HTMLInputElement = class {};
  globalThis.HTMLTextAreaElement = Field;
  globalThis.InputEvent = FakeEvent;
  try {
    clearExamClipboard();
    const doc = new EventTarget();
    installExamClipboard(doc);
    const send = (type, init) => {
      const e = new FakeEvent(type, init);
      doc.dispatchEvent(e);
      return e;
    };
    const answer = new Field('Ik bied mijn excuses aan');
    const other = new Field('Antwoord: ');
    doc.activeElement = answer;
    answer.setSelectionRange(3, 7);
    assert.equal(send('copy').defaultPrevented, true, 'the copy never reaches the session clipboard');
    assert.equal(examClipboardText(), 'bied');
    assert.deepEqual(answer.inputs, [], 'a copy does not change the answer');

    // Paste in another field: the exam's text, at the caret, saved through `input`.
    doc.activeElement = other;
    assert.equal(send('paste').defaultPrevented, true, 'the session clipboard is never pasted');
    assert.equal(other.value, 'Antwoord: bied');
    assert.deepEqual(other.inputs, [['insertFromPaste', 'Antwoord: bied']]);
    assert.equal(other.selectionStart, 14);

    // Cut: out of the field (saved), into the exam's clipboard.
    doc.activeElement = answer;
    answer.setSelectionRange(8, 13);
    assert.equal(send('cut').defaultPrevented, true);
    assert.equal(answer.value, 'Ik bied excuses aan');
    assert.deepEqual(answer.inputs, [['deleteByCut', 'Ik bied excuses aan']]);
    assert.equal(examClipboardText(), 'mijn ');

    // A middle click (X11's primary selection) pastes nothing at all.
    doc.activeElement = other;
    send('mouseup', { button: 1 });
    assert.equal(send('paste').defaultPrevented, true);
    assert.equal(other.value, 'Antwoord: bied', 'nothing pasted by a middle click');
    send('mouseup', { button: 0 });

    // Outside text fields: nothing copied, nothing pasted.
    doc.activeElement = null;
    assert.equal(send('copy').defaultPrevented, true);
    assert.equal(examClipboardText(), 'mijn ');
    assert.equal(send('paste').defaultPrevented, true);
    // An engine's own paste or drop as an edit is refused too.
    assert.equal(send('beforeinput', { inputType: 'insertFromPaste' }).defaultPrevented, true);
    assert.equal(send('beforeinput', { inputType: 'insertFromDrop' }).defaultPrevented, true);
    assert.equal(send('beforeinput', { inputType: 'insertText' }).defaultPrevented, false, 'typing goes on');

    // A read-only field is left alone; a maxlength is kept.
    const limited = new Field('12');
    limited.maxLength = 4;
    doc.activeElement = limited;
    send('paste');
    assert.equal(limited.value, '12mi');
    const readOnly = new Field('vast');
    readOnly.readOnly = true;
    doc.activeElement = readOnly;
    send('paste');
    assert.equal(readOnly.value, 'vast');
  } finally {
    globalThis.HTMLInputElement = saved.input;
    globalThis.HTMLTextAreaElement = saved.area;
    globalThis.InputEvent = saved.ev;
    clearExamClipboard();
  }
});

// Read-aloud through the kiosk's engine (ui/js/read-aloud.js).
import { speechParts, createReader, MAX_PART_CHARS, readAloudKey, wordTimes, wordAt } from '../js/read-aloud.js';

test('read-aloud parts: sentence ends, at most the request size, nothing blank', () => {
  assert.deepEqual(speechParts('  '), []);
  assert.deepEqual(speechParts('Lees goed.  Kies een antwoord!'), ['Lees goed. Kies een antwoord!']);
  assert.deepEqual(speechParts('Een zin. Nog een zin. Derde zin.', 20), ['Een zin.', 'Nog een zin.', 'Derde zin.']);
  const long = 'woord '.repeat(400) + 'einde.';
  const parts = speechParts(long);
  assert.ok(parts.length > 1);
  for (const p of parts) assert.ok(p.length > 0 && p.length <= MAX_PART_CHARS, p.length);
  assert.equal(parts.join(' '), long.trim());
  assert.deepEqual(speechParts('x'.repeat(25), 10), ['x'.repeat(10), 'x'.repeat(10), 'x'.repeat(5)]);
});

function fakeAudio(log) {
  return (url) => {
    const a = { url, playing: false, onended: null, onerror: null };
    a.play = async () => { a.playing = true; log.push(`play ${url}`); };
    a.pause = () => { a.playing = false; log.push(`pause ${url}`); };
    a.end = () => a.onended && a.onended();
    log.audios.push(a);
    return a;
  };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

test('read-aloud reader: parts in order, pause, resume, stop', async () => {
  const log = []; log.audios = [];
  const states = [];
  const asked = [];
  const reader = createReader({
    speak: async (text) => { asked.push(text); return `data:${text}`; },
    makeAudio: fakeAudio(log),
    onState: (s) => states.push(s),
  });
  reader.start('Een. ' + 'b '.repeat(600) + 'Twee.');
  await tick();
  assert.equal(reader.state, 'playing');
  assert.equal(asked.length, 2, 'the next part is asked for while the first plays');
  assert.equal(log.audios.length, 1);
  reader.pause();
  assert.equal(reader.state, 'paused');
  assert.equal(log.audios[0].playing, false);
  reader.resume();
  assert.equal(log.audios[0].playing, true);
  for (let i = 0; i < 10 && reader.state === 'playing'; i += 1) {
    log.audios[log.audios.length - 1].end();
    await tick(); await tick();
  }
  assert.deepEqual(asked, speechParts('Een. ' + 'b '.repeat(600) + 'Twee.'));
  assert.equal(asked.length, 3);
  assert.deepEqual(log.audios.map((a) => a.url), asked.map((x) => `data:${x}`), 'each part once, in order');
  assert.deepEqual(states, ['playing', 'paused', 'playing', 'stopped']);
  // Stop halfway: the audio stops and a part arriving later is not played.
  let release;
  const slow = createReader({
    speak: () => new Promise((r) => { release = r; }),
    makeAudio: fakeAudio(log),
    onState: () => {},
  });
  const before = log.audios.length;
  slow.start('Een zin.');
  slow.stop();
  release('data:late');
  await tick(); await tick();
  assert.equal(slow.state, 'stopped');
  assert.equal(log.audios.length, before, 'nothing plays after stop');
});

test('read-aloud: the spoken word follows the audio, longer words and pauses take longer', async () => {
  const times = wordTimes('Een fietsenstalling, en dan? Ja.');
  assert.deepEqual(times.map((w) => w.text), ['Een', 'fietsenstalling,', 'en', 'dan?', 'Ja.']);
  assert.equal(times[0].start, 0);
  assert.equal(times[times.length - 1].end, 1);
  for (let i = 1; i < times.length; i += 1) assert.equal(times[i].start, times[i - 1].end, 'no gaps');
  const span = (i) => times[i].end - times[i].start;
  assert.ok(span(1) > 3 * span(0), 'a long word takes longer');
  assert.ok(span(3) > span(2), 'a question mark adds a pause');
  assert.equal(wordAt(times, 0), 0);
  assert.equal(wordAt(times, 0.5), 1);
  assert.equal(wordAt(times, 0.999), 4);
  assert.equal(wordAt(times, 7), 4, 'past the end: the last word');
  assert.equal(wordAt([], 0.5), -1);
  // The reader tells which word is spoken as the audio plays, and clears at the end.
  const log = []; log.audios = [];
  const words = [];
  const reader = createReader({
    speak: async (text) => `data:${text}`,
    makeAudio: fakeAudio(log),
    onWord: (ts, i) => words.push(i < 0 ? null : ts[i].text),
  });
  reader.start('Een twee drie.');
  await tick(); await tick();
  const a = log.audios[0];
  a.duration = 3;
  a.currentTime = 2.5;
  await new Promise((r) => setTimeout(r, 150));
  a.end();
  await tick(); await tick();
  assert.deepEqual(words, ['Een', 'drie.', null]);
});

test('read-aloud: the kiosk\'s per-word weights place the mark; a mismatch falls back to letters', async () => {
  // The kiosk's weights (espeak-ng's phonemes): "ij" is one sound, so "wij" is short though it has three letters.
  const byKiosk = wordTimes('wij lopen', [3, 6]);
  assert.equal(byKiosk[0].end, 1 / 3);
  const byLetters = wordTimes('wij lopen');
  assert.deepEqual(wordTimes('wij lopen', [3]), byLetters, 'a weight per word or none');
  assert.deepEqual(wordTimes('wij lopen', [3, -1]), byLetters, 'only positive weights');
  // The reader uses them when the shell gives {audio, weights}.
  const log = []; log.audios = [];
  const words = [];
  const reader = createReader({
    speak: async () => ({ audio: 'data:x', weights: [1, 9] }),
    makeAudio: fakeAudio(log),
    onWord: (ts, i) => words.push(i < 0 ? null : ts[i].text),
  });
  reader.start('kort langgerekt');
  await tick(); await tick();
  const a = log.audios[0];
  assert.equal(a.url, 'data:x', 'the audio of {audio, weights}');
  a.duration = 10;
  a.currentTime = 2;
  await new Promise((r) => setTimeout(r, 150));
  a.end();
  await tick(); await tick();
  assert.deepEqual(words, ['kort', 'langgerekt', null], 'at 20 % of the audio the second word, by the weights (by letters it would be the first)');
});

test('read-aloud reader: a refusal from the shell is reported, not swallowed', async () => {
  const log = []; log.audios = [];
  const states = [];
  const reader = createReader({
    speak: async () => { throw new Error('Voorlezen is voor jou niet toegestaan.'); },
    makeAudio: fakeAudio(log),
    onState: (s, err) => states.push([s, err && err.message]),
  });
  reader.start('Hallo.');
  await tick(); await tick();
  assert.deepEqual(states, [['playing', undefined], ['failed', 'Voorlezen is voor jou niet toegestaan.']]);
  assert.equal(log.audios.length, 0);
});

test('read-aloud shortcuts: Alt+V and Alt+P by physical key, nothing else', () => {
  const k = (code, mods = {}) => readAloudKey({ code, altKey: true, ctrlKey: false, metaKey: false, shiftKey: false, ...mods });
  assert.equal(k('KeyV'), 'toggle');
  assert.equal(k('KeyP'), 'pause');
  assert.equal(k('KeyV', { altKey: false }), null, 'plain v is typing');
  assert.equal(k('KeyV', { ctrlKey: true }), null, 'Ctrl+Alt+V is AltGr on some layouts');
  assert.equal(k('KeyP', { shiftKey: true }), null);
  assert.equal(k('KeyX'), null);
});
