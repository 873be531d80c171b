// Building DOM without HTML strings: every text goes in through textContent,
// so nothing from the hub, the instrument or an error message can become
// markup. No HTML-string parsing anywhere in the kiosk UI (a unit test checks).

/**
 * h('button', {id: 'x', class: 'primary', onclick: f, 'aria-label': 'y'}, 'text', child, ...)
 * Attributes: `class` (string or array), `on*` functions become listeners,
 * `dataset` an object, booleans set/omit the attribute, null/undefined skip.
 * Children: strings (text nodes), nodes, arrays, null/false (skipped).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') {
      const list = Array.isArray(v) ? v.filter(Boolean) : String(v).split(/\s+/).filter(Boolean);
      el.classList.add(...list);
    } else if (k === 'dataset') {
      for (const [dk, dv] of Object.entries(v)) el.dataset[dk] = String(dv);
    } else if (k.startsWith('on') && typeof v === 'function') {
      el.addEventListener(k.slice(2), v);
    } else if (k === 'value' && 'value' in el) {
      el.value = v;
    } else if (k === 'checked' || k === 'disabled' || k === 'selected' || k === 'hidden' || k === 'required') {
      el[k] = Boolean(v);
    } else if (v === true) {
      el.setAttribute(k, '');
    } else {
      el.setAttribute(k, String(v));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

let uid = 0;
/** A unique id for label/aria wiring inside generated content. */
export function nextId(prefix = 'k') {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** Polite (or assertive) announcement through a persistent live region. */
export function announce(text, assertive = false) {
  const region = document.getElementById(assertive ? 'live-assertive' : 'live-polite');
  if (!region) return;
  // Clear first so the same message twice is announced twice.
  region.textContent = '';
  setTimeout(() => {
    region.textContent = text;
  }, 50);
}
