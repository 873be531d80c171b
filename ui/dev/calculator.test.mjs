// The calculator panel (issue 19) on the fake DOM: real buttons, a live
// display, keyboard use, memory and history, and that it computes nothing
// itself (every calculation goes to the shell, i.e. kiosk-core).
// `node --test ui/dev/`; the pictures: shoot.mjs (state exam-calculator).

import test from 'node:test';
import assert from 'node:assert/strict';
import { installFakeDom } from './fake-dom.mjs';
import { mountCalculator, resetCalculator, dutchExpression } from '../js/tools-calculator.js';
import { setLang } from '../i18n.js';

installFakeDom();
setLang('nl');

/** A stand-in for shell.calculate that records what was asked and answers from a table. */
function shell(answers) {
  const calls = [];
  return {
    calls,
    calculate: async (itemId, expression, angle) => {
      calls.push({ itemId, expression, angle });
      const a = answers[expression];
      if (a instanceof Error) throw a;
      if (!a) throw new Error(`unexpected ${expression}`);
      return a;
    },
  };
}

const press = (panel, label) => {
  const b = panel.all('button').find((x) => x.textContent === label);
  assert.ok(b, `key ${label}`);
  b.fire('click');
};
const tick = () => new Promise((r) => setTimeout(r, 0));

test('basic: real buttons, no scientific keys, typing by keypad and Enter computes through the shell', async () => {
  resetCalculator('s1');
  const host = document.createElement('div');
  const fake = shell({ '0,1+0,2': { value: '0.3', display: '0,3' } });
  let closed = 0;
  const calc = mountCalculator(host, { itemId: 'q1', kind: 'basic', calculate: fake.calculate, onClose: () => { closed += 1; } });
  const panel = calc.el;
  assert.equal(panel.getAttribute('role'), 'dialog');
  assert.equal(panel.getAttribute('aria-modal'), 'false', 'non-modal');
  assert.equal(calc.display.getAttribute('aria-live'), 'polite');
  assert.equal(calc.display.getAttribute('role'), 'status');
  assert.ok(panel.all('h2')[0].textContent.includes('Rekenmachine (basis)'));
  const labels = panel.all('button').map((b) => b.textContent);
  for (const k of ['0', '9', '+', '−', '×', '÷', '%', '(', ')', ',', '=', 'MC', 'MR', 'M+', 'M−', '⌫', 'C']) assert.ok(labels.includes(k), k);
  for (const k of ['√', 'sin', 'xʸ', 'π', 'ln']) assert.ok(!labels.includes(k), `basic has no ${k}`);
  assert.ok(panel.all('button').every((b) => b.getAttribute('type') === 'button'));
  // Keys without a spoken name get one.
  assert.equal(panel.all('button').find((b) => b.textContent === '÷').getAttribute('aria-label'), 'gedeeld door');
  for (const k of ['0', ',', '1', '+', '0', ',', '2']) press(panel, k);
  assert.equal(calc.input.value, '0,1+0,2');
  panel.fire('keydown', { key: 'Enter', target: calc.input });
  await tick();
  assert.deepEqual(fake.calls, [{ itemId: 'q1', expression: '0,1+0,2', angle: 'degrees' }]);
  assert.equal(calc.display.textContent, '= 0,3');
  assert.equal(calc.input.value, '0,3', 'the next calculation starts from the result');
  assert.ok(panel.all('button.calc-history-entry').some((b) => b.textContent === '0,1+0,2 = 0,3'), 'history');
  // Escape closes and hands focus back (the caller's onClose).
  panel.fire('keydown', { key: 'Escape', target: calc.input });
  assert.equal(closed, 1);
  assert.equal(host.childNodes.length, 0);
});

test('errors from kiosk-core are shown in the display, marked, and not added to the history', async () => {
  resetCalculator('s2');
  const host = document.createElement('div');
  const fake = shell({ '1÷0': new Error('Delen door nul kan niet (bij teken 2)') });
  const calc = mountCalculator(host, { itemId: 'q1', kind: 'basic', calculate: fake.calculate });
  for (const k of ['1', '÷', '0']) press(calc.el, k);
  press(calc.el, '=');
  await tick();
  assert.equal(calc.display.textContent, 'Fout: Delen door nul kan niet (bij teken 2)');
  assert.ok(calc.display.classList.contains('calc-error'));
  assert.equal(calc.input.value, '1÷0', 'the calculation stays to be corrected');
  assert.ok(calc.el.all('li.calc-history-empty').length === 1);
  // Backspace and clear.
  press(calc.el, '⌫');
  assert.equal(calc.input.value, '1÷');
  press(calc.el, 'C');
  assert.equal(calc.input.value, '');
});

test('memory: M+ and M− are computed by the shell; MR inserts the exact value; MC clears; it lasts the sitting', async () => {
  resetCalculator('s3');
  const host = document.createElement('div');
  const fake = shell({
    '0 + (2,5)': { value: '2.5', display: '2,5' },
    '2,5 − (4)': { value: '-1.5', display: '−1,5' },
  });
  let calc = mountCalculator(host, { itemId: 'q1', kind: 'basic', calculate: fake.calculate });
  const mr = () => calc.el.all('button').find((b) => b.textContent === 'MR');
  assert.ok(mr().disabled, 'MR off while the memory is empty');
  calc.input.value = '2,5';
  press(calc.el, 'M+');
  await tick();
  assert.equal(calc.display.textContent, 'In het geheugen: 2,5');
  calc.input.value = '4';
  press(calc.el, 'M−');
  await tick();
  assert.equal(fake.calls[1].expression, '2,5 − (4)');
  // Closed and opened again (another item): the memory is still there.
  calc.close();
  calc = mountCalculator(host, { itemId: 'q2', kind: 'basic', calculate: fake.calculate });
  assert.equal(calc.el.all('p.calc-memory')[0].textContent, 'Geheugen: −1,5');
  calc.input.value = '';
  press(calc.el, 'MR');
  assert.equal(calc.input.value, '(−1,5)', 'a negative memory goes in parentheses');
  press(calc.el, 'MC');
  assert.equal(calc.el.all('p.calc-memory')[0].textContent, '');
  // A new sitting starts empty.
  calc.close();
  resetCalculator('another-student');
  calc = mountCalculator(host, { itemId: 'q1', kind: 'basic', calculate: fake.calculate });
  assert.ok(mr().disabled);
  assert.equal(calc.el.all('li.calc-history-empty').length, 1);
});

test('scientific: function keys type their function; degrees/radians goes with the calculation', async () => {
  resetCalculator('s4');
  const host = document.createElement('div');
  const fake = shell({ 'sin(30)': { value: '0.5', display: '0,5' }, 'sin(π÷6)': { value: '0.5', display: '0,5' } });
  const calc = mountCalculator(host, { itemId: 'q9', kind: 'scientific', calculate: fake.calculate });
  assert.ok(calc.el.all('h2')[0].textContent.includes('wetenschappelijk'));
  for (const k of ['sin', '3', '0', ')']) press(calc.el, k);
  press(calc.el, '=');
  await tick();
  const angle = calc.el.all('button.calc-angle')[0];
  assert.equal(angle.getAttribute('aria-pressed'), 'false');
  angle.fire('click');
  assert.equal(angle.getAttribute('aria-pressed'), 'true');
  assert.equal(angle.textContent, 'Radialen');
  calc.input.value = '';
  for (const k of ['sin', 'π', '÷', '6', ')']) press(calc.el, k);
  press(calc.el, '=');
  await tick();
  assert.deepEqual(fake.calls.map((c) => c.angle), ['degrees', 'radians']);
  assert.equal(calc.el.all('button').find((b) => b.textContent === '√').getAttribute('aria-label'), 'wortel');
});

test('the calculation is shown the Dutch way', () => {
  assert.equal(dutchExpression('0.1+2*3/4-1'), '0,1+2×3÷4−1');
});
