// The screens other than the exam itself. Each `mount(root, view, app)`
// builds its section once and returns { update(view), focus() }; update()
// changes only what changed, so focus and typed text are never lost when a
// kiosk-view event arrives.

import { h, clear, setText, announce } from './dom.js';
import { t, has, stepName, bytes, time } from '../i18n.js';
import { shell } from './bridge.js';

function screen(id, title, ...content) {
  return h('section', { id, class: 'screen', 'aria-labelledby': `${id}-title` },
    h('h1', { id: `${id}-title`, tabindex: '-1' }, title),
    content);
}

function focusTitle(root) {
  const el = root.querySelector('h1');
  if (el) el.focus();
}

/** Runs a command from a button: busy state, error into `errorEl`, then render. */
async function run(button, busyText, errorEl, app, f) {
  if (button.disabled) return;
  const text = button.textContent;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  setText(button, busyText);
  setText(errorEl, '');
  try {
    const view = await f();
    if (view && typeof view === 'object' && view.phase) app.render(view);
  } catch (err) {
    setText(errorEl, err.message);
  } finally {
    if (button.isConnected) {
      // A screen may have blocked the button meanwhile (no attempts left).
      button.disabled = button.dataset.blocked === 'true';
      button.removeAttribute('aria-busy');
      setText(button, text);
    }
  }
}

// --------------------------------------------------------------------------
// Boot and lockdown: the startup checklist.

const GLYPH = { running: '…', done: '✓', failed: '✗', waiting: '○' };

export function boot(root, view) {
  const title = h('h1', { id: 'screen-boot-title', tabindex: '-1' });
  const intro = h('p', { class: 'lead' });
  const list = h('ol', { class: 'checklist', id: 'startup-steps', 'aria-label': t('boot.steps') });
  const failure = h('div', { class: 'failure', id: 'startup-failure', role: 'alert' });
  const el = h('section', { id: 'screen-boot', class: 'screen', 'aria-labelledby': 'screen-boot-title' }, title, intro, list, failure);
  root.append(el);
  const update = (v) => {
    const failed = v.startup_failure;
    setText(title, failed ? t('boot.failed.title') : t('boot.title'));
    setText(intro, failed ? '' : t('boot.intro'));
    intro.hidden = Boolean(failed);
    el.classList.toggle('failed', Boolean(failed));
    clear(list);
    for (const s of v.startup || []) {
      const st = s.state in GLYPH ? s.state : 'waiting';
      list.append(h('li', { class: ['step', st], dataset: { step: s.step } },
        h('span', { class: 'glyph', 'aria-hidden': 'true' }, GLYPH[st]),
        h('span', { class: 'step-name' }, stepName(s.step)),
        h('span', { class: 'step-state' }, t(`step.state.${st}`))));
    }
    const key = failed ? `${failed.step}|${failed.reason}` : '';
    if (failure.dataset.key !== key) {
      failure.dataset.key = key;
      clear(failure);
      if (failed) {
        failure.append(
          h('p', { class: 'strong' }, t('boot.failed.step', { step: stepName(failed.step) })),
          h('p', {}, t('boot.failed.reason', { reason: failed.reason })),
          h('p', {}, t('boot.failed.undone')),
          h('p', { class: 'call' }, t('boot.failed.call')));
      }
    }
  };
  update(view);
  return { update, focus: () => focusTitle(el) };
}

// --------------------------------------------------------------------------
// Location check.

export function location(root, view) {
  const body = h('div', { class: 'location-body' });
  const el = screen('screen-location', t('location.title'), body);
  root.append(el);
  let last = null;
  const update = (v) => {
    const loc = v.location;
    const key = JSON.stringify(loc);
    if (key === last) return;
    last = key;
    clear(body);
    el.classList.toggle('refused', Boolean(loc && !loc.approved));
    if (!loc) {
      body.append(h('p', { class: 'lead', role: 'status' }, t('location.checking')));
    } else if (loc.approved) {
      body.append(h('p', { class: 'lead ok', role: 'status' }, h('span', { 'aria-hidden': 'true' }, '✓ '), t('location.approved')),
        loc.location ? h('p', { class: 'big' }, t('location.room', { room: loc.location })) : null);
    } else {
      body.append(h('div', { role: 'alert', class: 'failure' },
        h('h2', {}, t('location.refused')),
        loc.failed && loc.failed.length ? [h('p', {}, t('location.failed.intro')), h('ul', { class: 'failed-list' }, loc.failed.map((f) => h('li', {}, f)))] : null,
        h('p', { class: 'call' }, t('location.call'))));
    }
  };
  update(view);
  return { update, focus: () => focusTitle(el) };
}

// --------------------------------------------------------------------------
// Login.

function field(id, label, input, hint) {
  const hintId = hint ? `${id}-hint` : null;
  if (hintId) input.setAttribute('aria-describedby', hintId);
  return h('div', { class: 'field' }, h('label', { for: id }, label), hint ? h('p', { class: 'hint', id: hintId }, hint) : null, input);
}

export function login(root, view, app) {
  const number = h('input', { id: 'student-number', name: 'student-number', type: 'text', inputmode: 'numeric', autocomplete: 'off', autocapitalize: 'off', spellcheck: 'false', required: true });
  const code = h('input', { id: 'access-code', name: 'access-code', type: 'password', autocomplete: 'off', autocapitalize: 'off', spellcheck: 'false', required: true });
  const room = h('input', { id: 'room-code', name: 'room-code', type: 'text', inputmode: 'numeric', autocomplete: 'off', autocapitalize: 'characters', spellcheck: 'false', required: true });
  const roomField = field('room-code', t('login.room'), room, t('login.room.hint'));
  const error = h('div', { id: 'login-error', class: 'error', role: 'alert' });
  const submit = h('button', { type: 'submit', id: 'login-submit', class: 'primary' }, t('login.submit'));
  const form = h('form', { id: 'login-form', class: 'form', novalidate: true },
    field('student-number', t('login.student'), number, t('login.student.hint')),
    field('access-code', t('login.code'), code),
    roomField,
    error,
    submit);
  const el = screen('screen-login', t('login.title'), h('p', { class: 'lead' }, t('login.intro')), form);
  root.append(el);
  let current = view;
  let lastError = null;
  for (const input of [code, room]) input.addEventListener('input', () => input.removeAttribute('aria-invalid'));

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const needsRoom = Boolean(current.needs_room_code);
    const s = number.value.trim();
    const c = code.value.trim();
    const r = room.value.trim();
    if (!s || !c) {
      setText(error, t('login.required'));
      (s ? code : number).focus();
      return;
    }
    if (needsRoom && !r) {
      setText(error, t('login.room.required'));
      room.focus();
      return;
    }
    run(submit, t('login.busy'), error, app, () => shell.login(s, c, needsRoom ? r : null)).then(() => {
      if (!code.isConnected || !error.textContent) return;
      // Still asking for the room code: the code was what failed (the hub is
      // asked only once the location holds), so the access code stays.
      const wrong = current.needs_room_code ? room : code;
      wrong.value = '';
      wrong.setAttribute('aria-invalid', 'true');
      wrong.focus();
    });
  });

  const update = (v) => {
    current = v;
    roomField.hidden = !v.needs_room_code;
    room.disabled = !v.needs_room_code;
    const le = v.login_error;
    const key = le ? JSON.stringify(le) : null;
    if (key !== lastError) {
      lastError = key;
      clear(error);
      if (le) {
        error.append(h('span', {}, le.message));
        if (le.remaining_attempts !== null && le.remaining_attempts !== undefined) {
          error.append(' ', h('strong', { id: 'login-attempts' }, t('login.attempts', { n: le.remaining_attempts })));
        }
      }
      const blocked = Boolean(le && le.remaining_attempts === 0);
      submit.dataset.blocked = String(blocked);
      if (submit.getAttribute('aria-busy') !== 'true') submit.disabled = blocked;
    }
  };
  update(view);
  return { update, focus: () => number.focus() };
}

// --------------------------------------------------------------------------
// Assignment confirmation.

export function assignment(root, view, app) {
  const a = view.assignment || {};
  const acc = a.accommodations || {};
  // In the student's language: a tool the UI has no words for keeps its id.
  const toolText = (id) => (has(`tool.${id}`) ? t(`tool.${id}`) : id);
  const accText = [acc.text_size ? t(`assignment.acc.${acc.text_size}`) : null, acc.contrast ? t(`assignment.acc.${acc.contrast}`) : null, ...(acc.tools || []).map(toolText)].filter(Boolean);
  const row = (label, value, id) => [h('dt', {}, label), h('dd', { id }, value)];
  const error = h('div', { id: 'assignment-error', class: 'error', role: 'alert' });
  const confirm = h('button', { type: 'button', id: 'confirm-assignment', class: 'primary' }, t('assignment.confirm'));
  confirm.addEventListener('click', () => run(confirm, t('unlock.busy'), error, app, () => shell.confirmAssignment()));
  const el = screen('screen-assignment', t('assignment.title'),
    h('p', { class: 'lead' }, t('assignment.intro')),
    h('dl', { class: 'facts' },
      row(t('assignment.name'), view.student ? view.student.name : '', 'assignment-name'),
      row(t('assignment.number'), view.student ? view.student.number : '', 'assignment-number'),
      row(t('assignment.exam'), a.exam || '', 'assignment-exam'),
      row(t('assignment.room'), a.room || '', 'assignment-room'),
      row(t('assignment.duration'), t('assignment.duration.value', { total: a.total_minutes ?? a.duration_minutes, base: a.duration_minutes, extra: a.extra_minutes || 0 }), 'assignment-duration'),
      a.start_ms ? row(t('assignment.start'), time(a.start_ms), 'assignment-start') : null,
      row(t('assignment.accommodations'), accText.length ? accText.join(', ') : t('assignment.acc.none'), 'assignment-accommodations'),
      row(t('assignment.tools.all'), t('assignment.tools.all.value'), 'assignment-tools-all')),
    h('p', { class: 'hint' }, t('assignment.wrong')),
    error,
    confirm);
  root.append(el);
  return { update() {}, focus: () => focusTitle(el) };
}

// --------------------------------------------------------------------------
// Download.

export function download(root, view, app) {
  const progress = h('progress', { id: 'download-progress', 'aria-labelledby': 'download-label', 'aria-describedby': 'download-text' });
  const text = h('p', { id: 'download-text', class: 'progress-text' });
  const error = h('div', { id: 'download-error', class: 'error', role: 'alert' });
  const retry = h('button', { type: 'button', id: 'download-retry', class: 'primary', hidden: true }, t('download.retry'));
  const el = screen('screen-download', t('download.title'),
    h('p', { class: 'lead' }, t('download.intro')),
    h('p', { id: 'download-label', class: 'field-label' }, t('download.progress')),
    progress,
    text,
    error,
    retry);
  root.append(el);
  retry.addEventListener('click', () => run(retry, t('download.busy'), error, app, () => shell.confirmAssignment()));
  let lastPct = -1;
  const update = (v) => {
    // An interrupted download: say why, keep the progress, offer to try again.
    if (retry.getAttribute('aria-busy') !== 'true') {
      setText(error, v.download_error || '');
      retry.hidden = !v.download_error;
    }
    const d = v.download;
    if (!d || !d.total_bytes) {
      progress.removeAttribute('value');
      setText(text, t('download.unknown'));
      return;
    }
    const done = Math.min(d.done_bytes, d.total_bytes);
    progress.max = d.total_bytes;
    progress.value = done;
    const pct = Math.floor((done / d.total_bytes) * 100);
    progress.setAttribute('aria-valuetext', `${pct}%`);
    if (pct !== lastPct) {
      lastPct = pct;
      setText(text, t('download.bytes', { done: bytes(done), total: bytes(d.total_bytes), pct }));
    }
  };
  update(view);
  return { update, focus: () => focusTitle(el) };
}

// --------------------------------------------------------------------------
// Waiting for the start.

export function waiting(root, view, app) {
  const a = view.assignment || {};
  const error = h('div', { id: 'start-error', class: 'error', role: 'alert' });
  const start = h('button', { type: 'button', id: 'start-exam', class: 'primary big' }, t('waiting.button'));
  start.addEventListener('click', () => run(start, t('unlock.busy'), error, app, () => shell.startExam()));
  const el = screen('screen-waiting', t('waiting.title'),
    h('p', { class: 'lead' }, t('waiting.intro')),
    a.exam ? h('p', { class: 'big' }, a.exam) : null,
    a.start_ms ? h('p', {}, t('waiting.start_at', { time: time(a.start_ms) })) : null,
    error,
    start,
    h('p', { class: 'hint' }, t('waiting.tips')));
  root.append(el);
  return { update() {}, focus: () => focusTitle(el) };
}

// --------------------------------------------------------------------------
// Lock screen and resume, both with the invigilator's form.

function unlockForm(app, submitText, resume = false) {
  const pin = h('input', { id: 'unlock-pin', name: 'unlock-pin', type: 'password', inputmode: 'numeric', autocomplete: 'off', required: true });
  const reason = h('textarea', { id: 'unlock-reason', name: 'unlock-reason', rows: '2', autocomplete: 'off', required: true });
  const error = h('div', { id: 'unlock-error', class: 'error', role: 'alert' });
  const submit = h('button', { type: 'submit', id: 'unlock-submit', class: 'primary' }, submitText);
  const form = h('form', { id: 'unlock-form', class: 'form unlock', novalidate: true, 'aria-labelledby': 'unlock-title' },
    h('h2', { id: 'unlock-title' }, t('unlock.title')),
    h('p', { class: 'hint' }, t(resume ? 'unlock.resume.intro' : 'unlock.intro')),
    field('unlock-pin', t('unlock.pin'), pin),
    field('unlock-reason', t('unlock.reason'), reason, t(resume ? 'unlock.resume.reason.hint' : 'unlock.reason.hint')),
    error,
    submit);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!pin.value || !reason.value.trim()) {
      setText(error, t('unlock.required'));
      (pin.value ? reason : pin).focus();
      return;
    }
    run(submit, t('unlock.busy'), error, app, () => shell.unlock(pin.value, reason.value.trim())).then(() => {
      if (pin.isConnected) {
        pin.value = '';
        if (error.textContent) pin.focus();
      }
    });
  });
  let lastError = null;
  return {
    form,
    update(v) {
      if (v.unlock_error !== lastError) {
        lastError = v.unlock_error;
        setText(error, v.unlock_error || '');
      }
    },
  };
}

export function locked(root, view, app) {
  const what = h('p', { id: 'lock-reason', class: 'lock-reason' });
  const clock = h('p', { id: 'lock-clock' });
  const unlock = unlockForm(app, t('unlock.submit'));
  const el = h('section', { id: 'screen-locked', class: 'screen locked with-unlock', 'aria-labelledby': 'screen-locked-title' },
    h('div', { class: 'lock-message', role: 'alert' },
      h('h1', { id: 'screen-locked-title', tabindex: '-1' }, h('span', { class: 'lock-icon', 'aria-hidden': 'true' }, '⚠'), ' ', t('locked.title')),
      h('h2', {}, t('locked.what')),
      what,
      h('p', {}, t('locked.safe')),
      clock,
      h('p', { class: 'call' }, t('locked.call'))),
    unlock.form);
  root.append(el);
  const update = (v) => {
    setText(what, v.lock_reason || t('locked.generic'));
    setText(clock, v.remaining_secs === null || v.remaining_secs === undefined ? '' : v.clock_paused ? t('locked.clock.stopped') : t('locked.clock.runs'));
    unlock.update(v);
  };
  update(view);
  return { update, focus: () => focusTitle(el) };
}

export function resume(root, view, app) {
  const unlock = unlockForm(app, t('unlock.resume.submit'), true);
  const el = h('section', { id: 'screen-resume', class: 'screen with-unlock', 'aria-labelledby': 'screen-resume-title' },
    h('div', {},
      h('h1', { id: 'screen-resume-title', tabindex: '-1' }, t('resume.title')),
      h('p', { class: 'lead' }, t('resume.intro')),
      view.student ? h('p', { class: 'big', id: 'resume-student' }, view.student.name ? `${view.student.name} (${view.student.number})` : view.student.number) : null,
      view.assignment ? h('p', {}, view.assignment.exam) : null,
      h('p', { class: 'call' }, t('resume.wait'))),
    unlock.form);
  root.append(el);
  unlock.update(view);
  return { update: (v) => unlock.update(v), focus: () => focusTitle(el) };
}

// --------------------------------------------------------------------------
// Handing in: the answers are final, the hub's receipt has not come yet
// (an upload that failed is tried again by the kiosk; the status says so).

export function handingIn(root, view) {
  const status = h('p', { id: 'handing-in-status', role: 'status' });
  const el = screen('screen-handing-in', t('handing_in.title'),
    h('p', { class: 'lead' }, t('handing_in.intro')),
    status);
  root.append(el);
  const update = (v) => {
    const st = v.sync && v.sync.state;
    status.dataset.state = st || '';
    if (st === 'refused') setText(status, t('handing_in.refused'));
    else if (st === 'offline') setText(status, t('handing_in.offline'));
    else setText(status, t('handing_in.sending'));
  };
  update(view);
  return { update, focus: () => focusTitle(el) };
}

// --------------------------------------------------------------------------
// Submitted.

export function submitted(root, view) {
  const receiptBox = h('div', { class: 'receipt' });
  const el = screen('screen-submitted', t('submitted.title'),
    h('p', { class: 'lead ok' }, h('span', { 'aria-hidden': 'true' }, '✓ '), t('submitted.intro')),
    receiptBox,
    h('p', {}, t('submitted.leave')));
  root.append(el);
  let last;
  let first = true;
  const update = (v) => {
    if (!first && v.receipt === last) return;
    last = v.receipt;
    clear(receiptBox);
    if (v.receipt) {
      receiptBox.append(
        h('p', { class: 'receipt-label', id: 'receipt-label' }, t('submitted.receipt')),
        h('p', { id: 'receipt-code', class: 'receipt-code' }, v.receipt),
        h('p', { class: 'hint' }, t('submitted.receipt.hint')));
      if (!first) announce(`${t('submitted.receipt')}: ${v.receipt}`);
    } else {
      receiptBox.append(h('p', { role: 'status' }, t('submitted.pending')));
    }
    first = false;
  };
  update(view);
  return { update, focus: () => focusTitle(el) };
}

export const SCREENS = {
  boot,
  lockdown: boot,
  // BYOD: when only the room code is missing, the login form asks for it.
  location_check: (root, view, app) => (view.needs_room_code ? login(root, view, app) : location(root, view, app)),
  login,
  assignment,
  download,
  waiting_for_start: waiting,
  handing_in: handingIn,
  submitted,
  locked,
  resume,
};
