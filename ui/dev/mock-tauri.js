// A scripted stand-in for window.__TAURI__ (NOT loaded by the app).
//
// preview.html?state=login            start in a named state (see states.js)
//             &instrument=examples     use a real render model (render-fixtures.sh)
//             &lang=en                 (the UI's own toggle is the real switch)
//             &page=2                  the exam opens on that page (view.page)
//             &flow=1                  interactive flow: login 1234567 / demo,
//                                      invigilator PIN 1234
// window.__mock.emit(view)             push a kiosk-view event
// window.__mock.state(name, patch)     push a named state (with changes)
// window.__mock.calls / .saved         what the UI sent
(function () {
  'use strict';
  // Inside the real shell (ui/ is bundled whole, dev/ included) never stand
  // in for it: leave the real window.__TAURI__ alone.
  if (window.__TAURI__ || window.__TAURI_INTERNALS__) return;
  // tauri.conf.json has "freezePrototype": true; do the same here.
  Object.freeze(Object.prototype);
  const params = new URLSearchParams(location.search);
  const states = window.__MOCK_STATES;
  const clone = (x) => JSON.parse(JSON.stringify(x));
  // &instrument=NAME: use kiosk-core's real render model from
  // dev/fixtures/NAME.json (written by render-fixtures.sh) in every state.
  const fixture = params.get('instrument');
  if (fixture) {
    const xhr = new XMLHttpRequest();
    xhr.open('GET', `fixtures/${encodeURIComponent(fixture)}.json`, false);
    xhr.send();
    if (xhr.status === 200) {
      const real = JSON.parse(xhr.responseText);
      for (const s of Object.values(states)) if (s.instrument) s.instrument = real;
    }
  }
  let view = clone(states[params.get('state') || 'boot'] || states.boot);
  // &page=N: the exam opens on page N (as after a resume: view.page).
  if (params.get('page') && view.phase === 'in_exam') view.page = Number(params.get('page'));
  const listeners = [];
  const calls = [];
  const saved = [];
  let seq = 0;
  let attempts = 3;

  function emit(next) {
    view = clone(next);
    for (const f of listeners) setTimeout(() => f({ event: 'kiosk-view', payload: clone(view) }), 0);
    return clone(view);
  }
  function patch(o) {
    return emit(Object.assign({}, view, o));
  }
  function later(ms, f) {
    return new Promise((resolve) => setTimeout(() => resolve(f()), ms));
  }

  const commands = {
    view: () => clone(view),
    ui_ready: () => null,
    login: ({ studentNumber, accessCode, roomCode }) => {
      if (view.phase !== 'login') throw 'Inloggen is nu niet mogelijk.';
      if (view.needs_room_code && !roomCode) throw 'Lokaalcode ontbreekt.';
      if (studentNumber === '1234567' && accessCode === 'demo') {
        return later(300, () => patch(Object.assign(clone(states.assignment), { demo: view.demo })));
      }
      attempts = Math.max(0, attempts - 1);
      return later(300, () => patch({ login_error: { message: 'Studentnummer of toegangscode klopt niet.', remaining_attempts: attempts } }));
    },
    confirm_assignment: () => {
      const s = clone(states.download);
      s.download = { done_bytes: 0, total_bytes: 8200000 };
      const r = patch(s);
      let done = 0;
      const timer = setInterval(() => {
        done = Math.min(8200000, done + 1400000);
        if (done >= 8200000) {
          clearInterval(timer);
          emit(clone(states.waiting));
        } else {
          patch({ download: { done_bytes: done, total_bytes: 8200000 } });
        }
      }, 250);
      return r;
    },
    start_exam: () => patch(Object.assign(clone(states.exam), { phase: 'in_exam' })),
    save_answer: ({ itemId, value }) => {
      if (view.phase !== 'in_exam') throw 'Antwoorden kunnen nu niet worden opgeslagen.';
      seq += 1;
      saved.push({ itemId, value: clone(value), seq, at: Date.now() });
      view.answers = Object.assign({}, view.answers, { [itemId]: clone(value) });
      if (view.sync.state !== 'offline') {
        patch({ sync: { state: 'syncing', pending: 1 } });
        setTimeout(() => patch({ sync: { state: 'saved', pending: 0 } }), 400);
      }
      return { saved: true, seq };
    },
    // Scratchpad and highlights (issue 19): kept like the kiosk keeps them.
    save_note: ({ itemId, note, value }) => {
      if (view.phase !== 'in_exam') throw 'Antwoorden kunnen nu niet worden opgeslagen.';
      seq += 1;
      const notes = Object.assign({}, view.notes);
      const ofItem = Object.assign({}, notes[itemId]);
      if (value === null) delete ofItem[note];
      else ofItem[note] = clone(value);
      if (Object.keys(ofItem).length) notes[itemId] = ofItem;
      else delete notes[itemId];
      view.notes = notes;
      return { saved: true, seq };
    },
    // The Dutch spell-check (issue 19). A stand-in for pictures only: it
    // knows two misspellings; the kiosk's is hunspell-nl (tools/spell.rs).
    // Like the kiosk, it checks the saved answer of the item, not a text from the page.
    spell_check: ({ itemId }) => {
      if (!(view.tools && view.tools.spell_check)) throw 'Je hebt geen spellingcontrole bij dit examen.';
      if ((view.tools.no_spell_check || []).includes(itemId)) throw 'Bij deze vraag staat de spellingcontrole uit.';
      const text = Object.values((view.answers || {})[itemId] || {}).filter((v) => typeof v === 'string').join('\n');
      const known = { fietsenstaling: ['fietsenstalling', 'fietsenstaking'], exsamen: ['examen', 'examens'] };
      const out = [];
      for (const m of text.matchAll(/\p{L}+/gu)) if (known[m[0]]) out.push({ start: m.index, end: m.index + m[0].length, word: m[0], suggestions: known[m[0]] });
      return out;
    },
    // The calculator (issue 19). A stand-in for pictures and the keyboard
    // walk only: it computes in binary floats (the kiosk's arithmetic is
    // kiosk-core's exact decimals) and knows + − × ÷ ( ) only.
    calculate: ({ itemId, expression }) => {
      const kind = view.tools && view.tools.calculators && view.tools.calculators[itemId];
      if (view.phase !== 'in_exam') throw 'De rekenmachine werkt alleen tijdens het examen.';
      if (!kind) throw 'Bij deze vraag mag je geen rekenmachine gebruiken.';
      const src = String(expression).replace(/,/g, '.').replace(/×/g, '*').replace(/÷/g, '/').replace(/−/g, '-').replace(/\s+/g, '');
      let i = 0;
      const fail = (m) => { throw `${m} (bij teken ${i + 1})`; };
      const num = () => {
        if (src[i] === '(') { i += 1; const v = sum(); if (src[i] !== ')') fail('Onvolledige berekening'); i += 1; return v; }
        if (src[i] === '-') { i += 1; return -num(); }
        const m = /^\d*\.?\d+|^\d+\.?/.exec(src.slice(i));
        if (!m) fail('Onvolledige berekening');
        i += m[0].length;
        return Number(m[0]);
      };
      const product = () => {
        let v = num();
        while (src[i] === '*' || src[i] === '/') {
          const op = src[i]; i += 1; const at = i - 1; const r = num();
          if (op === '/' && r === 0) { i = at; fail('Delen door nul kan niet'); }
          v = op === '*' ? v * r : v / r;
        }
        return v;
      };
      const sum = () => {
        let v = product();
        while (src[i] === '+' || src[i] === '-') { const op = src[i]; i += 1; const r = product(); v = op === '+' ? v + r : v - r; }
        return v;
      };
      const v = sum();
      if (i < src.length) fail('Hier verwachtte de rekenmachine een bewerking (+, −, ×, ÷)');
      const shown = String(Number(v.toPrecision(12)));
      return { value: shown, display: shown.replace('.', ',').replace('-', '−') };
    },
    exam_position: ({ page }) => {
      if (view.phase !== 'in_exam') throw 'Er is geen examen geopend.';
      view.page = page;
      return null;
    },
    submit: () => later(400, () => patch({ phase: 'submitted', receipt: 'K7QF-29XM', instrument: null })),
    unlock: ({ pin, reason }) => {
      if (pin !== '1234') return patch({ unlock_error: 'Pincode onjuist.' });
      if (!reason) throw 'Reden ontbreekt.';
      return patch({ phase: 'in_exam', lock_reason: null, unlock_error: null, clock_paused: null });
    },
  };

  // read_aloud: the kiosk speaks with espeak-ng; the preview plays a short
  // tone per part (one 440 Hz beep, 8 kHz 16-bit mono WAV) so the controls work.
  commands.read_aloud = ({ text, rate }) => {
    if (!text || !text.trim()) throw 'de tekst is leeg';
    const n = 8000 * Math.min(2, 0.2 + text.length / 200);
    const bytes = new Uint8Array(44 + n * 2);
    const dv = new DataView(bytes.buffer);
    const ascii = (at, s) => [...s].forEach((c, i) => dv.setUint8(at + i, c.charCodeAt(0)));
    ascii(0, 'RIFF'); dv.setUint32(4, 36 + n * 2, true); ascii(8, 'WAVEfmt ');
    dv.setUint32(16, 16, true); dv.setUint16(20, 1, true); dv.setUint16(22, 1, true);
    dv.setUint32(24, 8000, true); dv.setUint32(28, 16000, true); dv.setUint16(32, 2, true); dv.setUint16(34, 16, true);
    ascii(36, 'data'); dv.setUint32(40, n * 2, true);
    for (let i = 0; i < n; i += 1) dv.setInt16(44 + i * 2, Math.round(6000 * Math.sin((2 * Math.PI * 440 * i) / 8000)), true);
    let bin = '';
    for (const b of bytes) bin += String.fromCharCode(b);
    calls.push({ name: 'read_aloud.rate', args: rate });
    return `data:audio/wav;base64,${btoa(bin)}`;
  };

  window.__TAURI__ = {
    core: {
      invoke(name, args) {
        calls.push({ name, args: args === undefined ? null : clone(args) });
        const f = commands[name];
        if (!f) return Promise.reject(`unknown command ${name}`);
        try {
          return Promise.resolve(f(args || {}));
        } catch (e) {
          return Promise.reject(e);
        }
      },
    },
    event: {
      listen(name, f) {
        if (name === 'kiosk-view') listeners.push(f);
        return Promise.resolve(() => {});
      },
    },
  };

  window.__mock = {
    calls,
    saved,
    emit,
    patch,
    state: (name, o) => emit(Object.assign(clone(states[name]), o || {})),
    view: () => clone(view),
  };
})();
