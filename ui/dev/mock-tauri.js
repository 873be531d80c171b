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
