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
  ['exam_calculator', 'exam_calculator'], ['exam_contrast_normal', 'exam_contrast_normal'], ['exam_notes', 'exam_notes'],
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
  // Tab through the item's tools (markeerstift, kladblok, later bekijken) to the first radio.
  const stops = [];
  for (let i = 0; i < 10; i += 1) {
    await page.keyboard.press('Tab');
    const at = await page.evaluate(() => { const a = document.activeElement; return a.type === 'radio' ? 'radio' : a.closest('.item-tools') ? a.className : `outside: ${a.outerHTML.slice(0, 60)}`; });
    stops.push(at);
    if (at === 'radio') break;
  }
  await expect(Promise.resolve(stops[stops.length - 1] === 'radio' && stops.slice(0, -1).every((s) => !s.startsWith('outside'))), `Tab goes through the item's tools to its first option (${stops.join(' → ')})`);
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
  await expect(page.getAttribute('[data-review="item-1"]', 'aria-label').then((l) => /beantwoord/.test(l) && /later bekijken/.test(l)), 'review list says answered and flagged');
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
  await expect(page.getAttribute('[data-review="item-1"]', 'aria-label').then((l) => /beantwoord/.test(l) && /later bekijken/.test(l)), 'answers and flags kept across the lock (instrument sent once)');
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

// Issue 18: a gap-match item of the `interactions` fixture by drag and drop —
// keyboard (Space, arrow, Space) and pointer (press, move, let go over the
// gap) — saves the same value the gap's select would, and says so.
async function dragAndDropCheck(browser) {
  const { page, errors } = await newPage(browser);
  await page.goto(`${base}?state=exam&instrument=interactions`);
  await page.waitForSelector('#screen-exam');
  await page.click('[data-review="gapmatch"]');
  await page.waitForSelector('[data-item-id="gapmatch"] .dnd-source');
  const last = () => page.evaluate(() => JSON.stringify((window.__mock.saved.at(-1) || {}).value || null));
  await page.focus('[data-item-id="gapmatch"] .dnd-source >> nth=1');
  await page.keyboard.press('Space');
  await expect(page.evaluate(() => document.activeElement.classList.contains('dnd-drop')), 'dnd: Space picks up, focus on the first gap');
  await page.screenshot({ path: join(out, 'interactions_dnd_holding.png') });
  await axe(page, 'interactions_dnd_holding');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('Space');
  await expect(last().then((v) => v === '{"RESPONSE":["Y G2"]}'), 'dnd: Space puts it down in gap 2 (saved "Y G2")');
  await page.waitForFunction(() => /geplaatst bij/.test(document.querySelector('#live-polite').textContent), null, { timeout: 2000 }).catch(() => null);
  await expect(page.textContent('#live-polite').then((t) => /geel geplaatst bij Open vak 2/.test(t)), 'dnd: announced "geplaatst bij"');
  const src = await page.locator('[data-item-id="gapmatch"] .dnd-source >> nth=0').boundingBox();
  const gap = await page.locator('[data-item-id="gapmatch"] select.gap >> nth=0').boundingBox();
  await page.mouse.move(src.x + src.width / 2, src.y + src.height / 2);
  await page.mouse.down();
  await page.mouse.move(src.x + 40, src.y + 40, { steps: 5 });
  await page.mouse.move(gap.x + gap.width / 2, gap.y + gap.height / 2, { steps: 10 });
  await page.mouse.up();
  await expect(last().then((v) => v === '{"RESPONSE":["R G1","Y G2"]}'), 'dnd: a pointer drag onto gap 1 saves "R G1"');
  for (const e of errors) fail(`dnd: console: ${e}`);
  await page.close();
}

// Kladblok, markeerstift and spell-check (issue 19): the pad by keyboard
// (typed text saved through save_note, Escape gives focus back), marking a
// selection with Alt+M (saved as offsets), the spell-check's list on a typed
// answer; axe on each.
async function notesCheck(browser) {
  const { page, errors } = await newPage(browser);
  await page.goto(`${base}?state=exam_notes`);
  await page.waitForSelector('#screen-exam [data-item-id="item-1"] .scratch-toggle');
  await expect(page.locator('[data-item-id="item-1"] mark.hl').count().then((n) => n === 2), 'notes: the stored highlights are shown (2 marks)');
  await page.focus('[data-item-id="item-1"] .scratch-toggle');
  await page.keyboard.press('Enter');
  await expect(page.evaluate(() => document.activeElement.classList.contains('scratch-text') && document.activeElement.value === '120 x 2,50 = 300'), 'notes: the pad opens with its saved text and takes the focus');
  await page.keyboard.type(' dus B');
  await page.waitForFunction(() => /opgeslagen/.test((document.querySelector('.scratch-status') || {}).textContent || ''), null, { timeout: 3000 }).catch(() => null);
  await expect(page.textContent('.scratch-status').then((t) => /Kladblok opgeslagen/.test(t || '')), 'notes: typing is saved ("Kladblok opgeslagen")');
  await page.screenshot({ path: join(out, 'scratchpad.png') });
  await axe(page, 'scratchpad');
  await page.keyboard.press('Escape');
  await expect(page.evaluate(() => document.activeElement.classList.contains('scratch-toggle')), 'notes: Escape closes the pad and gives the focus back to its button');
  // Select "per stuk" with the mouse and mark it with Alt+M.
  await page.evaluate(() => {
    const walk = document.createTreeWalker(document.querySelector('[data-item-id="item-1"] .item-body'), NodeFilter.SHOW_TEXT);
    let text = null;
    while (!text && walk.nextNode()) if (/per stuk/.test(walk.currentNode.data)) text = walk.currentNode;
    const i = text.data.indexOf('per stuk');
    const r = document.createRange();
    r.setStart(text, i);
    r.setEnd(text, i + 'per stuk'.length);
    getSelection().removeAllRanges();
    getSelection().addRange(r);
  });
  await page.keyboard.press('Alt+KeyM');
  await expect(page.locator('[data-item-id="item-1"] mark.hl').count().then((n) => n === 3), 'notes: Alt+M marks the selection');
  // By keyboard alone: Alt+M without a selection walks the text blocks.
  await page.evaluate(() => getSelection().removeAllRanges());
  await page.focus('[data-item-id="item-1"] .item-heading');
  const marksBefore = await page.locator('[data-item-id="item-1"] mark.hl').count();
  await page.keyboard.press('Alt+KeyM');
  await expect(page.evaluate(() => document.activeElement.classList.contains('hl-kb-focus')), 'notes: Alt+M without a selection puts the focus on the first text block');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Space');
  await expect(page.locator('[data-item-id="item-1"] mark.hl').count().then((n) => n > 0 && n !== marksBefore), 'notes: Space marks the focused block');
  await page.screenshot({ path: join(out, 'highlighter_keyboard.png') });
  await axe(page, 'highlighter_keyboard');
  await page.keyboard.press('Space');
  await page.keyboard.press('Escape');
  await expect(page.evaluate(() => document.activeElement.classList.contains('item-heading') && !document.querySelector('.hl-kb-focus, [data-item-id="item-1"] .item-body [tabindex]')), 'notes: Escape ends it, focus back on the heading, nothing left behind');
  await page.screenshot({ path: join(out, 'highlighter.png') });
  await axe(page, 'highlighter');
  // The spell-check on the typed answer of item 4.
  await page.click('[data-review="item-4"]');
  await page.waitForSelector('[data-item-id="item-4"] .spell-open');
  await page.click('[data-item-id="item-4"] .spell-open');
  await page.waitForSelector('[data-item-id="item-4"] .spell-list li', { timeout: 3000 }).catch(() => null);
  await expect(page.locator('[data-item-id="item-4"] .spell-list li').count().then((n) => n === 2), 'notes: the spell-check lists the two unknown words');
  await page.screenshot({ path: join(out, 'spellcheck.png') });
  await axe(page, 'spellcheck');
  for (const e of errors) fail(`notes: console: ${e}`);
  await page.close();
}

// Read-aloud (issue 19): the part being read is shown under the items with
// the spoken word marked, and goes away when reading stops; axe.
async function readAloudCheck(browser) {
  const { page, errors } = await newPage(browser);
  await page.goto(`${base}?state=exam_large`);
  await page.waitForSelector('#screen-exam [data-item-id] .read-aloud');
  await page.click('[data-item-id] .read-aloud');
  await page.waitForSelector('#read-aloud-caption:not([hidden]) mark.spoken', { timeout: 3000 }).catch(() => null);
  await expect(page.locator('#read-aloud-caption:not([hidden]) mark.spoken').count().then((n) => n === 1), 'read-aloud: one word of the part being read is marked');
  await page.screenshot({ path: join(out, 'read_aloud.png') });
  await axe(page, 'read_aloud');
  await page.click('[data-item-id] .read-aloud');
  await page.waitForSelector('#read-aloud-caption[hidden]', { state: 'attached', timeout: 3000 }).catch(() => null);
  await expect(page.evaluate(() => document.getElementById('read-aloud-caption').hidden), 'read-aloud: the caption goes when reading stops');
  for (const e of errors) fail(`read-aloud: console: ${e}`);
  await page.close();
}

// Tools the instrument gives everyone (issue 19): read-aloud without the
// accommodation, and the spell-check off on the item that tests spelling,
// said in words where its button would be; axe.
async function instrumentToolsCheck(browser) {
  const { page, errors } = await newPage(browser);
  await page.goto(`${base}?state=exam_instrument_tools`);
  await page.waitForSelector('#screen-exam [data-item-id]');
  await expect(page.locator('[data-item-id] .read-aloud').count().then((n) => n > 0), 'instrument tools: read-aloud without the accommodation, as the instrument grants it');
  await page.click('[data-review="item-4"]');
  await page.waitForSelector('[data-item-id="item-4"] .spell-off');
  await expect(page.locator('[data-item-id="item-4"] .spell-open').count().then((n) => n === 0), 'instrument tools: no spell-check button on the item it is off on');
  await expect(page.textContent('[data-item-id="item-4"] .spell-off').then((t) => /spellingcontrole uit/.test(t || '')), 'instrument tools: the item says the spell-check is off');
  await page.screenshot({ path: join(out, 'spellcheck_off.png') });
  await axe(page, 'spellcheck_off');
  for (const e of errors) fail(`instrument tools: console: ${e}`);
  await page.close();
}

// Naslag (issue 19): the rekenkaart the content fixture's item ships, opened
// by keyboard, shown as an image, closed with Escape; axe.
async function referenceCheck(browser) {
  const { page, errors } = await newPage(browser);
  await page.goto(`${base}?state=exam&instrument=content`);
  await page.waitForSelector('#screen-exam [data-item-id]');
  await page.click('[data-review="hulpmiddelen"]');
  await page.waitForSelector('[data-item-id="hulpmiddelen"] .reference-open');
  await page.focus('[data-item-id="hulpmiddelen"] .reference-open');
  await page.keyboard.press('Enter');
  await expect(page.evaluate(() => document.activeElement.classList.contains('reference-panel')), 'naslag: opening moves the focus to the panel');
  await page.waitForFunction(() => { const i = document.querySelector('.reference-panel:not([hidden]) img'); return i && i.complete && i.naturalWidth > 0; }, null, { timeout: 3000 }).catch(() => null);
  await expect(page.evaluate(() => { const i = document.querySelector('.reference-panel:not([hidden]) img'); return Boolean(i && i.naturalWidth > 0 && i.alt === 'Rekenkaart'); }), 'naslag: the rekenkaart is shown, with its label as alternative text');
  await page.screenshot({ path: join(out, 'reference.png') });
  await axe(page, 'reference');
  await page.keyboard.press('Escape');
  await expect(page.evaluate(() => document.activeElement.classList.contains('reference-open') && document.querySelector('.reference-panel').hidden), 'naslag: Escape closes it and gives the focus back');
  // The formula sheet is a PDF: pdf.js draws its two pages, each named, with its text for a screen reader.
  const pdfButton = '[data-item-id="hulpmiddelen"] .reference-open:nth-of-type(2)';
  await expect(page.textContent(pdfButton).then((t) => /Formulekaart/.test(t || '')), 'naslag: a button for the PDF formula sheet');
  await page.focus(pdfButton);
  await page.keyboard.press('Enter');
  await page.waitForSelector('.reference-pages[data-rendered="true"], .reference-pages[data-rendered="failed"]', { timeout: 15000 }).catch(() => null);
  await expect(page.evaluate(() => { const c = [...document.querySelectorAll('.reference-panel:not([hidden]) canvas.reference-page')]; return c.length === 2 && c[0].getAttribute('aria-label') === 'Formulekaart, pagina 1 van 2' && c[0].width > 300; }), 'naslag: pdf.js draws both pages of the PDF, each named');
  await expect(page.evaluate(() => /Oppervlakte rechthoek = lengte x breedte/.test(document.querySelector('.reference-panel:not([hidden]) .reference-page-text').textContent)), 'naslag: the page text is there for a screen reader');
  await expect(page.evaluate(() => { const c = document.querySelector('.reference-panel:not([hidden]) canvas.reference-page'); const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let dark = 0; for (let i = 0; i < d.length; i += 4) if (d[i] < 100) dark += 1; return dark > 500; }), 'naslag: the page is drawn (dark text on the canvas)');
  await page.screenshot({ path: join(out, 'reference_pdf.png') });
  await axe(page, 'reference_pdf');
  await page.keyboard.press('Escape');
  for (const e of errors) fail(`naslag: console: ${e}`);
  await page.close();
}

// The calculator (issue 19): opened from its item's button, used by keyboard
// alone, the display announces the result, Escape gives focus back; basic
// and scientific, and with x-large text and high contrast.
async function calculatorCheck(browser) {
  for (const [state, shot] of [['exam_calculator', 'calculator_basic'], ['exam_calculator', 'calculator_scientific'], ['exam_calculator_contrast', 'calculator_contrast']]) {
    const { page, errors } = await newPage(browser);
    await page.goto(`${base}?state=${state}`);
    await page.waitForSelector('#screen-exam [data-item-id="item-1"]');
    if (shot === 'calculator_scientific') {
      await page.click('#next-item');
      await page.waitForSelector('[data-item-id="item-2"] .calc-open');
    }
    const item = shot === 'calculator_scientific' ? 'item-2' : 'item-1';
    await page.focus(`[data-item-id="${item}"] .calc-open`);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#calculator');
    await expect(page.evaluate(() => document.activeElement.id === 'calc-input'), `${shot}: opening focuses the calculation field`);
    await page.keyboard.type('0,1+0,2');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('#calc-display').textContent === '= 0,3', null, { timeout: 2000 }).catch(() => null);
    await expect(page.textContent('#calc-display').then((t) => t === '= 0,3'), `${shot}: Enter computes and the live display shows "= 0,3"`);
    await page.keyboard.type('×4=');
    await page.waitForFunction(() => document.querySelector('#calc-display').textContent === '= 1,2', null, { timeout: 2000 }).catch(() => null);
    await expect(page.textContent('#calc-display').then((t) => t === '= 1,2'), `${shot}: = computes too, from the last result`);
    await page.click('#calculator details summary');
    await page.screenshot({ path: join(out, `${shot}.png`) });
    await axe(page, shot);
    // In the window, and beside the item, never over it.
    const fits = await page.evaluate(() => {
      const r = document.querySelector('#calculator').getBoundingClientRect();
      const items = document.querySelector('.exam-main').getBoundingClientRect();
      return r.left >= items.right - 1 && r.top >= 0 && r.right <= innerWidth && r.bottom <= innerHeight;
    });
    await expect(Promise.resolve(fits), `${shot}: the panel is in the window, beside the item`);
    await page.keyboard.press('Escape');
    await expect(page.evaluate((it) => !document.querySelector('#calculator') && document.activeElement === document.querySelector(`[data-item-id="${it}"] .calc-open`), item), `${shot}: Escape closes and focus returns to the button`);
    if (shot === 'calculator_basic') {
      // All items on one page: working on another item closes the panel
      // and leaves the focus there (it stayed open, bound to item 1).
      await page.click('#layout-toggle');
      await page.waitForSelector('[data-item-id="item-2"]');
      await page.focus('[data-item-id="item-1"] .calc-open');
      await page.keyboard.press('Enter');
      await page.waitForSelector('#calculator');
      await page.focus('[data-item-id="item-3"] input, [data-item-id="item-3"] textarea, [data-item-id="item-3"] select, [data-item-id="item-3"] .item-heading');
      await expect(page.evaluate(() => !document.querySelector('#calculator') && document.activeElement.closest('[data-item-id]')?.dataset.itemId === 'item-3'), 'calculator: another item on the same page closes it, focus stays there');
      await page.click('#layout-toggle');
      await page.click('[data-review="item-3"]');
      await page.waitForSelector('[data-item-id="item-3"]');
      await expect(page.evaluate(() => !document.querySelector('.calc-open')), 'calculator: no button on an item that has none');
    }
    for (const e of errors) fail(`${shot}: console: ${e}`);
    await page.close();
  }
}

// Leesliniaal and text size (issue 19), for every student: by keyboard alone
// (Alt+L, Alt+↓, Tab, the A−/A+ buttons), the ruler lets clicks through and
// follows mouse and focus, the text grows to 250 % and not below the preset,
// nothing is clipped at the largest step; normal, large, x-large + high
// contrast and high contrast at the normal size.
async function viewToolsCheck(browser) {
  for (const [state, name, presetPx] of [['exam', 'view_normal', 18], ['exam_large', 'view_large', 22], ['exam_contrast', 'view_contrast_xlarge', 26], ['exam_contrast_normal', 'view_contrast', 18], ['exam_calculator', 'view_calculator', 18]]) {
    const { page, errors } = await newPage(browser);
    await page.goto(`${base}?state=${state}`);
    await page.waitForSelector('#screen-exam [data-item-id="item-1"]');
    const band = () => page.evaluate(() => {
      const b = document.querySelector('.line-focus-band').getBoundingClientRect();
      return { top: b.top, bottom: b.bottom, shown: !document.querySelector('#line-focus').hidden, pressed: document.querySelector('#line-focus-toggle').getAttribute('aria-pressed') };
    });
    const rootPx = () => page.evaluate(() => parseFloat(getComputedStyle(document.documentElement).fontSize));
    const live = async (re) => {
      await page.waitForFunction((src) => new RegExp(src).test(document.querySelector('#live-polite').textContent), re.source, { timeout: 2000 }).catch(() => null);
      return re.test(await page.textContent('#live-polite'));
    };
    // --- the ruler ---
    await page.focus('[data-item-id="item-1"] .item-heading');
    await page.keyboard.press('Alt+KeyL');
    let b = await band();
    await expect(Promise.resolve(b.shown && b.pressed === 'true'), `${name}: Alt+L turns the ruler on (aria-pressed=true)`);
    await expect(live(/Leesliniaal aan/), `${name}: "Leesliniaal aan" announced`);
    const lineHeight = 1.5 * (await rootPx());
    await expect(Promise.resolve(Math.abs(b.bottom - b.top - 3 * lineHeight) <= 2), `${name}: the band is three lines high (${Math.round(b.bottom - b.top)} px)`);
    // Keyboard users: the band goes to the focused element.
    // Tab (past the item's own tools) to the first answer.
    for (let i = 0; i < 8 && !(await page.evaluate(() => document.activeElement.type === 'radio')); i += 1) await page.keyboard.press('Tab');
    const focusY = await page.evaluate(() => { const r = document.activeElement.getBoundingClientRect(); return r.top + r.height / 2; });
    b = await band();
    await expect(Promise.resolve(focusY >= b.top && focusY <= b.bottom), `${name}: the band follows the focus (Tab)`);
    const before = b.top;
    await page.keyboard.press('Alt+ArrowDown');
    b = await band();
    await expect(Promise.resolve(Math.abs(b.top - before - lineHeight) <= 1.5 || b.bottom >= 767), `${name}: Alt+↓ moves it one line`);
    // The mouse: the band follows, and a click under the shade still lands.
    const choice = page.locator('[data-item-id="item-1"] input[type="radio"] >> nth=3');
    await choice.scrollIntoViewIfNeeded();
    const box = await choice.boundingBox();
    await page.mouse.move(box.x + box.width / 2, 40);
    b = await band();
    await expect(Promise.resolve(b.top <= 40 && b.bottom >= 40), `${name}: the band follows the mouse`);
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.move(box.x + box.width / 2, 40);
    await expect(choice.isChecked(), `${name}: a click through the overlay answers (pointer-events: none)`);
    await page.screenshot({ path: join(out, `${name}_ruler.png`) });
    await axe(page, `${name}_ruler`);
    await page.keyboard.press('Alt+KeyL');
    await expect(band().then((x) => !x.shown && x.pressed === 'false'), `${name}: Alt+L turns it off`);
    // --- text size ---
    await page.focus('#text-smaller');
    await page.keyboard.press('Enter');
    await expect(rootPx().then((px) => px === presetPx), `${name}: A− does not go below the preset (${presetPx} px)`);
    await expect(live(/Kleinste tekstgrootte/), `${name}: the lower limit is announced`);
    await page.focus('#text-bigger');
    for (let i = 0; i < 6; i += 1) {
      await page.keyboard.press('Enter');
      if ((await rootPx()) === 36) await page.screenshot({ path: join(out, `${name}_200.png`) });
    }
    await expect(rootPx().then((px) => px === 45), `${name}: A+ steps up to 250 % (45 px)`);
    await expect(live(/Grootste tekstgrootte: 250 %/), `${name}: the upper limit is announced`);
    await expect(page.evaluate(() => document.activeElement.id === 'text-bigger' && document.activeElement.getAttribute('aria-disabled') === 'true'), `${name}: at the top A+ keeps the focus, aria-disabled`);
    // Kept across navigation.
    await page.click('#next-item');
    await page.waitForSelector('[data-item-id="item-2"]');
    await expect(rootPx().then((px) => px === 45), `${name}: the size stays on the next page`);
    await page.click('[data-review="item-1"]');
    await page.waitForSelector('[data-item-id="item-1"]');
    if (state === 'exam_calculator') {
      // The calculator beside the question at 250 % (the ruler stays off: it dims the panel).
      await page.click('[data-item-id="item-1"] .calc-open');
      await page.waitForSelector('#calculator');
    } else {
      await page.keyboard.press('Alt+KeyL');
      await page.mouse.move(300, 330);
    }
    await page.screenshot({ path: join(out, `${name}_250.png`) });
    await axe(page, `${name}_250`);
    await layoutChecks(page, `${name}_250`, 1366);
    // Nothing clipped: no sideways scrolling of the page, every control and
    // the item's text inside the window and not cut off inside itself.
    const clipped = await page.evaluate(() => {
      const bad = [];
      if (document.documentElement.scrollWidth > innerWidth + 1) bad.push(`page ${document.documentElement.scrollWidth}px wide`);
      const mainCol = document.querySelector('.exam-main').getBoundingClientRect();
      for (const el of document.querySelectorAll('#app button:not([hidden]), #app select, #app input, .item-body p, .exam-review h2, .review-summary, .timer-value')) {
        if (!el.offsetParent) continue;
        const r = el.getBoundingClientRect();
        // Nothing of the question column runs under the panel or overview beside it.
        if (el.closest('.exam-main') && r.right > mainCol.right + 1 && !el.closest('.table-scroll')) bad.push(`${el.id || el.className || el.tagName} runs out of the question column`);
        if (r.left < -1 || r.right > innerWidth + 1) bad.push(`${el.id || el.className || el.tagName} outside the window`);
        if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== 'auto') bad.push(`${el.id || el.className || el.tagName} cut off (${el.scrollWidth} > ${el.clientWidth})`);
        if (el.localName === 'button' && el.scrollHeight > el.clientHeight + 1) bad.push(`${el.id || el.className} text runs out of the button (${el.scrollHeight} > ${el.clientHeight})`);
      }
      return bad;
    });
    await expect(Promise.resolve(!clipped.length), `${name}: nothing clipped at 250 %${clipped.length ? `: ${clipped.slice(0, 4).join('; ')}` : ''}`);
    if (state === 'exam_calculator') await page.keyboard.press('Escape');
    else await page.keyboard.press('Alt+KeyL');
    await page.focus('#text-smaller');
    for (let i = 0; i < 6; i += 1) await page.keyboard.press('Enter');
    await expect(rootPx().then((px) => px === presetPx), `${name}: back down to the preset`);
    for (const e of errors) fail(`${name}: console: ${e}`);
    await page.close();
  }
}

const onlyInstrument = opt('--instrument', null);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
try {
  if (onlyInstrument) {
    // One real render model (render-fixtures.sh), wide and narrow.
    await itemShots(browser, onlyInstrument);
    await itemShots(browser, onlyInstrument, 760);
    if (onlyInstrument === 'interactions') await dragAndDropCheck(browser);
    if (onlyInstrument === 'content') await referenceCheck(browser);
    await browser.close();
    console.log(failures ? `${failures} failure(s)` : 'all good');
    process.exit(failures ? 1 : 0);
  }
  await shots(browser);
  if (only && only.split(',').includes('calculator')) await calculatorCheck(browser);
  if (only && only.split(',').includes('view-tools')) await viewToolsCheck(browser);
  if (only && only.split(',').includes('notes')) await notesCheck(browser);
  if (only && only.split(',').includes('read-aloud')) await readAloudCheck(browser);
  if (only && only.split(',').includes('instrument-tools')) await instrumentToolsCheck(browser);
  if (!only) {
    await itemShots(browser);
    // kiosk-core's real render models, when render-fixtures.sh has made them.
    const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
    if (existsSync(fixtures)) {
      for (const f of readdirSync(fixtures).filter((x) => x.endsWith('.json'))) await itemShots(browser, f.replace(/\.json$/, ''));
      if (existsSync(join(fixtures, 'content.json'))) await referenceCheck(browser);
    }
    await flow(browser);
    await timerAnnouncements(browser);
    await calculatorCheck(browser);
    await viewToolsCheck(browser);
    await notesCheck(browser);
    await readAloudCheck(browser);
    await instrumentToolsCheck(browser);
  }
} finally {
  await browser.close();
}
console.log(failures ? `${failures} failure(s)` : 'all good');
process.exit(failures ? 1 : 0);
