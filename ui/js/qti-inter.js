// The interactions of kiosk-core's qti_inter.rs (issue 18): hottext,
// associate, slider, media, and the explanations for upload and drawing
// (which the kiosk cannot take; a person scores them). End attempt renders
// nothing (a summative exam has no attempt to end). Response values:
//
//   hottext       "H2" / ["H2", "H4"]       identifiers of the chosen spans
//   associate     ["W K", "L D"]            pair "A B" (unordered)
//   slider        600                       a number on a step within the bounds
//   media         2                         how often it was started (integer)
//
// Built like qti.js: createElement/textContent only. `lib` holds qti.js's
// helpers (renderNodes, own, ordered, qtiClasses, imageSrc, plainText), passed
// in to keep the import one-way.

import { h, nextId, announce } from './dom.js';
import { t } from '../i18n.js';

/** Renders `n` if it is one of these interactions; `undefined` otherwise. */
export function renderInter(n, ctx, lib) {
  switch (n.type) {
    case 'hottext-interaction': return hottextInteraction(n, ctx, lib);
    case 'hottext': return ctx.hottext ? ctx.hottext(n) : h('span', {}, lib.renderNodes(n.content, ctx));
    case 'associate-interaction': return associateInteraction(n, ctx, lib);
    case 'slider-interaction': return sliderInteraction(n, ctx, lib);
    case 'upload-interaction': return notAvailable(n, ctx, lib, 'upload', null);
    case 'drawing-interaction': return notAvailable(n, ctx, lib, 'drawing', n.image ? lib.renderNodes([n.image], ctx) : null);
    case 'end-attempt-interaction': return null;
    case 'media-interaction': return mediaInteraction(n, ctx, lib);
    default: return undefined;
  }
}

function prompt(n, ctx, lib, id) {
  return h('div', { class: 'qti-prompt', id }, n.prompt && n.prompt.length ? lib.renderNodes(n.prompt, ctx) : null);
}

/** The declared cardinality decides list or single value. */
function shape(ctx, rid, values, multiple) {
  const card = ctx.cardinality(rid);
  const asList = card ? card !== 'single' : multiple;
  return asList ? values : values[0] ?? null;
}

function hottextInteraction(n, ctx, lib) {
  const rid = n.response_identifier;
  const max = Number(n.max_choices) || 0;
  const current = ctx.get(rid);
  const chosen = new Set(Array.isArray(current) ? current : current ? [current] : []);
  const buttons = [];
  const promptId = nextId('prompt');
  const helpId = nextId('help');
  const update = () => {
    for (const b of buttons) {
      const on = chosen.has(b.dataset.hottext);
      b.setAttribute('aria-pressed', on ? 'true' : 'false');
      // With a limit above one, the others wait until one is undone (max 1: a new choice replaces the old).
      b.disabled = max > 1 && !on && chosen.size >= max;
    }
  };
  const toggle = (id, label) => {
    if (chosen.has(id)) chosen.delete(id);
    else {
      if (max === 1) chosen.clear();
      chosen.add(id);
    }
    ctx.set(rid, shape(ctx, rid, [...chosen], max !== 1));
    update();
    announce(t(chosen.has(id) ? 'qti.hottext.on' : 'qti.hottext.off', { label, n: chosen.size }));
  };
  const hottext = (ht) => {
    const label = lib.plainText(ht.content) || ht.identifier;
    const b = h('button', { type: 'button', class: 'hottext', 'aria-pressed': 'false', dataset: { hottext: ht.identifier }, onclick: () => toggle(ht.identifier, label) },
      lib.renderNodes(ht.content, { ...ctx, phrasing: true }));
    buttons.push(b);
    return b;
  };
  let hint = t('qti.hottext.one');
  if (max > 1) hint = n.min_choices === max ? t('qti.hottext.exact', { n: max }) : t('qti.hottext.max', { n: max });
  else if (max === 0) hint = t('qti.hottext.many');
  const content = h('div', { class: 'hottext-content' }, lib.renderNodes(n.content, { ...ctx, hottext }));
  update();
  return h('div', { class: ['interaction', 'hottext-interaction', ...lib.qtiClasses(n.class)], role: 'group', 'aria-labelledby': promptId, 'aria-describedby': helpId, dataset: { response: rid } },
    prompt(n, ctx, lib, promptId), lib.own(h('p', { class: 'hint', id: helpId }, hint)), content);
}

function associateInteraction(n, ctx, lib) {
  const rid = n.response_identifier;
  const choices = lib.ordered(n, ctx, n.choices || []);
  const label = (c) => lib.plainText(c.content) || c.identifier;
  const norm = (p) => p.split(' ').sort().join(' ');
  const current = new Set((Array.isArray(ctx.get(rid)) ? ctx.get(rid) : ctx.get(rid) ? [ctx.get(rid)] : []).map(norm));
  const boxes = [];
  const max = Number(n.max_associations) || 0;
  const enforce = () => {
    const uses = new Map();
    let total = 0;
    for (const b of boxes) {
      if (!b.el.checked) continue;
      total += 1;
      for (const id of [b.a.identifier, b.b.identifier]) uses.set(id, (uses.get(id) || 0) + 1);
    }
    const full = (c) => c.match_max > 0 && (uses.get(c.identifier) || 0) >= c.match_max;
    for (const b of boxes) b.el.disabled = !b.el.checked && ((max > 0 && total >= max) || full(b.a) || full(b.b));
  };
  const emit = (b) => {
    const pairs = boxes.filter((x) => x.el.checked).map((x) => `${x.a.identifier} ${x.b.identifier}`);
    ctx.set(rid, shape(ctx, rid, pairs, true));
    enforce();
    announce(t(b.el.checked ? 'qti.associate.made' : 'qti.associate.undone', { a: label(b.a), b: label(b.b) }));
  };
  const groups = choices.slice(0, -1).map((a, i) => {
    const legendId = nextId('assoc');
    const rows = choices.slice(i + 1).map((b) => {
      const id = nextId('pair');
      const el = h('input', { type: 'checkbox', id, checked: current.has(norm(`${a.identifier} ${b.identifier}`)), dataset: { pair: `${a.identifier} ${b.identifier}` } });
      const box = { el, a, b };
      el.addEventListener('change', () => emit(box));
      boxes.push(box);
      return h('div', { class: 'choice' }, el, h('label', { for: id },
        lib.own(h('span', { class: 'sr-only' }, t('qti.associate.with', { a: label(a) }))),
        h('span', { class: 'choice-content' }, lib.renderNodes(b.content, { ...ctx, phrasing: true }))));
    });
    return h('fieldset', { class: 'associate-group' },
      h('legend', { id: legendId }, lib.own(h('span', { class: 'associate-with' }, t('qti.associate.legend'))), ' ',
        h('span', { class: 'choice-content' }, lib.renderNodes(a.content, { ...ctx, phrasing: true }))),
      h('div', { class: 'choices' }, rows));
  });
  enforce();
  const promptId = nextId('prompt');
  const hint = max > 0 ? t('qti.associate.help.max', { n: max }) : t('qti.associate.help');
  return h('div', { class: ['interaction', 'associate-interaction', ...lib.qtiClasses(n.class)], role: 'group', 'aria-labelledby': promptId, dataset: { response: rid } },
    prompt(n, ctx, lib, promptId), lib.own(h('p', { class: 'hint' }, hint)), h('div', { class: 'associate-groups' }, groups));
}

/** A number as the student reads it (Dutch decimal comma). */
function shown(x) {
  return String(x).replace('.', t('qti.slider.decimal'));
}

function sliderInteraction(n, ctx, lib) {
  const rid = n.response_identifier;
  const lo = Number(n.lower_bound);
  const hi = Number(n.upper_bound);
  const integer = ctx.baseType ? ctx.baseType(rid) === 'integer' : false;
  const step = Number(n.step) > 0 ? Number(n.step) : integer ? 1 : 'any';
  const current = ctx.get(rid);
  const has = typeof current === 'number' && current >= lo && current <= hi;
  const id = nextId('slider');
  const promptId = nextId('prompt');
  const outId = nextId('out');
  const out = h('output', { id: outId, for: id, class: 'slider-value' }, has ? shown(current) : t('qti.slider.none'));
  const input = h('input', {
    type: 'range', id, min: String(lo), max: String(hi), step: String(step),
    class: ['slider', n.orientation === 'vertical' ? 'vertical' : null, n.reverse ? 'reverse' : null],
    'aria-describedby': outId,
    dataset: { response: rid },
  });
  input.value = String(has ? current : lo);
  if (!has) input.setAttribute('aria-valuetext', t('qti.slider.none'));
  input.addEventListener('input', () => {
    const v = Number(input.value);
    input.removeAttribute('aria-valuetext');
    out.textContent = shown(v);
    ctx.set(rid, v);
  });
  // Reverse: the highest value on the left (or top); keyboard arrows follow the picture.
  if (n.reverse) input.setAttribute('dir', 'rtl');
  // Step labels: at every k-th step, k dividing the steps so at most 11 labels stand evenly spaced; else the ends only.
  const steps = typeof step === 'number' ? Math.round((hi - lo) / step) : 0;
  let every = 0;
  if (n.step_label && steps > 0) for (let k = 1; k <= steps && !every; k += 1) if (steps % k === 0 && steps / k <= 10) every = k;
  const ticks = every
    ? h('div', { class: 'slider-ticks', 'aria-hidden': 'true' }, Array.from({ length: steps / every + 1 }, (_, i) => h('span', {}, shown(+(lo + i * every * step).toFixed(10)))))
    : h('div', { class: 'slider-ticks', 'aria-hidden': 'true' }, h('span', {}, shown(lo)), h('span', {}, shown(hi)));
  if (n.reverse) ticks.classList.add('reverse');
  return h('div', { class: ['interaction', 'slider-interaction', ...lib.qtiClasses(n.class)], role: 'group', 'aria-labelledby': promptId, dataset: { response: rid } },
    prompt(n, ctx, lib, promptId),
    lib.own(h('label', { for: id, class: 'field-label' }, t('qti.slider.label', { lo: shown(lo), hi: shown(hi) }))),
    h('div', { class: 'slider-box' }, input, ticks),
    lib.own(h('p', { class: 'slider-current' }, t('qti.slider.current'), ' ', out)));
}

/** Upload and drawing: what the kiosk cannot take, said plainly; a person scores it. */
function notAvailable(n, ctx, lib, kind, extra) {
  const promptId = nextId('prompt');
  return h('div', { class: ['interaction', `${kind}-interaction`, 'not-available', ...lib.qtiClasses(n.class)], role: 'group', 'aria-labelledby': promptId, dataset: { response: n.response_identifier } },
    prompt(n, ctx, lib, promptId), extra,
    lib.own(h('p', { class: 'notice-box', role: 'note' }, t(`qti.${kind}.unavailable`))));
}

/** A safe audio/video source: data: audio/video, or the shell's exammedia: URL from `media`. */
function mediaSrc(src, ctx) {
  if (typeof src !== 'string') return null;
  if (ctx.media && typeof ctx.media[src] === 'string') src = ctx.media[src];
  if (/^data:(audio|video)\/[a-z0-9.+-]+;base64,[A-Za-z0-9+/=\s]+$/.test(src)) return src;
  if (/^exammedia:\/\/localhost\/[A-Za-z0-9\-._~/%]+$/.test(src)) return src;
  return null;
}

function mediaInteraction(n, ctx, lib) {
  const rid = n.response_identifier;
  const max = Number(n.max_plays) || 0;
  const min = Number(n.min_plays) || 0;
  let plays = Number.isInteger(ctx.get(rid)) ? ctx.get(rid) : 0;
  const promptId = nextId('prompt');
  const countId = nextId('plays');
  const video = n.kind === 'video';
  const sources = (n.sources || []).map((s) => [mediaSrc(s.src, ctx), s.mime]).filter(([src]) => src);
  const count = lib.own(h('p', { class: 'media-count', id: countId }, ''));
  // No download, no other playback speed, no picture-in-picture or casting: only play, pause, seek and volume.
  const player = h(video ? 'video' : 'audio', { class: 'media-player', preload: 'metadata', 'aria-labelledby': promptId, 'aria-describedby': countId,
    controlslist: 'nodownload noplaybackrate noremoteplayback', disablepictureinpicture: true, disableremoteplayback: true },
    sources.map(([src, type]) => h('source', { src, type })));
  if (video && /^\d+$/.test(n.width || '')) player.width = Number(n.width);
  if (video && /^\d+$/.test(n.height || '')) player.height = Number(n.height);
  player.loop = Boolean(n.loop) && max === 0;
  const used = () => max > 0 && plays >= max;
  const say = () => {
    let text = max > 0 ? t('qti.media.count.max', { n: plays, max }) : t('qti.media.count', { n: plays });
    if (min > plays) text += ' ' + t('qti.media.min', { n: min });
    count.textContent = text;
    // Used up: no controls left to start it again (it may finish the play that is going on).
    if (used() && (player.paused || player.ended)) player.controls = false;
  };
  player.controls = true;
  let playing = false;
  player.addEventListener('play', () => {
    if (playing) return; // a resume after pause is the same play
    if (used()) { player.pause(); say(); return; }
    playing = true;
    plays += 1;
    ctx.set(rid, plays);
    say();
    announce(t('qti.media.started', { n: plays }));
  });
  player.addEventListener('ended', () => { playing = false; say(); });
  say();
  const missing = sources.length ? null : lib.own(h('p', { class: 'notice-box', role: 'note' }, t('qti.media.missing')));
  if (n.autostart && !used() && sources.length) queueMicrotask(() => { const p = player.play && player.play(); if (p && p.catch) p.catch(() => {}); });
  return h('div', { class: ['interaction', 'media-interaction', ...lib.qtiClasses(n.class)], role: 'group', 'aria-labelledby': promptId, dataset: { response: rid } },
    prompt(n, ctx, lib, promptId), missing || player, count);
}
