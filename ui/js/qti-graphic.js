// Graphic interactions of the render model (kiosk-core qti_graphic.rs):
// hotspot, graphic gap match, select point, graphic associate, graphic
// order, and a position-object stage. Values saved, per response:
//
//   hotspot            "A" or ["A", "C"]          hotspot identifiers
//   graphic order      ["C", "A", "B"]            hotspot identifiers in order
//   graphic associate  ["A B", "C D"]             pairs of hotspots
//   graphic gap match  ["IMG1 A", "IMG2 C"]       "gapImg hotspot"
//   select point       "102 113" or ["x y", …]    whole pixels of the image
//   position object    ["x y", …]                 whole pixels of the stage
//
// The picture is an inline SVG whose viewBox is the image's own pixels, so
// the image, its hotspots and placed points scale together with the item
// width (and the text size: its largest width is in rem). Every hotspot is
// a focusable shape with a role and a name (hotspot-label, else "Gebied n");
// Space/Enter choose; a chosen hotspot gets a thick solid outline and a
// mark (✓ or its number), not only a colour. Points are placed with the
// pointer, or by keyboard: arrow keys move a crosshair, Enter places it;
// the placed points are listed with a remove button each.

import { h, nextId, announce } from './dom.js';
import { t } from '../i18n.js';

const NS = 'http://www.w3.org/2000/svg';

/** An SVG element (attributes as strings; `on*` functions become listeners). */
function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : String(v));
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat(Infinity)) if (c) el.append(c);
  return el;
}

function asArray(v) {
  if (Array.isArray(v)) return v;
  return v === null || v === undefined || v === '' ? [] : [v];
}

/** The value for the response: bare when its cardinality is single. */
function shaped(ctx, rid, list) {
  return ctx.cardinality(rid) === 'single' ? list[0] ?? null : list;
}

/** The SVG shape of a hotspot, in the image's coordinates. */
function shapeOf(hs, image, attrs) {
  const c = hs.coords || [];
  switch (hs.shape) {
    case 'rect':
      return s('rect', { ...attrs, x: Math.min(c[0], c[2]), y: Math.min(c[1], c[3]), width: Math.abs(c[2] - c[0]), height: Math.abs(c[3] - c[1]) });
    case 'circle':
      return s('circle', { ...attrs, cx: c[0], cy: c[1], r: c[2] });
    case 'ellipse':
      return s('ellipse', { ...attrs, cx: c[0], cy: c[1], rx: c[2], ry: c[3] });
    case 'poly': {
      const pts = [];
      for (let i = 0; i + 1 < c.length; i += 2) pts.push(`${c[i]},${c[i + 1]}`);
      return s('polygon', { ...attrs, points: pts.join(' ') });
    }
    default:
      return s('rect', { ...attrs, x: 0, y: 0, width: image.width, height: image.height });
  }
}

/** The centre and a corner of a hotspot (for marks, lines and placed images). */
function boxOf(hs, image) {
  const c = hs.coords || [];
  if (hs.shape === 'rect') return { x: Math.min(c[0], c[2]), y: Math.min(c[1], c[3]), w: Math.abs(c[2] - c[0]), h: Math.abs(c[3] - c[1]) };
  if (hs.shape === 'circle') return { x: c[0] - c[2], y: c[1] - c[2], w: 2 * c[2], h: 2 * c[2] };
  if (hs.shape === 'ellipse') return { x: c[0] - c[2], y: c[1] - c[3], w: 2 * c[2], h: 2 * c[3] };
  if (hs.shape === 'poly') {
    const xs = c.filter((_, i) => i % 2 === 0);
    const ys = c.filter((_, i) => i % 2 === 1);
    return { x: Math.min(...xs), y: Math.min(...ys), w: Math.max(...xs) - Math.min(...xs), h: Math.max(...ys) - Math.min(...ys) };
  }
  return { x: 0, y: 0, w: image.width, h: image.height };
}

const centre = (b) => ({ x: b.x + b.w / 2, y: b.y + b.h / 2 });

/** The picture: a box as wide as the item allows, at most the image's own width (in rem, so it grows with the text size). */
function stage(image, ctx, label) {
  const src = ctx.imageSrc(image.src);
  const svg = s('svg', { viewBox: `0 0 ${image.width} ${image.height}`, class: 'graphic-svg', role: 'group', 'aria-label': label, focusable: 'false' });
  if (src) svg.append(s('image', { href: src, x: 0, y: 0, width: image.width, height: image.height, role: 'img', 'aria-label': image.alt || t('qti.image.noalt') }));
  else svg.append(s('rect', { x: 0, y: 0, width: image.width, height: image.height, class: 'graphic-missing' }));
  const box = h('div', { class: 'graphic-stage' }, svg);
  box.style.maxWidth = `${image.width / 16}rem`;
  return { box, svg };
}

/** A focusable hotspot: a group with its area, focus ring and mark. */
function hotspotEl(hs, n, image, role, onChoose) {
  const name = hs.label || t('qti.graphic.area', { n });
  const attrs = { class: 'hs-area', 'vector-effect': 'non-scaling-stroke' };
  const g = s('g', {
    class: 'hotspot', role, tabindex: '0', 'aria-label': name, 'data-hotspot': hs.identifier,
    onkeydown: (e) => {
      if (e.key === ' ' || e.key === 'Enter') { e.preventDefault(); onChoose(); }
    },
    onclick: (e) => { e.preventDefault(); onChoose(); },
  },
  shapeOf(hs, image, { class: 'hs-ring-outer', 'vector-effect': 'non-scaling-stroke' }),
  shapeOf(hs, image, { class: 'hs-ring-inner', 'vector-effect': 'non-scaling-stroke' }),
  shapeOf(hs, image, attrs));
  const b = boxOf(hs, image);
  const c = centre(b);
  const r = Math.max(7, Math.min(image.width, image.height) / 28);
  const mark = s('g', { class: 'hs-mark', 'aria-hidden': 'true' },
    s('circle', { cx: c.x, cy: c.y - b.h / 2, r }),
    s('text', { x: c.x, y: c.y - b.h / 2, 'font-size': r * 1.3, 'text-anchor': 'middle', 'dominant-baseline': 'central' }, document.createTextNode('')));
  g.append(mark);
  const setMark = (text) => {
    mark.childNodes[1].textContent = text || '';
    g.setAttribute('class', text ? 'hotspot chosen' : 'hotspot');
  };
  return { g, name, setMark, box: b, centre: c };
}

function promptOf(n, ctx, renderNodes) {
  const id = nextId('prompt');
  const el = h('div', { class: 'qti-prompt', id }, n.prompt && n.prompt.length ? renderNodes(n.prompt, ctx) : null);
  return { el, id };
}

/** A list of what was placed, each with a remove button (Dutch texts, kiosk's own language). */
function placedList(label) {
  const list = h('ul', { class: 'graphic-placed', 'aria-label': label });
  const fill = (entries) => {
    while (list.firstChild) list.removeChild(list.firstChild);
    for (const { text, remove, removeLabel } of entries) {
      list.append(h('li', {}, h('span', {}, text), h('button', { type: 'button', class: 'secondary small', 'aria-label': removeLabel, onclick: remove }, t('qti.graphic.remove'))));
    }
    list.hidden = entries.length === 0;
  };
  return { list, fill };
}

// ---------------------------------------------------------------------------

/** Hotspot (radio or checkbox shapes) and graphic order (buttons that number). */
function choiceGraphic(n, ctx, renderNodes, own) {
  const rid = n.response_identifier;
  const order = n.kind === 'graphic-order';
  const single = !order && n.max_choices === 1;
  const max = n.max_choices > 0 ? n.max_choices : n.hotspots.length;
  let chosen = asArray(ctx.get(rid)).filter((id) => n.hotspots.some((hs) => hs.identifier === id));
  const prompt = promptOf(n, ctx, renderNodes);
  const { box, svg } = stage(n.image, ctx, t('qti.graphic.picture'));
  svg.setAttribute('role', single ? 'radiogroup' : 'group');
  svg.setAttribute('aria-labelledby', prompt.id);
  svg.removeAttribute('aria-label');
  const els = [];
  const draw = () => {
    for (const { hs, el } of els) {
      const at = chosen.indexOf(hs.identifier);
      el.setMark(at < 0 ? '' : order ? String(at + 1) : '✓');
      if (order) {
        el.g.setAttribute('aria-pressed', at < 0 ? 'false' : 'true');
        el.g.setAttribute('aria-label', at < 0 ? el.name : t('qti.graphic.ordered', { name: el.name, n: at + 1 }));
      } else el.g.setAttribute('aria-checked', at < 0 ? 'false' : 'true');
      const full = !single && chosen.length >= max && at < 0;
      if (full) el.g.setAttribute('aria-disabled', 'true');
      else el.g.removeAttribute('aria-disabled');
    }
  };
  const choose = (hs, name) => {
    const at = chosen.indexOf(hs.identifier);
    if (single) chosen = at < 0 ? [hs.identifier] : [];
    else if (at >= 0) chosen.splice(at, 1);
    else if (chosen.length < max) chosen.push(hs.identifier);
    else { announce(t('qti.graphic.full', { n: max })); return; }
    ctx.set(rid, order ? chosen.slice() : shaped(ctx, rid, chosen.slice()));
    draw();
    const now = chosen.indexOf(hs.identifier);
    announce(now < 0 ? t('qti.graphic.unchosen', { name }) : order ? t('qti.graphic.ordered', { name, n: now + 1 }) : t('qti.graphic.chosen', { name }));
  };
  n.hotspots.forEach((hs, i) => {
    const el = hotspotEl(hs, i + 1, n.image, order ? 'button' : single ? 'radio' : 'checkbox', () => choose(hs, el.name));
    els.push({ hs, el });
    svg.append(el.g);
  });
  draw();
  const hint = order ? t('qti.graphic.order.help') : single ? t('qti.graphic.one') : n.max_choices > 0 ? t('qti.graphic.max', { n: n.max_choices }) : t('qti.graphic.many');
  return h('div', { class: ['interaction', 'graphic-interaction', `${n.kind}-interaction`], role: 'group', 'aria-labelledby': prompt.id, dataset: { response: rid } },
    prompt.el, own(h('p', { class: 'hint' }, hint)), box);
}

/** Graphic associate: pick a hotspot, then another; lines between pairs. */
function associateGraphic(n, ctx, renderNodes, own) {
  const rid = n.response_identifier;
  const byId = new Map(n.hotspots.map((hs) => [hs.identifier, hs]));
  let pairs = asArray(ctx.get(rid)).filter((p) => p.split(' ').length === 2 && p.split(' ').every((id) => byId.has(id)));
  let pending = null;
  const prompt = promptOf(n, ctx, renderNodes);
  const { box, svg } = stage(n.image, ctx, t('qti.graphic.picture'));
  svg.setAttribute('aria-labelledby', prompt.id);
  svg.removeAttribute('aria-label');
  const lines = s('g', { class: 'graphic-lines', 'aria-hidden': 'true' });
  svg.append(lines);
  const els = new Map();
  const { list, fill } = placedList(t('qti.graphic.pairs'));
  const nameOf = (id) => els.get(id).name;
  const uses = (id) => pairs.filter((p) => p.split(' ').includes(id)).length;
  const save = () => ctx.set(rid, shaped(ctx, rid, pairs.slice()));
  const draw = () => {
    while (lines.firstChild) lines.removeChild(lines.firstChild);
    for (const p of pairs) {
      const [a, b] = p.split(' ').map((id) => els.get(id).centre);
      lines.append(s('line', { x1: a.x, y1: a.y, x2: b.x, y2: b.y, class: 'graphic-line', 'vector-effect': 'non-scaling-stroke' }));
    }
    for (const [id, el] of els) {
      el.setMark(id === pending ? '•' : uses(id) ? String(uses(id)) : '');
      el.g.setAttribute('aria-pressed', id === pending ? 'true' : 'false');
      el.g.setAttribute('aria-label', uses(id) ? t('qti.graphic.linked', { name: el.name, n: uses(id) }) : el.name);
    }
    fill(pairs.map((p) => {
      const [a, b] = p.split(' ');
      const text = t('qti.graphic.pair', { a: nameOf(a), b: nameOf(b) });
      return { text, removeLabel: t('qti.graphic.removeThing', { what: text }), remove: () => { pairs = pairs.filter((x) => x !== p); save(); draw(); announce(t('qti.graphic.removed', { what: text })); } };
    }));
  };
  const choose = (hs) => {
    const id = hs.identifier;
    const full = (x) => byId.get(x).match_max > 0 && uses(x) >= byId.get(x).match_max;
    if (pending === null) {
      if (full(id)) { announce(t('qti.graphic.hsFull', { name: nameOf(id) })); return; }
      pending = id;
      draw();
      announce(t('qti.graphic.pickSecond', { name: nameOf(id) }));
      return;
    }
    if (pending === id) { pending = null; draw(); announce(t('qti.graphic.unchosen', { name: nameOf(id) })); return; }
    const [a, b] = [pending, id];
    pending = null;
    const exists = pairs.some((p) => p === `${a} ${b}` || p === `${b} ${a}`);
    if (exists) { draw(); announce(t('qti.graphic.pairExists')); return; }
    if (full(b)) { draw(); announce(t('qti.graphic.hsFull', { name: nameOf(b) })); return; }
    if (n.max_associations > 0 && pairs.length >= n.max_associations) { draw(); announce(t('qti.graphic.full', { n: n.max_associations })); return; }
    pairs.push(`${a} ${b}`);
    save();
    draw();
    announce(t('qti.graphic.linkedPair', { a: nameOf(a), b: nameOf(b) }));
  };
  n.hotspots.forEach((hs, i) => {
    const el = hotspotEl(hs, i + 1, n.image, 'button', () => choose(hs));
    els.set(hs.identifier, el);
    svg.append(el.g);
  });
  draw();
  return h('div', { class: ['interaction', 'graphic-interaction', 'graphic-associate-interaction'], role: 'group', 'aria-labelledby': prompt.id, dataset: { response: rid } },
    prompt.el, own(h('p', { class: 'hint' }, t('qti.graphic.associate.help'))), box, list);
}

/** Graphic gap match: pick an image (or text), then a hotspot. */
function gapGraphic(n, ctx, renderNodes, own) {
  const rid = n.response_identifier;
  const hsById = new Map(n.hotspots.map((hs) => [hs.identifier, hs]));
  const choices = ctx.ordered(n, n.gap_choices || []);
  const chById = new Map(choices.map((c) => [c.identifier, c]));
  let pairs = asArray(ctx.get(rid)).filter((p) => { const [c, hs] = p.split(' '); return chById.has(c) && hsById.has(hs); });
  let picked = null;
  const prompt = promptOf(n, ctx, renderNodes);
  const { box, svg } = stage(n.image, ctx, t('qti.graphic.picture'));
  svg.setAttribute('aria-labelledby', prompt.id);
  svg.removeAttribute('aria-label');
  const placed = s('g', { class: 'graphic-placed-images', 'aria-hidden': 'true' });
  const els = new Map();
  const { list, fill } = placedList(t('qti.graphic.placements'));
  // An image without alt text (pack warns about it) is named by its place in the bank, never by its identifier.
  const choiceName = (c) => ctx.plainText(c.content) || t('qti.graphic.image', { n: choices.indexOf(c) + 1 });
  const uses = (pred) => pairs.filter(pred).length;
  const save = () => ctx.set(rid, shaped(ctx, rid, pairs.slice()));
  const buttons = new Map();
  const draw = () => {
    while (placed.firstChild) placed.removeChild(placed.firstChild);
    for (const [id, el] of els) {
      const here = pairs.filter((p) => p.split(' ')[1] === id).map((p) => chById.get(p.split(' ')[0]));
      el.setMark(here.length ? '✓' : '');
      el.g.setAttribute('aria-label', here.length ? t('qti.graphic.holds', { name: el.name, what: here.map(choiceName).join(', ') }) : el.name);
      here.forEach((c, k) => {
        const img = (c.content || []).find((x) => x && x.type === 'image');
        const src = img && ctx.imageSrc(img.src);
        const b = el.box;
        const w = b.w / here.length;
        if (src) placed.append(s('image', { href: src, x: b.x + k * w, y: b.y, width: w, height: b.h, preserveAspectRatio: 'xMidYMid meet' }));
        else placed.append(s('text', { x: b.x + k * w + w / 2, y: b.y + b.h / 2, 'text-anchor': 'middle', 'dominant-baseline': 'central', class: 'graphic-gap-text' }, document.createTextNode(choiceName(c))));
      });
    }
    for (const [id, btn] of buttons) {
      const c = chById.get(id);
      btn.setAttribute('aria-pressed', picked === id ? 'true' : 'false');
      btn.disabled = c.match_max > 0 && uses((p) => p.split(' ')[0] === id) >= c.match_max && picked !== id;
    }
    fill(pairs.map((p) => {
      const [c, hs] = p.split(' ');
      const text = t('qti.graphic.placement', { what: choiceName(chById.get(c)), where: els.get(hs).name });
      return { text, removeLabel: t('qti.graphic.removeThing', { what: text }), remove: () => { pairs = pairs.filter((x) => x !== p); save(); draw(); announce(t('qti.graphic.removed', { what: text })); } };
    }));
  };
  const place = (hs) => {
    if (picked === null) { announce(t('qti.graphic.pickFirst')); return; }
    const c = chById.get(picked);
    const hsFull = hs.match_max > 0 && uses((p) => p.split(' ')[1] === hs.identifier) >= hs.match_max;
    // A full hotspot gives up its oldest placement: the student replaces, not refused.
    if (hsFull) pairs.splice(pairs.findIndex((p) => p.split(' ')[1] === hs.identifier), 1);
    if (pairs.includes(`${c.identifier} ${hs.identifier}`)) { picked = null; draw(); return; }
    if (n.max_associations > 0 && pairs.length >= n.max_associations) { announce(t('qti.graphic.full', { n: n.max_associations })); return; }
    pairs.push(`${c.identifier} ${hs.identifier}`);
    picked = null;
    save();
    draw();
    announce(t('qti.graphic.placement', { what: choiceName(c), where: els.get(hs.identifier).name }));
    const btn = buttons.get(c.identifier);
    if (btn && !btn.disabled) btn.focus();
  };
  // Placed images lie under the hotspots: the hotspot stays what is clicked and focused, its mark on top.
  svg.append(placed);
  n.hotspots.forEach((hs, i) => {
    const el = hotspotEl(hs, i + 1, n.image, 'button', () => place(hs));
    els.set(hs.identifier, el);
    svg.append(el.g);
  });
  const bank = h('ul', { class: 'graphic-bank', 'aria-label': t('qti.choices') }, choices.map((c) => {
    const btn = h('button', {
      type: 'button', class: 'graphic-choice', 'aria-pressed': 'false', dataset: { choice: c.identifier },
      'aria-label': ctx.plainText(c.content) ? null : choiceName(c),
      onclick: () => {
        picked = picked === c.identifier ? null : c.identifier;
        draw();
        announce(picked ? t('qti.graphic.pickedImage', { what: choiceName(c) }) : t('qti.graphic.unchosen', { name: choiceName(c) }));
      },
    }, renderNodes(c.content, { ...ctx, phrasing: true }));
    pointerDrag(btn, svg, () => {
      picked = c.identifier;
      draw();
      return choiceName(c);
    }, (id) => place(hsById.get(id)));
    buttons.set(c.identifier, btn);
    return h('li', {}, btn);
  }));
  draw();
  return h('div', { class: ['interaction', 'graphic-interaction', 'graphic-gap-match-interaction'], role: 'group', 'aria-labelledby': prompt.id, dataset: { response: rid } },
    prompt.el, own(h('p', { class: 'hint' }, t('qti.graphic.gap.help'))), bank, box, list);
}

/**
 * Dragging an image of the bank onto a hotspot with the pointer (the
 * kiosk's lockdown blocks HTML drag and drop, so this uses pointer events):
 * after a few pixels of movement the button's image is picked and a label
 * follows the pointer; releasing over a hotspot of `svg` places it there.
 * A press without movement stays a click (pick, then choose a hotspot).
 */
function pointerDrag(btn, svg, start, drop) {
  let from = null;
  let ghost = null;
  let dragged = false;
  const end = () => {
    if (ghost) ghost.remove();
    ghost = null;
    from = null;
  };
  btn.addEventListener('pointerdown', (e) => {
    if (e.button !== 0 || btn.disabled) return;
    from = { x: e.clientX, y: e.clientY, id: e.pointerId };
    dragged = false;
  });
  btn.addEventListener('pointermove', (e) => {
    if (!from || e.pointerId !== from.id) return;
    if (!ghost) {
      if (Math.abs(e.clientX - from.x) + Math.abs(e.clientY - from.y) < 6) return;
      if (btn.setPointerCapture) btn.setPointerCapture(e.pointerId);
      ghost = h('div', { class: 'graphic-ghost', 'aria-hidden': 'true' }, start());
      document.body.append(ghost);
      dragged = true;
    }
    ghost.style.left = `${e.clientX + 8}px`;
    ghost.style.top = `${e.clientY + 8}px`;
  });
  btn.addEventListener('pointerup', (e) => {
    if (!from || e.pointerId !== from.id) return;
    const was = ghost;
    end();
    if (!was) return;
    const under = document.elementFromPoint(e.clientX, e.clientY);
    const target = under && under.closest && under.closest('[data-hotspot]');
    if (target && svg.contains(target)) drop(target.getAttribute('data-hotspot'));
  });
  btn.addEventListener('pointercancel', end);
  // The click that follows a drag is not a pick.
  btn.addEventListener('click', (e) => {
    if (dragged) { dragged = false; e.stopImmediatePropagation(); e.preventDefault(); }
  }, { capture: true });
}

/**
 * Points on an image: select point (a crosshair and numbered crosses) and
 * a position-object interaction (copies of its object). Keyboard: the
 * picture is focusable; arrows move the crosshair (Shift: larger steps),
 * Enter or Space places a point there.
 */
function pointsGraphic({ rid, image, max, object, label, hint, prompt }, ctx, own) {
  const parse = (p) => String(p).split(' ').map(Number);
  let points = asArray(ctx.get(rid)).filter((p) => /^\d+ \d+$/.test(p)).filter((p) => { const [x, y] = parse(p); return x <= image.width && y <= image.height; });
  const limit = max > 0 ? max : Infinity;
  const { box, svg } = stage(image, ctx, label);
  const helpId = nextId('help');
  svg.setAttribute('role', 'application');
  svg.setAttribute('tabindex', '0');
  svg.setAttribute('aria-roledescription', t('qti.graphic.pointArea'));
  svg.setAttribute('aria-describedby', helpId);
  svg.setAttribute('class', 'graphic-svg graphic-points');
  const marks = s('g', { class: 'graphic-marks', 'aria-hidden': 'true' });
  const size = Math.max(6, Math.min(image.width, image.height) / 25);
  let cursor = { x: Math.round(image.width / 2), y: Math.round(image.height / 2) };
  const cross = s('g', { class: 'graphic-crosshair', 'aria-hidden': 'true' });
  svg.append(marks, cross);
  const { list, fill } = placedList(t('qti.graphic.points'));
  const save = () => ctx.set(rid, shaped(ctx, rid, points.slice()));
  const drawCursor = () => {
    while (cross.firstChild) cross.removeChild(cross.firstChild);
    cross.append(
      s('line', { x1: cursor.x - size * 1.5, y1: cursor.y, x2: cursor.x + size * 1.5, y2: cursor.y, 'vector-effect': 'non-scaling-stroke' }),
      s('line', { x1: cursor.x, y1: cursor.y - size * 1.5, x2: cursor.x, y2: cursor.y + size * 1.5, 'vector-effect': 'non-scaling-stroke' }),
      s('circle', { cx: cursor.x, cy: cursor.y, r: size, 'vector-effect': 'non-scaling-stroke' }));
  };
  const draw = () => {
    while (marks.firstChild) marks.removeChild(marks.firstChild);
    points.forEach((p, i) => {
      const [x, y] = parse(p);
      if (object && ctx.imageSrc(object.src)) {
        const [cx, cy] = object.center ? object.center : [object.width / 2, object.height / 2];
        marks.append(s('image', { href: ctx.imageSrc(object.src), x: x - cx, y: y - cy, width: object.width, height: object.height }));
      } else {
        marks.append(s('line', { x1: x - size, y1: y - size, x2: x + size, y2: y + size, class: 'graphic-x', 'vector-effect': 'non-scaling-stroke' }),
          s('line', { x1: x - size, y1: y + size, x2: x + size, y2: y - size, class: 'graphic-x', 'vector-effect': 'non-scaling-stroke' }));
      }
      marks.append(s('text', { x: x + size * 1.2, y: y - size * 1.2, class: 'graphic-point-no', 'font-size': size * 1.8 }, document.createTextNode(String(i + 1))));
    });
    fill(points.map((p, i) => {
      const [x, y] = parse(p);
      const text = t('qti.graphic.point', { n: i + 1, x, y });
      return { text, removeLabel: t('qti.graphic.removePoint', { n: i + 1 }), remove: () => { points.splice(i, 1); save(); draw(); announce(t('qti.graphic.removed', { what: text })); svg.focus(); } };
    }));
  };
  const placeAt = (x, y) => {
    x = Math.max(0, Math.min(Math.floor(image.width), Math.round(x)));
    y = Math.max(0, Math.min(Math.floor(image.height), Math.round(y)));
    if (points.length >= limit) {
      if (limit === 1) points = [];
      else { announce(t('qti.graphic.full', { n: limit })); return; }
    }
    points.push(`${x} ${y}`);
    save();
    draw();
    announce(t('qti.graphic.placed', { n: points.length, x, y }));
  };
  svg.addEventListener('keydown', (e) => {
    const step = e.shiftKey ? Math.max(10, Math.round(image.width / 10)) : Math.max(1, Math.round(image.width / 50));
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (moves[e.key]) {
      e.preventDefault();
      cursor = { x: Math.max(0, Math.min(image.width, cursor.x + moves[e.key][0])), y: Math.max(0, Math.min(image.height, cursor.y + moves[e.key][1])) };
      drawCursor();
      // Where the crosshair is, in the image's pixels (role application has no value to carry it).
      announce(t('qti.graphic.cursor', { x: Math.round(cursor.x), y: Math.round(cursor.y) }));
    } else if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      placeAt(cursor.x, cursor.y);
    }
  });
  svg.addEventListener('pointerdown', (e) => {
    const r = svg.getBoundingClientRect();
    if (!r.width || !r.height) return;
    const x = ((e.clientX - r.left) / r.width) * image.width;
    const y = ((e.clientY - r.top) / r.height) * image.height;
    cursor = { x, y };
    drawCursor();
    placeAt(x, y);
  });
  drawCursor();
  draw();
  return [prompt, own(h('p', { class: 'hint', id: helpId }, hint)), box, list];
}

function selectPoint(n, ctx, renderNodes, own) {
  const prompt = promptOf(n, ctx, renderNodes);
  const hint = n.max_choices === 1 ? t('qti.graphic.point.one') : n.max_choices > 1 ? t('qti.graphic.point.max', { n: n.max_choices }) : t('qti.graphic.point.many');
  const parts = pointsGraphic({ rid: n.response_identifier, image: n.image, max: n.max_choices, label: plainLabel(n, ctx), hint, prompt: prompt.el }, ctx, own);
  return h('div', { class: ['interaction', 'graphic-interaction', 'select-point-interaction'], role: 'group', 'aria-labelledby': prompt.id, dataset: { response: n.response_identifier } }, parts);
}

function plainLabel(n, ctx) {
  const p = ctx.plainText(n.prompt || []);
  return p ? t('qti.graphic.pointsOn', { what: p }) : t('qti.graphic.picture');
}

/** A position-object stage: one picture per interaction of it (each its own response). */
function positionStage(n, ctx, own) {
  return h('div', { class: 'position-object-stage' }, (n.interactions || []).map((i) => {
    const obj = { ...i.object, center: i.center_point || null };
    const what = i.object.alt || t('qti.graphic.object');
    const hint = i.max_choices === 1 ? t('qti.graphic.object.one', { what }) : i.max_choices > 1 ? t('qti.graphic.object.max', { what, n: i.max_choices }) : t('qti.graphic.object.many', { what });
    const promptId = nextId('prompt');
    const prompt = h('div', { class: 'qti-prompt position-object', id: promptId },
      own(h('span', {}, t('qti.graphic.object.label', { what }))), ' ',
      ctx.imageSrc(i.object.src) ? h('img', { src: ctx.imageSrc(i.object.src), alt: '', width: i.object.width, height: i.object.height }) : null);
    const parts = pointsGraphic({ rid: i.response_identifier, image: n.image, max: i.max_choices, object: obj, label: `${t('qti.graphic.pointsOn', { what })} — ${n.image.alt || ''}`, hint, prompt }, ctx, own);
    return h('div', { class: ['interaction', 'graphic-interaction', 'position-object-interaction'], role: 'group', 'aria-labelledby': promptId, dataset: { response: i.response_identifier } }, parts);
  }));
}

/**
 * Renders a `graphic-interaction` or `position-object-stage` node. `tools`
 * gives what qti.js keeps to itself: renderNodes, own (the kiosk's own
 * language on a hint), imageSrc, plainText, ordered (seeded shuffle).
 */
export function renderGraphic(n, ctx, tools) {
  const c = { ...ctx, imageSrc: (src) => tools.imageSrc(src, ctx), plainText: tools.plainText, ordered: (node, list) => tools.ordered(node, ctx, list) };
  if (n.type === 'position-object-stage') return positionStage(n, c, tools.own);
  switch (n.kind) {
    case 'hotspot':
    case 'graphic-order':
      return choiceGraphic(n, c, tools.renderNodes, tools.own);
    case 'graphic-associate':
      return associateGraphic(n, c, tools.renderNodes, tools.own);
    case 'graphic-gap-match':
      return gapGraphic(n, c, tools.renderNodes, tools.own);
    case 'select-point':
      return selectPoint(n, c, tools.renderNodes, tools.own);
    default:
      return null;
  }
}
