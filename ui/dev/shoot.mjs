// Preview check of the kiosk UI (NOT part of the app): screenshots of every
// screen, axe-core accessibility checks, CSP/console errors, and a scripted
// keyboard walk through the whole flow, in headless Chromium.
//
//   mkdir -p /tmp/ui-tools && cd /tmp/ui-tools && npm init -y && npm install axe-core playwright-core
//   python3 -m http.server 8765 --bind 127.0.0.1 --directory ui &
//   node ui/dev/shoot.mjs [--out /tmp/ui-shots] [--only exam,login] [--instrument fidelity]
//
// Env: UI_TOOLS (default /tmp/ui-tools), UI_BASE (default
// http://127.0.0.1:8765/dev/preview.html), CHROMIUM (default /usr/bin/chromium).
// Exit status 1 when an axe violation, a console error or a flow step fails.

import { createRequire } from 'node:module';
import { mkdirSync, readFileSync, readdirSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const tools = process.env.UI_TOOLS || '/tmp/ui-tools';
const require = createRequire(join(tools, 'package.json'));
const { chromium } = require('playwright-core');
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const out = opt('--out', '/tmp/ui-shots');
const only = opt('--only', null);
const base = process.env.UI_BASE || 'http://127.0.0.1:8765/dev/preview.html';
mkdirSync(out, { recursive: true });

const SHOTS = [
  ['boot', 'boot'], ['boot_failed', 'boot_failed'],
  ['location_checking', 'location_checking'], ['location_ok', 'location_ok'], ['location_refused', 'location_refused'],
  ['login', 'login'], ['login_test_automation', 'login_test_automation'], ['login_byod', 'login_byod'], ['login_error', 'login_error'],
  ['assignment', 'assignment'], ['download', 'download'], ['waiting', 'waiting'],
  ['exam', 'exam'], ['exam_answered', 'exam_answered'], ['exam_offline', 'exam_offline'], ['exam_refused', 'exam_refused'],
  ['exam_large', 'exam_large'], ['exam_linear', 'exam_linear'], ['exam_contrast', 'exam_contrast'],
  ['locked', 'locked'], ['locked_error', 'locked_error'], ['resume', 'resume'],
  ['handing_in', 'handing_in'], ['handing_in_offline', 'handing_in_offline'], ['submitted', 'submitted'],
];

let failures = 0;
const fail = (msg) => {
  failures += 1;
  console.log(`FAIL ${msg}`);
};

async function newPage(browser, width = 1366) {
  const page = await browser.newPage({ viewport: { width, height: 768 } });
  const errors = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP ${e.violatedDirective} ${e.blockedURI}`));
  });
  return { page, errors };
}

async function axe(page, name) {
  await page.evaluate(axeSource);
  const res = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ') + ' :: ' + n.failureSummary.split('\n').slice(0, 2).join(' ')) }));
  });
  for (const v of res) fail(`${name}: axe ${v.id} (${v.impact}) ${v.help}\n    ${v.nodes.join('\n    ')}`);
  return res.length;
}

async function shots(browser) {
  for (const [file, state] of SHOTS) {
    if (only && !only.split(',').includes(file)) continue;
    for (const lang of ['nl', 'en']) {
      if (lang === 'en' && !['login', 'exam', 'locked', 'submitted', 'boot_failed'].includes(file)) continue;
      const { page, errors } = await newPage(browser);
      await page.goto(`${base}?state=${state}`);
      await page.waitForSelector('[id^="screen-"]');
      if (lang === 'en') await page.click('#lang-toggle');
      await page.waitForTimeout(150);
      const name = lang === 'nl' ? file : `${file}.en`;
      await page.screenshot({ path: join(out, `${name}.png`) });
      const n = await axe(page, name);
      for (const e of errors) fail(`${name}: console: ${e}`);
      console.log(`shot ${name}.png${n ? ` (${n} axe violations)` : ''}`);
      await page.close();
    }
  }
}

async function itemShots(browser, instrument = null, width = 1366) {
  const { page, errors } = await newPage(browser, width);
  await page.goto(`${base}?state=exam${instrument ? `&instrument=${instrument}` : ''}`);
  const prefix = `${instrument ? `${instrument}_` : ''}${width < 1000 ? `w${width}_` : ''}`;
  await page.waitForSelector('#screen-exam');
  const refs = await page.$$eval('[data-review]', (els) => els.map((e) => e.dataset.review));
  for (const ref of refs) {
    await page.click(`[data-review="${ref}"]`);
    await page.waitForSelector(`[data-item-id="${ref}"]`);
    const file = `${prefix}item_${ref.replace(/[^\w.-]/g, '_')}.png`;
    await page.screenshot({ path: join(out, file) });
    await axe(page, file);
    await layoutChecks(page, file, width);
    console.log(`shot ${file}`);
  }
  await page.click('#layout-toggle');
  await page.screenshot({ path: join(out, `${prefix}exam_scroll.png`), fullPage: false });
  await axe(page, `${prefix}exam_scroll`);
  for (const e of errors) fail(`items: console: ${e}`);
  await page.close();
}

// Issue 18 (fidelity): what only a laid-out page shows. Item content never
// reaches under the review list (a wide table scrolls in its own box), and
// qti-layout columns stand side by side on a wide screen, stacked on a narrow one.
async function layoutChecks(page, name, width) {
  const r = await page.evaluate(() => {
    const area = document.querySelector('.exam-items').getBoundingClientRect();
    const wide = [...document.querySelectorAll('.item-body *')].filter((e) => !e.closest('.table-scroll') || e.classList.contains('table-scroll'))
      .filter((e) => e.getBoundingClientRect().right > area.right + 1).map((e) => e.tagName + '.' + e.className);
    const cols = [...document.querySelectorAll('.qti-layout-row')].map((row) => [...row.children].map((c) => Math.round(c.getBoundingClientRect().top)));
    const style = (sel, prop) => [...document.querySelectorAll(sel)].map((e) => getComputedStyle(e)[prop]);
    return {
      wide,
      cols,
      // The kiosk's own hints read left to right, also inside an RTL item.
      rtlHints: style('.item-body .hint', 'direction').filter((d) => d !== 'ltr').length,
      // Emphasis shows; a prompt is not bold as a whole.
      notItalic: style('.item-body .qti-italic, .item-body em, .item-body i', 'fontStyle').filter((v) => v !== 'italic').length,
      notBold: style('.item-body .qti-bold, .item-body strong, .item-body b', 'fontWeight').filter((v) => Number(v) < 700).length,
      boldPrompts: style('.item-body .prompt-text', 'fontWeight').filter((v) => Number(v) >= 600).length,
    };
  });
  if (r.rtlHints) fail(`${name}: ${r.rtlHints} kiosk hint(s) rendered right to left`);
  if (r.notItalic || r.notBold) fail(`${name}: emphasis lost (${r.notItalic} not italic, ${r.notBold} not bold)`);
  if (r.boldPrompts) fail(`${name}: ${r.boldPrompts} prompt(s) bold as a whole`);
  if (r.wide.length) fail(`${name}: item content reaches beyond the item area: ${r.wide.slice(0, 3).join(', ')}`);
  for (const tops of r.cols) {
    const sideBySide = tops.every((t) => t === tops[0]);
    if (width >= 1000 && !sideBySide) fail(`${name}: qti-layout columns are not side by side at ${width}px (${tops})`);
    if (width < 1000 && sideBySide) fail(`${name}: qti-layout columns are not stacked at ${width}px (${tops})`);
  }
}

async function expect(cond, msg) {
  if (!(await cond)) fail(`flow: ${msg}`);
  else console.log(`ok   ${msg}`);
}

async function flow(browser) {
  const { page, errors } = await newPage(browser);
  await page.goto(`${base}?state=login`);
  await page.waitForSelector('#screen-login');
  await expect(page.evaluate(() => document.activeElement.id === 'student-number'), 'login focuses the student number');
  await page.keyboard.type('1234567');
  await page.keyboard.press('Tab');
  await page.keyboard.type('wrong');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#login-attempts');
  await expect(page.textContent('#login-error').then((t) => /2/.test(t)), 'wrong code shows remaining attempts');
  await expect(page.evaluate(() => document.activeElement.id === 'access-code' && document.activeElement.value === ''), 'wrong code clears and focuses the code');
  await page.evaluate(() => window.__mock.patch({ login_error: { message: 'Geblokkeerd.', remaining_attempts: 0 } }));
  await page.waitForFunction(() => document.querySelector('#login-submit').disabled);
  await expect(Promise.resolve(true), 'no attempts left disables the login button');
  await page.evaluate(() => window.__mock.patch({ login_error: null }));
  await page.waitForFunction(() => !document.querySelector('#login-submit').disabled);
  await page.focus('#access-code');
  await page.keyboard.type('demo');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#screen-assignment');
  await expect(page.textContent('#assignment-duration').then((t) => t.includes('113') && t.includes('23')), 'assignment shows duration incl. extra time');
  await page.focus('#confirm-assignment');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#screen-download');
  await expect(page.evaluate(() => document.querySelector('#download-progress').max > 0), 'download has a real progress bar');
  await page.waitForSelector('#screen-waiting', { timeout: 5000 });
  await page.focus('#start-exam');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#screen-exam [data-item-id="item-1"]');
  await expect(page.evaluate(() => document.activeElement.classList.contains('item-heading')), 'exam start focuses the first item heading');
  await expect(page.isVisible('#timer'), 'timer visible');
  // Answer item 1 by keyboard.
  const t0 = Date.now();
  await page.keyboard.press('Tab'); // flag button
  await page.keyboard.press('Tab'); // first radio
  await page.keyboard.press('ArrowDown');
  await page.waitForFunction(() => window.__mock.saved.length > 0, null, { timeout: 1000 });
  await page.waitForSelector('#sync-status[data-local-pending="0"]', { timeout: 1000 });
  const saved = await page.evaluate(() => window.__mock.saved[window.__mock.saved.length - 1]);
  await expect(Promise.resolve(saved.itemId === 'item-1' && saved.value.RESPONSE === 'B' && Date.now() - t0 < 1000), `save_answer within 1 s (${JSON.stringify(saved)})`);
  // Flag and go next.
  await page.click('[data-item-id="item-1"] .flag-toggle');
  await expect(page.getAttribute('[data-item-id="item-1"] .flag-toggle', 'aria-pressed').then((v) => v === 'true'), 'flag toggles');
  await page.click('#next-item');
  await page.waitForSelector('[data-item-id="item-2"]');
  await expect(page.evaluate(() => document.activeElement.textContent.includes('2')), 'next focuses the item 2 heading');
  // Type into text entry on item 3, quickly.
  await page.click('#next-item');
  await page.fill('[data-item-id="item-3"] input.text-entry', 'na');
  await page.selectOption('[data-item-id="item-3"] select.inline-choice', 'd30');
  await page.waitForTimeout(700);
  const last3 = await page.evaluate(() => window.__mock.saved.filter((s) => s.itemId === 'item-3').pop());
  await expect(Promise.resolve(last3 && last3.value.R1 === 'na' && last3.value.R2 === 'd30'), 'text entry and inline choice saved');
  // Order by keyboard on item 5.
  await page.click('[data-review="item-5"]');
  await page.focus('[data-item-id="item-5"] .order-item:nth-child(2) button[data-dir="up"]');
  await page.keyboard.press('Enter');
  await page.waitForTimeout(500);
  const last5 = await page.evaluate(() => window.__mock.saved.filter((s) => s.itemId === 'item-5').pop());
  await expect(Promise.resolve(last5 && Array.isArray(last5.value.RESPONSE) && last5.value.RESPONSE.length === 4), 'order saved as identifiers');
  await expect(page.evaluate(() => document.activeElement.closest('.order-item') !== null), 'focus stays on the moved entry');
  // Review list reflects answered and flagged.
  await expect(page.getAttribute('[data-review="item-1"]', 'aria-label').then((l) => /beantwoord/.test(l) && /gemarkeerd/.test(l)), 'review list says answered and flagged');
  // Blocked shortcuts.
  const prevented = await page.evaluate(() => ['r', 'p', 'f'].map((k) => {
    const e = new KeyboardEvent('keydown', { key: k, ctrlKey: true, bubbles: true, cancelable: true });
    document.body.dispatchEvent(e);
    return e.defaultPrevented;
  }).concat([(() => { const e = new KeyboardEvent('keydown', { key: 'F5', bubbles: true, cancelable: true }); document.body.dispatchEvent(e); return e.defaultPrevented; })()]));
  await expect(Promise.resolve(prevented.every(Boolean)), 'Ctrl+R/P/F and F5 blocked');
  // Lock mid-exam, right after a change, and unlock.
  await page.click('[data-review="item-4"]');
  await page.fill('[data-item-id="item-4"] textarea', 'typed just before the lock');
  await page.evaluate(() => window.__mock.patch({ phase: 'locked', lock_reason: 'AnyDesk werd gestart.', instrument: null }));
  await page.waitForSelector('#screen-locked');
  await page.fill('#unlock-pin', '0000');
  await page.fill('#unlock-reason', 'test');
  await page.click('#unlock-submit');
  await page.waitForFunction(() => document.querySelector('#unlock-error').textContent.length > 0);
  await expect(Promise.resolve(true), 'wrong PIN shows the unlock error');
  await page.fill('#unlock-pin', '1234');
  await page.click('#unlock-submit');
  await page.waitForSelector('#screen-exam');
  await expect(page.evaluate(() => document.querySelector('[data-item-id="item-4"] textarea').value === 'typed just before the lock'), 'after unlock the same item is shown, with the text');
  await page.waitForFunction(() => window.__mock.saved.some((s) => s.itemId === 'item-4' && s.value.RESPONSE === 'typed just before the lock'), null, { timeout: 3000 }).catch(() => null);
  await expect(page.evaluate(() => window.__mock.saved.some((s) => s.itemId === 'item-4' && s.value.RESPONSE === 'typed just before the lock')), 'a save refused during the lock is sent after the unlock');
  await expect(page.getAttribute('[data-review="item-1"]', 'aria-label').then((l) => /beantwoord/.test(l) && /gemarkeerd/.test(l)), 'answers and flags kept across the lock (instrument sent once)');
  // Submit: dialog, Escape closes, then confirm.
  await page.click('#submit-exam');
  await page.waitForSelector('#submit-dialog[open]');
  await expect(page.evaluate(() => document.activeElement.id === 'cancel-submit'), 'dialog focuses cancel');
  await page.keyboard.press('Shift+Tab');
  await expect(page.evaluate(() => document.activeElement.closest('dialog') !== null), 'focus stays in the dialog');
  await page.screenshot({ path: join(out, 'submit_dialog.png') });
  await axe(page, 'submit_dialog');
  await page.keyboard.press('Escape');
  await page.waitForSelector('#submit-dialog', { state: 'detached' });
  await expect(page.evaluate(() => document.activeElement.id === 'submit-exam'), 'Escape closes and returns focus');
  await page.click('#submit-exam');
  await page.click('#confirm-submit');
  await page.waitForSelector('#receipt-code');
  await expect(page.textContent('#receipt-code').then((t) => t === 'K7QF-29XM'), 'receipt code shown');
  for (const e of errors) fail(`flow: console: ${e}`);
  await page.close();
}

async function timerAnnouncements(browser) {
  const { page } = await newPage(browser);
  await page.goto(`${base}?state=exam`);
  await page.waitForSelector('#screen-exam');
  await page.evaluate(() => window.__mock.patch({ remaining_secs: 602 }));
  await page.waitForFunction(() => document.querySelector('#live-polite').textContent.includes('10'), null, { timeout: 5000 }).catch(() => null);
  await expect(page.textContent('#live-polite').then((t) => /10 minuten/.test(t)), 'announces 10 minutes left');
  await page.close();
}

const onlyInstrument = opt('--instrument', null);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
try {
  if (onlyInstrument) {
    // One real render model (render-fixtures.sh), wide and narrow.
    await itemShots(browser, onlyInstrument);
    await itemShots(browser, onlyInstrument, 760);
    await browser.close();
    console.log(failures ? `${failures} failure(s)` : 'all good');
    process.exit(failures ? 1 : 0);
  }
  await shots(browser);
  if (!only) {
    await itemShots(browser);
    // kiosk-core's real render models, when render-fixtures.sh has made them.
    const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
    if (existsSync(fixtures)) {
      for (const f of readdirSync(fixtures).filter((x) => x.endsWith('.json'))) await itemShots(browser, f.replace(/\.json$/, ''));
    }
    await flow(browser);
    await timerAnnouncements(browser);
  }
} finally {
  await browser.close();
}
console.log(failures ? `${failures} failure(s)` : 'all good');
process.exit(failures ? 1 : 0);
