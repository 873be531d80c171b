// The exam calculator (issue 19): a non-modal panel beside the item with a
// keypad of real buttons, an entry field, a display that is a live region
// (screen readers hear the result), memory (MC MR M+ M−) and the history of
// this sitting. Nothing is computed here: every calculation, the memory's
// included, goes to kiosk-core through shell.calculate, which also decides
// whether this item has a calculator and which (a scientific key on a basic
// one is refused there, not only hidden here).
//
// Keyboard: type the calculation (digits, + − * / ^ ( ) . ,), Enter or =
// computes, Backspace deletes, Escape closes and gives focus back to the
// button that opened the panel.

import { h, clear, setText } from './dom.js';
import { t } from '../i18n.js';

/** What lasts for the sitting (across items and openings): memory and history. */
const sitting = { key: null, memory: null, history: [], angle: 'degrees' };

/** A new sitting (another exam or student): memory and history start empty. */
export function resetCalculator(key) {
  if (sitting.key === key) return;
  sitting.key = key;
  sitting.memory = null;
  sitting.history = [];
  sitting.angle = 'degrees';
}

/** The calculation as the student reads it: decimal comma, × ÷ −. */
export function dutchExpression(expr) {
  return String(expr).replace(/\./g, ',').replace(/\*/g, '×').replace(/\//g, '÷').replace(/-/g, '−');
}

/** An exact value from kiosk-core (`-0.25`) as something to type (`−0,25`), in parentheses when negative. */
function asOperand(value) {
  const v = dutchExpression(value);
  return v.startsWith('−') ? `(${v})` : v;
}

/** A key's accessible name: its label where a label is a word (`ln`, `MC`:
 * what is seen is part of what is heard, WCAG 2.5.3), then what it does. */
function spoken(label, name) {
  return /[A-Za-z]/.test(label) ? `${label}, ${name}` : name;
}

// [label, what it types, accessible name key or null]
const KEYS_BASIC = [
  ['(', '(', 'calc.key.open'], [')', ')', 'calc.key.close'], ['%', '%', 'calc.key.percent'], ['÷', '÷', 'calc.key.divide'],
  ['7', '7'], ['8', '8'], ['9', '9'], ['×', '×', 'calc.key.times'],
  ['4', '4'], ['5', '5'], ['6', '6'], ['−', '−', 'calc.key.minus'],
  ['1', '1'], ['2', '2'], ['3', '3'], ['+', '+', 'calc.key.plus'],
  ['0', '0'], [',', ',', 'calc.key.comma'],
];
const KEYS_SCIENTIFIC = [
  ['√', '√(', 'calc.key.sqrt'], ['x²', '²', 'calc.key.squared'], ['xʸ', '^', 'calc.key.power'], ['1/x', '1÷(', 'calc.key.inverse'],
  ['sin', 'sin(', 'calc.key.sin'], ['cos', 'cos(', 'calc.key.cos'], ['tan', 'tan(', 'calc.key.tan'], ['π', 'π', 'calc.key.pi'],
  ['ln', 'ln(', 'calc.key.ln'], ['log', 'log(', 'calc.key.log'], ['e', 'e', 'calc.key.e'],
];

/**
 * Mounts the calculator for item `itemId` into `host`.
 * `kind`: 'basic' or 'scientific' (from view.tools, i.e. kiosk-core);
 * `calculate(itemId, expression, angle)` → Promise<{value, display}>;
 * `onClose()` after Escape or the close button (the caller returns focus).
 * Returns { el, focus(), close() }.
 */
export function mountCalculator(host, { itemId, kind, calculate, onClose }) {
  const scientific = kind === 'scientific';
  const titleId = `calc-title-${itemId}`;
  const input = h('input', {
    type: 'text', id: 'calc-input', class: 'calc-input', inputmode: 'decimal', autocomplete: 'off', spellcheck: 'false',
    'aria-label': t('calc.input'), 'aria-describedby': 'calc-display',
  });
  const display = h('div', { id: 'calc-display', class: 'calc-display', role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' }, '0');
  const memoryMark = h('p', { class: 'calc-memory', id: 'calc-memory' });
  const historyList = h('ol', { class: 'calc-history-list', id: 'calc-history-list' });

  function type(text) {
    const start = typeof input.selectionStart === 'number' ? input.selectionStart : input.value.length;
    const end = typeof input.selectionEnd === 'number' ? input.selectionEnd : input.value.length;
    input.value = input.value.slice(0, start) + text + input.value.slice(end);
    if (typeof input.setSelectionRange === 'function') input.setSelectionRange(start + text.length, start + text.length);
    input.focus();
  }

  function show(text, error = false) {
    display.classList.remove('calc-error');
    if (error) display.classList.add('calc-error');
    setText(display, text);
  }

  function drawMemory() {
    setText(memoryMark, sitting.memory === null ? '' : t('calc.memory.holds', { value: dutchExpression(sitting.memory) }));
    mr.disabled = sitting.memory === null;
    mc.disabled = sitting.memory === null;
  }

  function drawHistory() {
    clear(historyList);
    if (!sitting.history.length) {
      historyList.append(h('li', { class: 'calc-history-empty' }, t('calc.history.empty')));
      return;
    }
    // Newest first.
    for (const entry of [...sitting.history].reverse()) {
      historyList.append(h('li', {}, h('button', {
        type: 'button', class: 'calc-history-entry secondary small',
        'aria-label': `${entry.expression} = ${entry.display}, ${t('calc.history.use')}`,
        onclick: () => type(entry.display),
      }, `${entry.expression} = ${entry.display}`)));
    }
  }

  /** Computes the field; the result replaces it (the next calculation starts from it). */
  let busy = false;
  async function equals() {
    const expression = input.value.trim();
    // One calculation at a time: a held Enter does not flood the kiosk (each
    // use is a journal record).
    if (!expression || busy) return null;
    busy = true;
    try {
      const r = await calculate(itemId, expression, sitting.angle);
      sitting.history.push({ expression: dutchExpression(expression), display: r.display });
      input.value = r.display;
      show(`= ${r.display}`);
      drawHistory();
      return r;
    } catch (err) {
      show(t('calc.error', { msg: err.message }), true);
      return null;
    } finally {
      busy = false;
    }
  }

  /** M+ / M−: the memory's new value is computed by kiosk-core too. */
  async function memoryAdd(sign) {
    const expression = input.value.trim();
    if (!expression) return;
    const current = sitting.memory === null ? '0' : asOperand(sitting.memory);
    try {
      const r = await calculate(itemId, `${current} ${sign} (${expression})`, sitting.angle);
      sitting.memory = r.value;
      show(t('calc.memory.stored', { value: r.display }));
      drawMemory();
    } catch (err) {
      show(t('calc.error', { msg: err.message }), true);
    }
  }

  const key = ([label, text, nameKey]) => h('button', {
    type: 'button', class: 'calc-key secondary', 'aria-label': nameKey ? spoken(label, t(nameKey)) : null, onclick: () => type(text),
  }, label);
  const mc = h('button', { type: 'button', class: 'calc-key calc-mem secondary', 'aria-label': spoken('MC', t('calc.memory.clear')), onclick: () => { sitting.memory = null; show(t('calc.memory.cleared')); drawMemory(); } }, 'MC');
  const mr = h('button', { type: 'button', class: 'calc-key calc-mem secondary', 'aria-label': spoken('MR', t('calc.memory.recall')), onclick: () => { if (sitting.memory !== null) type(asOperand(sitting.memory)); } }, 'MR');
  const mplus = h('button', { type: 'button', class: 'calc-key calc-mem secondary', 'aria-label': spoken('M+', t('calc.memory.add')), onclick: () => memoryAdd('+') }, 'M+');
  const mminus = h('button', { type: 'button', class: 'calc-key calc-mem secondary', 'aria-label': spoken('M−', t('calc.memory.subtract')), onclick: () => memoryAdd('−') }, 'M−');
  const back = h('button', { type: 'button', class: 'calc-key secondary', 'aria-label': t('calc.backspace'), onclick: () => { input.value = input.value.slice(0, -1); input.focus(); } }, '⌫');
  const clearKey = h('button', { type: 'button', class: 'calc-key secondary', 'aria-label': spoken('C', t('calc.clear')), onclick: () => { input.value = ''; show('0'); input.focus(); } }, 'C');
  const eq = h('button', { type: 'button', class: 'calc-key calc-equals primary', 'aria-label': t('calc.equals'), onclick: () => equals() }, '=');
  const angle = scientific
    ? h('button', {
      type: 'button', class: 'calc-key calc-angle secondary', 'aria-pressed': String(sitting.angle === 'radians'),
      onclick: () => {
        sitting.angle = sitting.angle === 'degrees' ? 'radians' : 'degrees';
        angle.setAttribute('aria-pressed', String(sitting.angle === 'radians'));
        setText(angle, t(sitting.angle === 'degrees' ? 'calc.angle.degrees' : 'calc.angle.radians'));
      },
    }, t(sitting.angle === 'degrees' ? 'calc.angle.degrees' : 'calc.angle.radians'))
    : null;

  const closeBtn = h('button', { type: 'button', class: 'secondary small calc-close', 'aria-label': t('calc.close'), onclick: () => close() }, '✕');
  const panel = h('section', {
    id: 'calculator', class: ['calculator', scientific ? 'calc-scientific' : 'calc-basic'], role: 'dialog', 'aria-modal': 'false',
    'aria-labelledby': titleId, dataset: { item: itemId, kind },
  },
  h('header', { class: 'calc-header' },
    h('h2', { id: titleId, class: 'calc-title' }, t(scientific ? 'calc.title.scientific' : 'calc.title.basic')),
    closeBtn),
  input,
  display,
  memoryMark,
  h('div', { class: 'calc-row calc-memory-keys', role: 'group', 'aria-label': t('calc.memory') }, mc, mr, mplus, mminus),
  scientific ? h('div', { class: 'calc-keys calc-sci-keys', role: 'group', 'aria-label': t('calc.scientific') }, KEYS_SCIENTIFIC.map(key), angle) : null,
  h('div', { class: 'calc-keys', role: 'group', 'aria-label': t('calc.keypad') }, KEYS_BASIC.map(key), back, clearKey, eq),
  h('details', { class: 'calc-history' }, h('summary', {}, t('calc.history')), historyList));

  panel.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      close();
    } else if ((e.key === 'Enter' || e.key === '=') && e.target === input) {
      e.preventDefault();
      equals();
    }
  });

  let closed = false;
  function close() {
    if (closed) return;
    closed = true;
    panel.remove();
    if (onClose) onClose();
  }

  drawMemory();
  drawHistory();
  host.append(panel);
  return { el: panel, input, display, equals, close, focus: () => input.focus() };
}
