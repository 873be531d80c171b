// Drag and drop on top of an interaction's own controls (issue 18): the
// sources (e.g. a gap-match's word bank) can be picked up and put down on a
// target (a gap), by pointer or by keyboard, and the target's own control
// (its <select>) is then set — so the saved value is exactly what the
// control gives (answer_ids unchanged), and the control stays usable.
//
// Keyboard: a source is a toggle button — Space/Enter picks it up
// ("… opgepakt"); each target then shows a "Zet neer bij …" button (Tab or
// the arrow keys go from one to the next), Space/Enter puts it down
// ("… geplaatst bij …"), Escape puts it back. Pointer: press on a source
// and let go over a target (or its drop button). HTML5 drag and drop is not
// used: the lockdown stops it (nothing may be dragged out of the kiosk).

import { h, announce } from './dom.js';
import { t, lang } from '../i18n.js';

/**
 * Inserts the keyboard hint before `before` (the sources' list).
 * sources: [{ item: element to turn into a source, id, label }]
 * targets: [{ anchor: element the drop button goes before (and focus goes to
 *   after a drop, unless focusAfter(id) names another), zone: elements a
 *   pointer may be let go over, label, full(id) → whether it cannot take id,
 *   place(id) }]
 * texts: i18n keys of the hint and the "picked up" announcement.
 * Returns { cancel }.
 */
export function dragAndDrop(root, before, sources, targets, texts = { help: 'qti.dnd.help', picked: 'qti.dnd.picked' }) {
  let holding = null;
  const help = h('p', { class: 'hint', id: `${root.dataset.response || 'dnd'}-dnd-${Math.random().toString(36).slice(2, 8)}`, dir: 'ltr', lang: lang() }, t(texts.help));
  before.parentNode.insertBefore(help, before);
  const drops = targets.map((target) => {
    const b = h('button', { type: 'button', class: 'dnd-drop', hidden: true, onclick: () => drop(target), onkeydown: (e) => keys(e, target) },
      t('qti.dnd.drop', { target: target.label }));
    target.anchor.parentNode.insertBefore(b, target.anchor);
    target.button = b;
    return b;
  });
  const show = (on) => {
    for (const b of drops) b.hidden = !on;
    if (on) root.classList.add('dnd-holding');
    else root.classList.remove('dnd-holding');
  };
  const release = () => {
    if (holding) holding.button.setAttribute('aria-pressed', 'false');
    holding = null;
    show(false);
  };
  const cancel = () => {
    if (!holding) return;
    const back = holding.button;
    release();
    announce(t('qti.dnd.cancelled'));
    back.focus();
  };
  const pick = (src) => {
    if (holding === src) return cancel();
    release();
    holding = src;
    src.button.setAttribute('aria-pressed', 'true');
    show(true);
    announce(t(texts.picked, { label: src.label }));
    if (drops[0] && !pointer) drops[0].focus();
  };
  function drop(target) {
    if (!holding) return;
    const src = holding;
    if (target.full(src.id)) {
      announce(t('qti.dnd.full', { label: src.label }));
      return;
    }
    target.place(src.id);
    release();
    announce(t('qti.dnd.placed', { label: src.label, target: target.label }));
    (target.focusAfter ? target.focusAfter(src.id) : target.anchor).focus();
  }
  function keys(e, target) {
    const i = targets.indexOf(target);
    const next = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[e.key];
    if (next) {
      e.preventDefault();
      drops[(i + next + drops.length) % drops.length].focus();
    } else if (e.key === 'Escape') {
      e.preventDefault();
      cancel();
    }
  }
  // Pointer: press on a source, let go over a target. A press without a
  // move is a click (handled as by keyboard).
  let pointer = null;
  for (const src of sources) {
    const button = h('button', { type: 'button', class: 'dnd-source', 'aria-pressed': 'false', 'aria-describedby': help.getAttribute('id') });
    while (src.item.firstChild) button.append(src.item.firstChild);
    src.item.append(button);
    src.button = button;
    button.addEventListener('click', () => {
      if (pointer && pointer.moved) return;
      pick(src);
    });
    button.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && holding) {
        e.preventDefault();
        cancel();
      }
    });
    button.addEventListener('pointerdown', (e) => {
      if (e.button !== 0) return;
      pointer = { src, x: e.clientX, y: e.clientY, moved: false };
      if (button.setPointerCapture) button.setPointerCapture(e.pointerId);
    });
    button.addEventListener('pointermove', (e) => {
      if (!pointer || pointer.src !== src) return;
      if (!pointer.moved && Math.hypot(e.clientX - pointer.x, e.clientY - pointer.y) > 6) {
        pointer.moved = true;
        if (holding !== src) pick(src);
        button.classList.add('dnd-dragging');
      }
      if (pointer.moved) {
        const over = targetAt(e.clientX, e.clientY);
        for (const target of targets) {
          if (target === over) target.button.classList.add('dnd-over');
          else target.button.classList.remove('dnd-over');
        }
      }
    });
    const end = (e) => {
      if (!pointer || pointer.src !== src) return;
      button.classList.remove('dnd-dragging');
      for (const target of targets) target.button.classList.remove('dnd-over');
      if (pointer.moved) {
        const over = e.type === 'pointerup' ? targetAt(e.clientX, e.clientY) : null;
        if (over) drop(over);
        else cancel();
      }
      // The click that follows a drag is not a pick.
      setTimeout(() => { pointer = null; }, 0);
    };
    button.addEventListener('pointerup', end);
    button.addEventListener('pointercancel', end);
  }
  function targetAt(x, y) {
    const el = document.elementFromPoint ? document.elementFromPoint(x, y) : null;
    return el ? targets.find((target) => [target.button, ...target.zone].some((z) => z.contains(el))) || null : null;
  }
  return { cancel };
}

/**
 * One entry of an order interaction as a handle to drag (issue 18). The
 * list is redrawn after each move (`redraw(id)` keeps focus on this entry's
 * handle). Keyboard: Space/Enter picks it up ("… opgepakt, plaats 2 van 4"),
 * the arrow keys move it (each move saved and announced), Space/Enter puts
 * it down, Escape puts it back where it was. Pointer: press on it and let
 * go over another entry: it takes that place. `state` ({ held, drag }) is
 * the list's, kept across redraws.
 */
export function orderHandle(state, { id, index, total, label, content, moveTo, redraw, help }) {
  const held = Boolean(state.held && state.held.id === id);
  const b = h('button', { type: 'button', class: ['order-grab', 'dnd-source'], 'aria-pressed': held ? 'true' : 'false', 'aria-describedby': help }, content);
  const say = (key, pos) => announce(t(key, { label, pos: pos + 1, total }));
  b.addEventListener('click', () => {
    if (state.drag) return;
    if (held) {
      state.held = null;
      redraw(id);
      say('qti.dnd.order.dropped', index);
    } else {
      state.held = { id, from: index };
      redraw(id);
      say('qti.dnd.order.picked', index);
    }
  });
  b.addEventListener('keydown', (e) => {
    if (!held) return;
    const step = { ArrowUp: -1, ArrowLeft: -1, ArrowDown: 1, ArrowRight: 1 }[e.key];
    if (step) {
      e.preventDefault();
      const to = index + step;
      if (to < 0 || to >= total) return;
      moveTo(index, to);
      redraw(id);
      say('qti.dnd.order.moved', to);
    } else if (e.key === 'Escape') {
      e.preventDefault();
      const from = state.held.from;
      state.held = null;
      if (from !== index) moveTo(index, from);
      redraw(id);
      say('qti.dnd.order.cancelled', from);
    }
  });
  let start = null;
  b.addEventListener('pointerdown', (e) => {
    if (e.button !== 0) return;
    start = { x: e.clientX, y: e.clientY };
    state.drag = null;
    if (b.setPointerCapture) b.setPointerCapture(e.pointerId);
  });
  b.addEventListener('pointermove', (e) => {
    if (!start || state.drag) return;
    if (Math.hypot(e.clientX - start.x, e.clientY - start.y) > 6) {
      state.drag = { id };
      b.classList.add('dnd-dragging');
    }
  });
  const end = (e) => {
    if (!start) return;
    start = null;
    b.classList.remove('dnd-dragging');
    if (!state.drag) return;
    const el = e.type === 'pointerup' && document.elementFromPoint ? document.elementFromPoint(e.clientX, e.clientY) : null;
    const li = el && el.closest ? el.closest('li.order-item') : null;
    const list = b.closest ? b.closest('ol') : null;
    const to = li && list && li.parentNode === list ? [...list.children].indexOf(li) : -1;
    if (to >= 0 && to !== index) {
      moveTo(index, to);
      state.held = null;
      redraw(id);
      say('qti.dnd.order.dropped', to);
    }
    // The click that follows a drag is not a pick.
    setTimeout(() => { state.drag = null; }, 0);
  };
  b.addEventListener('pointerup', end);
  b.addEventListener('pointercancel', end);
  return b;
}
