// Entry point: builds the page frame, listens for `kiosk-view`, and renders
// the screen for view.phase. The UI decides nothing: it shows the view, and
// sends what the student or invigilator does as commands.

import { h, clear, setText, announce } from './dom.js';
import { t, lang, setLang, onLangChange } from '../i18n.js';
import { shell } from './bridge.js';
import { installLockdown } from './lockdown.js';
import { SCREENS } from './screens.js';
import { mountExam, pendingSaves, resetExam } from './exam.js';

const SYNC_PHASES = new Set(['in_exam', 'handing_in', 'locked', 'submitted', 'resume']);
const TIMER_PHASES = new Set(['in_exam', 'locked']);
const ANNOUNCE_AT_SECS = [600, 300];

let lastView = null;
let current = { phase: null, screen: null };
let localPending = 0;

// ---------------------------------------------------------------------------
// The frame: demo banner, header (title, timer, sync, language), main, live regions.

const demoBanner = h('div', { id: 'demo-banner', class: 'demo-banner', hidden: true });
const testBanner = h('div', { id: 'test-banner', class: 'demo-banner', hidden: true });
const brand = h('span', { class: 'brand', id: 'brand' });
const examTitle = h('span', { class: 'exam-title', id: 'header-exam' });
const timerValue = h('span', { class: 'timer-value', id: 'timer-value' });
const timerLabel = h('span', { class: 'timer-label', id: 'timer-label' });
const timerNote = h('span', { class: 'timer-note', id: 'timer-note' });
const timer = h('div', { id: 'timer', class: 'timer', role: 'timer', 'aria-labelledby': 'timer-label timer-value timer-note', hidden: true }, timerLabel, timerValue, timerNote);
const syncGlyph = h('span', { class: 'sync-glyph', 'aria-hidden': 'true' });
const syncText = h('span', { class: 'sync-text' });
const sync = h('div', { id: 'sync-status', class: 'sync', hidden: true }, syncGlyph, syncText);
const langButton = h('button', { type: 'button', id: 'lang-toggle', class: 'lang-toggle secondary small' });
const header = h('header', { class: 'app-header' },
  demoBanner,
  testBanner,
  h('div', { class: 'header-bar' },
    h('div', { class: 'header-start' }, brand, examTitle),
    h('div', { class: 'header-end' }, timer, sync, langButton)));
const noticeText = h('p', { id: 'notice-text' });
const noticeClose = h('button', { type: 'button', id: 'notice-dismiss', class: 'secondary small' });
// role=alert: screen readers announce a notice as soon as it appears.
const notice = h('div', { id: 'notice', class: 'notice', role: 'alert', hidden: true }, noticeText, noticeClose);
const main = h('main', { id: 'main', tabindex: '-1' });
const livePolite = h('div', { id: 'live-polite', class: 'sr-only', 'aria-live': 'polite', 'aria-atomic': 'true' });
const liveAssertive = h('div', { id: 'live-assertive', class: 'sr-only', 'aria-live': 'assertive', 'aria-atomic': 'true' });

function buildFrame() {
  const app = document.getElementById('app');
  clear(app);
  app.append(header, notice, main, livePolite, liveAssertive);
  langButton.addEventListener('click', () => setLang(lang() === 'nl' ? 'en' : 'nl'));
  // Dismissing only hides it here; the journal keeps the event.
  noticeClose.addEventListener('click', () => {
    notice.hidden = true;
    main.focus();
  });
  frameText();
}

function frameText() {
  setText(brand, t('app.title'));
  setText(timerLabel, t('timer.label'));
  setText(langButton, t('lang.switch'));
  setText(noticeClose, t('notice.dismiss'));
  langButton.setAttribute('lang', lang() === 'nl' ? 'en' : 'nl');
  langButton.setAttribute('aria-label', t('lang.switch.label'));
  clear(demoBanner);
  demoBanner.append(h('strong', {}, t('app.demo')), ' ', h('span', {}, t('app.demo.long')));
  clear(testBanner);
  testBanner.append(h('strong', {}, t('app.test')), ' ', h('span', {}, t('app.test.long')));
}

// ---------------------------------------------------------------------------
// Accommodations: classes on <html>.

function applyAccommodations(view) {
  const acc = (view.assignment && view.assignment.accommodations) || {};
  const root = document.documentElement.classList;
  root.toggle('text-large', acc.text_size === 'large');
  root.toggle('text-x-large', acc.text_size === 'x-large');
  root.toggle('contrast-high', acc.contrast === 'high');
}

// ---------------------------------------------------------------------------
// Timer: counts down locally between views, resynchronised by every view.

const clock = { secs: null, at: 0, paused: null, shown: null };

function formatSecs(s) {
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  const two = (n) => String(n).padStart(2, '0');
  return hh > 0 ? `${hh}:${two(mm)}:${two(ss)}` : `${two(mm)}:${two(ss)}`;
}

function tick() {
  if (clock.secs === null) return;
  const elapsed = clock.paused ? 0 : Math.floor((performance.now() - clock.at) / 1000);
  const secs = Math.max(0, clock.secs - elapsed);
  const prev = clock.shown;
  clock.shown = secs;
  setText(timerValue, formatSecs(secs));
  timer.classList.toggle('warning', secs <= 300);
  timer.classList.toggle('paused', Boolean(clock.paused));
  if (prev !== null && current.phase === 'in_exam') {
    for (const at of ANNOUNCE_AT_SECS) {
      if (prev > at && secs <= at) announce(t('timer.announce', { min: at / 60 }));
    }
    if (prev > 0 && secs === 0) announce(t('timer.over'));
  }
}

function updateClock(view) {
  const show = TIMER_PHASES.has(view.phase) && view.remaining_secs !== null && view.remaining_secs !== undefined;
  timer.hidden = !show;
  if (!show) {
    clock.secs = null;
    clock.shown = null;
    return;
  }
  clock.secs = view.remaining_secs;
  clock.at = performance.now();
  clock.paused = view.clock_paused || null;
  setText(timerNote, clock.paused ? ` — ${t(`timer.paused.${clock.paused}`)}` : '');
  tick();
}

// ---------------------------------------------------------------------------
// Sync indicator: the shell's sync state plus saves still on their way to it.

let lastSyncState = null;

function updateSync(view) {
  const show = SYNC_PHASES.has(view.phase) && view.sync;
  sync.hidden = !show;
  if (!show) return;
  const st = view.sync.state;
  let glyph = '✓';
  let text = t('sync.saved');
  if (localPending > 0 || st === 'syncing') {
    glyph = '↻';
    text = localPending > 0 ? t('sync.local') : t('sync.syncing');
  }
  if (st === 'offline' || st === 'refused') {
    glyph = '⚠';
    text = t(`sync.${st}`);
  }
  const stopped = st === 'offline' || st === 'refused';
  sync.className = `sync ${stopped ? 'offline' : localPending > 0 || st === 'syncing' ? 'syncing' : 'saved'}`;
  // For tests: wait for #sync-status[data-local-pending="0"] before assuming
  // every answer reached the shell.
  sync.dataset.localPending = String(localPending);
  sync.dataset.state = st;
  setText(syncGlyph, glyph);
  setText(syncText, stopped && view.sync.pending ? `${text} (${t('sync.pending', { n: view.sync.pending })})` : text);
  if (lastSyncState && lastSyncState !== st) {
    if (stopped) announce(t(`sync.announce.${st}`));
    else if (lastSyncState === 'offline' || lastSyncState === 'refused') announce(t('sync.announce.online'));
  }
  lastSyncState = st;
}

// ---------------------------------------------------------------------------
// Notice: something refused or failing that does not lock the exam.

let lastNotice = null;

function updateNotice(view) {
  const kind = view.notice || null;
  if (kind !== lastNotice || (kind && notice.dataset.lang !== lang())) {
    // A new notice shows again even if the previous one was dismissed.
    notice.hidden = !kind;
    notice.dataset.kind = kind || '';
    notice.dataset.lang = lang();
    setText(noticeText, kind ? t(`notice.${kind}`) : '');
  }
  lastNotice = kind;
}

// ---------------------------------------------------------------------------
// Rendering.

function mountScreen(view) {
  if (current.screen && current.screen.unmount) current.screen.unmount();
  clear(main);
  main.className = `phase-${view.phase}`;
  if (view.phase === 'in_exam') {
    current.screen = mountExam(main, view, {
      onSaveState: (n) => {
        localPending = n;
        if (lastView) updateSync(lastView);
      },
      render,
    });
  } else {
    const mount = SCREENS[view.phase];
    if (mount) {
      current.screen = mount(main, view, { render });
    } else {
      main.append(h('section', { id: 'screen-unknown', class: 'screen' }, h('h1', { tabindex: '-1' }, t('phase.unknown'))));
      current.screen = { update() {}, focus() {} };
    }
  }
  current.phase = view.phase;
}

export function render(view) {
  if (!view || typeof view !== 'object' || !view.phase) return;
  lastView = view;
  document.body.classList.toggle('demo', Boolean(view.demo));
  demoBanner.hidden = !view.demo;
  testBanner.hidden = !view.test_automation || Boolean(view.demo);
  applyAccommodations(view);
  setText(examTitle, view.assignment && view.assignment.exam ? view.assignment.exam : '');
  document.title = view.assignment && view.assignment.exam ? `${view.assignment.exam} — ${t('app.title')}` : t('app.title');
  updateClock(view);
  updateSync(view);
  updateNotice(view);
  if (view.phase === 'submitted' && current.phase !== 'submitted') resetExam();
  if (view.phase !== current.phase) {
    mountScreen(view);
    current.screen.focus();
  } else {
    current.screen.update(view);
  }
}

function showNoShell() {
  clear(main);
  main.append(h('section', { id: 'screen-error', class: 'screen' }, h('h1', { tabindex: '-1' }, t('error.no_shell'))));
}

onLangChange(() => {
  frameText();
  if (!lastView) return;
  // Rebuild the current screen in the new language (exam state is kept).
  const phase = lastView.phase;
  current.phase = null;
  render(lastView);
  current.phase = phase;
  langButton.focus();
});

/**
 * A frame the page's content security policy stopped (a web instrument's
 * frame sent to a foreign origin): the browser stops it without asking the
 * shell, so the page tells the shell, which journals it.
 */
function reportRefusedFrames() {
  document.addEventListener('securitypolicyviolation', (e) => {
    const directive = e.effectiveDirective || e.violatedDirective || '';
    if (!directive.startsWith('frame-src') && !directive.startsWith('child-src')) return;
    if (shell.available()) shell.navigationRefused(String(e.blockedURI || ''), directive).catch(() => {});
  });
}

async function start() {
  document.documentElement.lang = lang();
  installLockdown();
  reportRefusedFrames();
  buildFrame();
  setInterval(tick, 1000);
  if (!shell.available()) {
    showNoShell();
    return;
  }
  try {
    await shell.onView(render);
    render(await shell.view());
    // Reported once the first screen has been painted (two animation frames
    // after rendering it): `cargo xtask bench kiosk` times start → this.
    await new Promise((painted) => requestAnimationFrame(() => requestAnimationFrame(painted)));
    await shell.uiReady();
  } catch (err) {
    showNoShell();
    announce(t('error.generic', { msg: err.message }), true);
  }
}

start();
