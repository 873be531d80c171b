// Rendering the QTI 3.0 render model (kiosk-core `instrument::qti`,
// serialised `AssessmentTest`) into accessible DOM.
//
// Everything is built with createElement/textContent; tags and attributes
// are checked against an allow-list here again (defence in depth: the
// importer already filters them). Response values, per response variable:
//
//   choice (max_choices 1)   "A"                      identifier
//   choice (multiple)        ["A", "C"]               identifiers
//   order                    ["C", "A", "B"]          identifiers in order
//   text entry / extended    "text"                   string
//   inline choice            "B"                      identifier
//   match                    ["S1 T2", "S2 T1"]       directedPair "source target"
//   gap match                ["W1 G1", "W3 G2"]       directedPair "choice gap"
//   graphic interactions     see qti-graphic.js (hotspot ids, pairs, points "x y")
//
// When the item declares a response's cardinality, it decides the shape:
// `single` gives the bare value (a match with one pair: "S1 T2"), otherwise
// a list (a choice with max_choices 1 but cardinality multiple: ["A"]).
//
// An item's answer (what save_answer gets as `value`) is an object of those,
// keyed by response identifier: {"RESPONSE": "A"}. Unanswered is null/absent.

import { h, nextId, announce } from './dom.js';
import { t, lang as uiLang } from '../i18n.js';
import { renderInter } from './qti-inter.js';
import { dragAndDrop, orderHandle } from './qti-dnd.js';
import { renderGraphic } from './qti-graphic.js';
import { renderMath, mathText, renderMedia, companionNote, renderStimuli, topHeading } from './qti-content.js';

// Same set as kiosk-core's ALLOWED_HTML; anything else is rendered as its
// children only.
const ALLOWED_TAGS = new Set([
  'p', 'div', 'span', 'br', 'hr', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'strong', 'em', 'b', 'i', 'u', 'sub', 'sup',
  'small', 'big', 'code', 'pre', 'kbd', 'samp', 'var', 'cite', 'q', 'abbr', 'acronym', 'dfn', 'blockquote', 'address',
  'ul', 'ol', 'li', 'dl', 'dt', 'dd', 'table', 'caption', 'thead', 'tbody', 'tfoot', 'tr', 'th', 'td', 'col',
  'colgroup', 'figure', 'figcaption', 'ruby', 'rb', 'rt', 'rtc', 'rp', 'bdo', 'bdi', 'mark', 's', 'del', 'ins', 'label', 'section',
  'article', 'aside', 'header', 'footer',
]);
// Non-qti classes are dropped so content cannot use the kiosk's own styles;
// an `id` becomes a kiosk-made one (`q-N`, unique in the page) and the
// aria-labelledby/-describedby references follow it, so content can neither
// collide with the kiosk's ids nor point at them (see `finishIds`); `dir`
// only as ltr/rtl/auto; `label` is rendered as a span (no `for`).
const ALLOWED_ATTRS = new Set(['lang', 'title', 'colspan', 'rowspan', 'headers', 'scope', 'abbr', 'span', 'start', 'type', 'reversed', 'value', 'aria-label']);
const ID_REFS = new Set(['aria-describedby', 'aria-labelledby']);
const DIRS = new Set(['ltr', 'rtl', 'auto']);
const RENAME = { big: 'span', acronym: 'abbr', label: 'span', section: 'div', article: 'div', aside: 'div', header: 'div', footer: 'div' };
// Block elements, for rendering inside a <legend> (phrasing only).
const BLOCK = new Set(['p', 'div', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'blockquote', 'address', 'pre', 'section', 'article', 'aside', 'header', 'footer', 'figure', 'figcaption']);

// ---------------------------------------------------------------------------
// The instrument as pages of items.

/** Deterministic PRNG (mulberry32) from a string seed. */
function rng(seed) {
  let a = 0x811c9dc5;
  for (let i = 0; i < seed.length; i += 1) a = Math.imul(a ^ seed.charCodeAt(i), 16777619);
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** Shuffles the entries that are not `fixed`, seeded, keeping fixed ones in place. */
export function seededShuffle(list, seed, isFixed = (x) => Boolean(x.fixed)) {
  const rand = rng(seed);
  const free = list.filter((x) => !isFixed(x));
  for (let i = free.length - 1; i > 0; i -= 1) {
    const j = Math.floor(rand() * (i + 1));
    [free[i], free[j]] = [free[j], free[i]];
  }
  let k = 0;
  return list.map((x) => (isFixed(x) ? x : free[k++]));
}

/**
 * Flattens the render model into { title, navigation, items, pages }.
 * Accepts the AssessmentTest shape (test_parts → sections → parts) and,
 * for a shell that flattens itself, { title, navigation, items: [Item] }.
 * Items: { ref, item, part, sections: [Section], navigation }.
 * Pages: arrays of item indexes; a section with keep_together is one page.
 */
export function flatten(instrument, seed) {
  const items = [];
  const pages = [];
  const shuffle = !instrument.shuffled;
  let navigation = instrument.navigation || null;
  if (Array.isArray(instrument.test_parts)) {
    for (const part of instrument.test_parts) {
      const nav = part.navigation_mode === 'linear' ? 'linear' : 'nonlinear';
      if (nav === 'linear') navigation = 'linear';
      const walk = (section, trail, outer) => {
        let children = section.parts || [];
        if (section.shuffle && shuffle) children = seededShuffle(children, `${seed}/${section.identifier}`, () => false);
        const page = outer || (section.keep_together ? [] : null);
        for (const child of children) {
          if (child.kind === 'section') {
            walk(child, [...trail, child], page);
          } else {
            const idx = items.length;
            items.push({ ref: child.ref_identifier || child.identifier, item: child, part, sections: trail, navigation: nav });
            if (page) page.push(idx);
            else pages.push([idx]);
          }
        }
        if (page && !outer && page.length) pages.push(page);
      };
      for (const s of part.sections || []) walk(s, [s], null);
    }
  } else if (Array.isArray(instrument.items)) {
    for (const it of instrument.items) {
      items.push({ ref: it.ref_identifier || it.identifier || it.id, item: it, part: null, sections: [], navigation: instrument.navigation || 'nonlinear' });
      pages.push([items.length - 1]);
    }
  }
  return { title: instrument.title || '', navigation: navigation || 'nonlinear', items, pages, seed };
}

// ---------------------------------------------------------------------------
// Answers.

function asArray(v) {
  if (Array.isArray(v)) return v;
  return v === null || v === undefined || v === '' ? [] : [v];
}

function isEmpty(v) {
  return v === null || v === undefined || v === '' || (Array.isArray(v) && v.length === 0);
}

/** Whether an item answer (object of response values) holds anything. */
export function answered(value) {
  if (!value || typeof value !== 'object') return !isEmpty(value);
  return Object.values(value).some((v) => !isEmpty(typeof v === 'string' ? v.trim() : v));
}

// ---------------------------------------------------------------------------
// Content.

/** Plain text of nodes, for <option>s, read-aloud and labels. */
export function plainText(nodes, speech = false, spoken = null) {
  let out = '';
  for (const n of nodes || []) {
    if (!n) continue;
    if (n.type === 'text') out += n.text;
    else if (n.type === 'image') out += ` ${n.alt || ''} `;
    else if (n.type === 'element') {
      // What the author marked as not to be read aloud is not sent to the engine.
      if (speech && SPOKEN_SUPPRESSED.has(n.attrs && n.attrs[SUPPRESS_TTS])) continue;
      const block = BLOCK.has(n.tag) || n.tag === 'br' || n.tag === 'li' ? ' ' : '';
      // The accessibility catalog's spoken text for it, when the item has one.
      const alternative = speech && spoken && n.attrs ? spoken[n.attrs[CATALOG_IDREF]] : undefined;
      out += block + (typeof alternative === 'string' ? ` ${alternative} ` : plainText(n.children, speech, spoken));
    } else if (n.type === 'gap') out += ' … ';
    else if (n.type === 'math') out += ` ${mathText(n)} `;
    else if (n.content) out += plainText(n.content, speech, spoken);
    if (Array.isArray(n.prompt)) out = plainText(n.prompt, speech, spoken) + ' ' + out;
  }
  return out.replace(/\s+/g, ' ').trim();
}

/** The text read aloud: {@link plainText} without what the item marks
 * `data-qti-suppress-tts` for read-aloud, and with the item's accessibility
 * catalog's spoken text (`spoken`: id → text) for what refers to it. */
export function speechText(nodes, spoken = null) {
  return plainText(nodes, true, spoken);
}

// QTI 3's link from content to the item's accessibility catalog (kept by the importer).
const CATALOG_IDREF = 'data-catalog-idref';

// QTI 3's data-qti-suppress-tts (kept by the importer only with these values).
const SUPPRESS_TTS = 'data-qti-suppress-tts';
const SPOKEN_SUPPRESSED = new Set(['computer-read-aloud', 'all']);
const SCREEN_READER_SUPPRESSED = new Set(['screen-reader', 'all']);

/** Whether nodes hold only static content (text, markup, images, formulas): nothing a student works with. */
function staticContent(nodes) {
  return (nodes || []).every((n) => !n || n.type === 'text' || n.type === 'image' || n.type === 'math' || (n.type === 'element' && staticContent(n.children)));
}

function qtiClasses(list) {
  return (Array.isArray(list) ? list : String(list || '').split(/\s+/)).filter((c) => /^qti-[a-z0-9-]+$/.test(c));
}

/** A safe image source: data: images, or a package path resolved via `media`
 * (to the shell's exammedia: scheme, which serves the instrument's images). */
function imageSrc(src, ctx) {
  if (typeof src !== 'string') return null;
  if (ctx.media && typeof ctx.media[src] === 'string') src = ctx.media[src];
  if (/^data:image\/(png|jpe?g|gif|webp|svg\+xml);base64,[A-Za-z0-9+/=\s]+$/.test(src)) return src;
  if (/^exammedia:\/\/localhost\/[A-Za-z0-9\-._~/%]+$/.test(src)) return src;
  return null;
}

/**
 * Renders nodes into DOM. ctx: { item, answer, set, seed, media, phrasing,
 * headingBase, gaps (for gap match), counters }.
 */
export function renderNodes(nodes, ctx) {
  const out = [];
  for (const n of nodes || []) {
    const el = renderNode(n, ctx);
    if (el) out.push(el);
  }
  return out;
}

function renderNode(n, ctx) {
  if (!n || typeof n !== 'object') return null;
  switch (n.type) {
    case 'text':
      return document.createTextNode(String(n.text ?? ''));
    case 'element':
      return renderElement(n, ctx);
    case 'image': {
      const src = imageSrc(n.src, ctx);
      const alt = String(n.alt ?? '');
      if (!src) return h('span', { class: 'qti-image-missing' }, `[${alt || t('qti.image.noalt')}]`);
      const img = h('img', { src, alt, class: qtiClasses(n.class), draggable: 'false' });
      if (n.width && /^\d+$/.test(n.width)) img.width = Number(n.width);
      if (n.height && /^\d+$/.test(n.height)) img.height = Number(n.height);
      return img;
    }
    case 'rubric-block': {
      const view = n.view || [];
      if (view.length && !view.includes('candidate')) return null;
      return h('div', { class: ['rubric', ...qtiClasses(n.class)], role: 'note', 'aria-label': t('qti.rubric') }, renderNodes(n.content, { ...ctx, phrasing: false }));
    }
    case 'math':
      return renderMath(n);
    case 'media':
      return renderMedia(n, ctx);
    case 'gap':
      return ctx.gaps ? ctx.gaps(n) : h('span', { class: 'gap-missing' }, '…');
    case 'choice-interaction':
      return choiceInteraction(n, ctx);
    case 'order-interaction':
      return orderInteraction(n, ctx);
    case 'text-entry-interaction':
      return textEntry(n, ctx);
    case 'extended-text-interaction':
      return extendedText(n, ctx);
    case 'match-interaction':
      return matchInteraction(n, ctx);
    case 'inline-choice-interaction':
      return inlineChoice(n, ctx);
    case 'gap-match-interaction':
      return gapMatch(n, ctx);
    case 'graphic-interaction':
    case 'position-object-stage':
      return renderGraphic(n, ctx, { renderNodes, own, imageSrc, plainText, ordered });
    default: {
      // Hottext, associate, slider, upload, drawing, end attempt, media: qti-inter.js.
      const el = renderInter(n, ctx, { renderNodes, own, ordered, qtiClasses, imageSrc, plainText });
      if (el !== undefined) return el;
      return h('p', { class: 'qti-unsupported', role: 'alert' }, t('qti.unsupported', { kind: String(n.type) }));
    }
  }
}

/** The kiosk's own text inside item content: its language and direction,
 * whatever the item's (an RTL item must not turn a Dutch hint around). */
function own(el) {
  el.setAttribute('dir', 'ltr');
  el.setAttribute('lang', uiLang());
  // Not item text: it changes with the language, so the markeerstift's
  // offsets leave it out (tools-highlight.js).
  el.setAttribute('data-no-highlight', '');
  return el;
}

/** A copy of ctx with its own id space (content rendered apart from an item's body, e.g. a section's rubric blocks). */
export function withIds(ctx) {
  return { ...ctx, ids: { map: new Map(), defined: new Set(), refs: [] } };
}

function idState(ctx) {
  if (!ctx.ids) ctx.ids = { map: new Map(), defined: new Set(), refs: [] };
  return ctx.ids;
}

/** The page-unique id for an item's own id (same id, same result within one item). */
function itemId(ctx, id) {
  const ids = idState(ctx);
  if (!ids.map.has(id)) ids.map.set(id, nextId('q'));
  return ids.map.get(id);
}

/**
 * Sets the aria-labelledby/-describedby references collected while rendering,
 * now that every id of the item is known: a reference to an id the item does
 * not have is left out (it would point at nothing, or at the kiosk's own).
 */
export function finishIds(ctx) {
  const ids = ctx.ids;
  if (!ids) return;
  for (const [el, attr, refs] of ids.refs) {
    const known = refs.filter((r) => ids.defined.has(r)).map((r) => itemId(ctx, r));
    if (known.length) el.setAttribute(attr, known.join(' '));
  }
  ids.refs = [];
}

/** A table scrolls sideways in its own box (keyboard-focusable, labelled)
 * instead of pushing the page under the review list. */
function tableBox(table, n) {
  const caption = (n.children || []).find((c) => c && c.type === 'element' && c.tag === 'caption');
  const name = (n.attrs && n.attrs['aria-label']) || (caption && plainText(caption.children)) || '';
  return h('div', { class: 'table-scroll', role: 'region', tabindex: '0', 'aria-label': name ? t('qti.table.named', { name }) : t('qti.table') }, table);
}

/**
 * An item's body as a `div.item-body` with the item's language and
 * direction, ids resolved, content headings one level below the item's
 * heading. ctx as for `renderNodes`.
 */
export function renderItemBody(item, ctx, langFallback = null) {
  idState(ctx);
  ctx.headingTop = topHeading(item.body) || 1;
  const body = h('div', { class: 'item-body', lang: item.lang || langFallback || null, dir: DIRS.has(item.dir) ? item.dir : null },
    companionNote(item), renderStimuli(item, ctx, renderNodes), renderNodes(item.body, ctx));
  finishIds(ctx);
  return body;
}

function renderElement(n, ctx) {
  let tag = String(n.tag || '').toLowerCase();
  if (!ALLOWED_TAGS.has(tag)) return h('span', {}, renderNodes(n.children, ctx));
  tag = RENAME[tag] || tag;
  if (/^h[1-6]$/.test(tag)) {
    // The item title is the page's h2/h3; content headings go below it, the
    // item's highest level one below the title (an item that starts at h2
    // must not skip a level: axe heading-order).
    const level = Math.min(6, Number(tag[1]) - (ctx.headingTop || 1) + 1 + (ctx.headingBase || 2));
    tag = `h${level}`;
  }
  if (ctx.phrasing && BLOCK.has(tag)) tag = 'span';
  const el = document.createElement(tag);
  if (ctx.phrasing && BLOCK.has(n.tag)) el.classList.add('block');
  for (const [k, v] of Object.entries(n.attrs || {})) {
    if (k === 'class') el.classList.add(...qtiClasses(v));
    else if (k === 'id' && String(v).trim()) {
      el.setAttribute('id', itemId(ctx, String(v).trim()));
      idState(ctx).defined.add(String(v).trim());
    } else if (ID_REFS.has(k)) {
      const refs = String(v).split(/\s+/).filter(Boolean);
      if (refs.length) idState(ctx).refs.push([el, k, refs]);
    } else if (k === 'dir') {
      if (DIRS.has(String(v).toLowerCase())) el.setAttribute('dir', String(v).toLowerCase());
    } else if (k === SUPPRESS_TTS) {
      // Hidden from screen readers only where nothing inside can be worked with
      // (aria-hidden on a focusable control would leave it unnamed).
      if (SCREEN_READER_SUPPRESSED.has(v) && staticContent(n.children)) el.setAttribute('aria-hidden', 'true');
    } else if (ALLOWED_ATTRS.has(k)) el.setAttribute(k, String(v));
  }
  for (const c of renderNodes(n.children, ctx)) el.append(c);
  return tag === 'table' && !ctx.phrasing ? tableBox(el, n) : el;
}

// ---------------------------------------------------------------------------
// Interactions. Each reads its current value with ctx.get(responseId) and
// reports changes with ctx.set(responseId, value).

function choiceLabel(classes, i) {
  const c = qtiClasses(classes);
  if (c.includes('qti-labels-none')) return null;
  if (c.includes('qti-labels-upper-alpha')) return String.fromCharCode(65 + i);
  if (c.includes('qti-labels-lower-alpha')) return String.fromCharCode(97 + i);
  if (c.includes('qti-labels-decimal')) return String(i + 1);
  return null;
}

function ordered(n, ctx, list) {
  return n.shuffle && !ctx.noShuffle ? seededShuffle(list, `${ctx.seed}/${ctx.item.ref}/${n.response_identifier}`) : list;
}

function legendFor(n, ctx, hint) {
  const prompt = n.prompt && n.prompt.length ? renderNodes(n.prompt, { ...ctx, phrasing: true }) : [];
  return h('legend', { class: 'qti-prompt' }, h('span', { class: 'prompt-text' }, prompt), own(h('span', { class: 'hint' }, hint)));
}

function choiceInteraction(n, ctx) {
  const rid = n.response_identifier;
  const multiple = n.max_choices !== 1;
  const name = nextId(`c-${ctx.item.ref}-${rid}`);
  const current = ctx.get(rid);
  const selected = new Set(Array.isArray(current) ? current : current ? [current] : []);
  let hint = t('qti.choose.one');
  if (multiple) {
    if (n.max_choices > 1 && n.min_choices === n.max_choices) hint = t('qti.choose.exact', { n: n.max_choices });
    else if (n.max_choices > 1) hint = t('qti.choose.max', { n: n.max_choices });
    else hint = t('qti.choose.many');
  }
  const inputs = [];
  const limit = () => {
    if (!multiple || !(n.max_choices > 0)) return;
    const count = inputs.filter((i) => i.checked).length;
    for (const i of inputs) i.disabled = !i.checked && count >= n.max_choices;
  };
  // The declared cardinality decides the value's shape (a max_choices 1
  // interaction can still declare a multiple response).
  const asList = ctx.cardinality(rid) ? ctx.cardinality(rid) !== 'single' : multiple;
  const emit = () => {
    const vals = inputs.filter((i) => i.checked).map((i) => i.value);
    ctx.set(rid, asList ? vals : vals[0] ?? null);
    limit();
  };
  const choices = ordered(n, ctx, n.choices || []);
  const list = h('div', { class: ['choices', n.orientation === 'horizontal' ? 'horizontal' : 'vertical'] });
  choices.forEach((c, i) => {
    const id = nextId('choice');
    const input = h('input', { type: multiple ? 'checkbox' : 'radio', name, id, value: c.identifier, checked: selected.has(c.identifier), onchange: emit });
    inputs.push(input);
    const letter = choiceLabel(n.class, i);
    list.append(
      h('div', { class: 'choice' },
        input,
        h('label', { for: id },
          letter ? h('span', { class: 'choice-letter' }, letter, h('span', { class: 'sr-only' }, ':')) : null,
          h('span', { class: 'choice-content' }, renderNodes(c.content, { ...ctx, phrasing: true })))),
    );
  });
  limit();
  return h('fieldset', { class: ['interaction', 'choice-interaction', ...qtiClasses(n.class)], dataset: { response: rid } }, legendFor(n, ctx, hint), list);
}

function textEntry(n, ctx) {
  const rid = n.response_identifier;
  ctx.counters.text = (ctx.counters.text || 0) + 1;
  const len = Math.max(3, Math.min(60, Number(n.expected_length) || 12));
  const input = h('input', {
    type: 'text',
    class: ['text-entry', ...qtiClasses(n.class)],
    size: String(len),
    value: ctx.get(rid) ?? '',
    placeholder: n.placeholder || null,
    autocomplete: 'off',
    autocapitalize: 'off',
    // The web view's own spell-check stays off for everyone; the Dutch one
    // is the kiosk's (spell_check, the spell-check accommodation).
    spellcheck: 'false',
    'aria-label': ctx.counters.textTotal > 1 ? `${t('qti.text.label')} ${ctx.counters.text}` : t('qti.text.label'),
    dataset: { response: rid },
    oninput: (e) => ctx.set(rid, e.target.value),
  });
  input.classList.add('interaction');
  return input;
}

function extendedText(n, ctx) {
  const rid = n.response_identifier;
  const id = nextId('ext');
  const promptId = nextId('prompt');
  const countId = nextId('count');
  const words = (s) => (s.trim() ? s.trim().split(/\s+/).length : 0);
  const count = own(h('p', { class: 'word-count', id: countId }, t('qti.extended.count', { n: words(ctx.get(rid) || '') })));
  const area = h('textarea', {
    id,
    rows: String(Math.max(4, Math.min(30, Number(n.expected_lines) || 8))),
    class: 'extended-text',
    placeholder: n.placeholder || null,
    spellcheck: 'false',
    autocapitalize: 'off',
    autocomplete: 'off',
    'aria-describedby': n.prompt && n.prompt.length ? `${promptId} ${countId}` : countId,
    dataset: { response: rid },
    oninput: (e) => {
      ctx.set(rid, e.target.value);
      count.textContent = t('qti.extended.count', { n: words(e.target.value) });
    },
  });
  area.value = ctx.get(rid) ?? '';
  const prompt = n.prompt && n.prompt.length ? h('div', { class: 'qti-prompt', id: promptId }, renderNodes(n.prompt, ctx)) : null;
  return h('div', { class: ['interaction', 'extended-text-interaction', ...qtiClasses(n.class)] },
    prompt,
    own(h('label', { for: id, class: 'field-label' }, t('qti.extended.label'))),
    area,
    count);
}

function orderInteraction(n, ctx) {
  const rid = n.response_identifier;
  const byId = new Map((n.choices || []).map((c) => [c.identifier, c]));
  const current = ctx.get(rid);
  let order = Array.isArray(current) && current.every((id) => byId.has(id)) && current.length === byId.size
    ? current.slice()
    : ordered(n, ctx, n.choices || []).map((c) => c.identifier);
  const promptId = nextId('prompt');
  const helpId = nextId('help');
  const list = h('ol', { class: 'order-list', 'aria-labelledby': promptId, 'aria-describedby': helpId });
  const labelOf = (id) => plainText(byId.get(id).content) || id;
  // Drag and drop (qti-dnd.js): the list's held/dragged entry, kept across redraws.
  const grab = { held: null, drag: null };
  const moveTo = (from, to) => {
    const [x] = order.splice(from, 1);
    order.splice(to, 0, x);
    ctx.set(rid, order.slice());
  };
  const draw = (focusId, dir) => {
    while (list.firstChild) list.removeChild(list.firstChild);
    order.forEach((id, i) => {
      const label = labelOf(id);
      const move = (delta) => {
        const j = i + delta;
        if (j < 0 || j >= order.length) return;
        [order[i], order[j]] = [order[j], order[i]];
        ctx.set(rid, order.slice());
        draw(id, delta < 0 ? 'up' : 'down');
        announce(t('qti.order.moved', { label, pos: j + 1, total: order.length }));
      };
      const keys = (e) => {
        if (e.altKey && e.key === 'ArrowUp') { e.preventDefault(); move(-1); }
        if (e.altKey && e.key === 'ArrowDown') { e.preventDefault(); move(1); }
      };
      const up = h('button', { type: 'button', class: 'icon-button', 'aria-label': t('qti.order.up', { label }), disabled: i === 0, onclick: () => move(-1), onkeydown: keys, dataset: { dir: 'up' } }, '▲');
      const down = h('button', { type: 'button', class: 'icon-button', 'aria-label': t('qti.order.down', { label }), disabled: i === order.length - 1, onclick: () => move(1), onkeydown: keys, dataset: { dir: 'down' } }, '▼');
      const handle = orderHandle(grab, { id, index: i, total: order.length, label, content: renderNodes(byId.get(id).content, { ...ctx, phrasing: true }),
        moveTo, redraw: (fid) => draw(fid, 'grab'), help: helpId });
      const li = h('li', { class: 'order-item', dataset: { choice: id } },
        h('span', { class: 'order-pos', 'aria-hidden': 'true' }, String(i + 1)),
        h('span', { class: 'order-content' }, handle),
        h('span', { class: 'order-buttons' }, up, down));
      list.append(li);
      if (id === focusId) {
        // Keep focus on the moved entry; if its button got disabled at an
        // edge, use the other one.
        let target = dir === 'grab' ? handle : dir === 'up' ? up : down;
        if (target.disabled) target = dir === 'up' ? down : up;
        queueMicrotask(() => target.focus());
      }
    });
  };
  draw();
  const prompt = h('div', { class: 'qti-prompt', id: promptId }, n.prompt && n.prompt.length ? renderNodes(n.prompt, ctx) : own(h('span', {}, t('qti.order.list'))));
  return h('div', { class: ['interaction', 'order-interaction', ...qtiClasses(n.class)], role: 'group', 'aria-labelledby': promptId, dataset: { response: rid } },
    prompt, own(h('p', { class: 'hint', id: helpId }, t('qti.order.help'))), list);
}

function hasImage(nodes) {
  return (nodes || []).some((n) => n && (n.type === 'image' || hasImage(n.children) || hasImage(n.content)));
}

/** Option text for a <select>: the plain text, numbered when the choices are shown as a rich list. */
function optionText(c, i, rich) {
  const text = plainText(c.content);
  if (!rich) return text || c.identifier;
  return text ? `${t('qti.choice.n', { n: i + 1 })}: ${text}` : t('qti.choice.n', { n: i + 1 });
}

/** The choices with their full content (images), numbered, for selects that can only show text. */
function choiceList(choices, ctx, label) {
  return h('ol', { class: 'choice-bank', 'aria-label': label },
    choices.map((c, i) => h('li', {},
      own(h('span', { class: 'bank-no' }, t('qti.choice.n', { n: i + 1 }))),
      h('span', { class: 'bank-content' }, renderNodes(c.content, { ...ctx, phrasing: true })))));
}

/** Disables options of choices used `match_max` times elsewhere. */
function capacity(selects, choices, countUses) {
  const uses = countUses();
  for (const sel of selects) {
    for (const opt of sel.options) {
      if (!opt.value) continue;
      const c = choices.find((x) => x.identifier === opt.value);
      const max = c ? c.match_max : 0;
      opt.disabled = max > 0 && (uses.get(opt.value) || 0) >= max && sel.value !== opt.value;
    }
  }
}

function matchInteraction(n, ctx) {
  const rid = n.response_identifier;
  const sources = ordered(n, ctx, n.source || []);
  const targets = ordered({ ...n, response_identifier: `${rid}/t` }, ctx, n.target || []);
  const pairs = new Set(asArray(ctx.get(rid)));
  const promptId = nextId('prompt');
  const controls = [];
  const emit = () => {
    const out = [];
    for (const c of controls) {
      if (c.kind === 'select' && c.el.value) out.push(`${c.source} ${c.el.value}`);
      if (c.kind === 'check' && c.el.checked) out.push(`${c.source} ${c.target}`);
    }
    ctx.set(rid, ctx.cardinality(rid) === 'single' ? out[0] ?? null : out);
    enforce();
  };
  const enforce = () => {
    const used = new Map();
    let total = 0;
    for (const c of controls) {
      const tgt = c.kind === 'select' ? c.el.value : c.el.checked ? c.target : '';
      if (tgt) { used.set(tgt, (used.get(tgt) || 0) + 1); total += 1; }
    }
    capacity(controls.filter((c) => c.kind === 'select').map((c) => c.el), targets, () => used);
    for (const c of controls.filter((x) => x.kind === 'check')) {
      const tg = targets.find((x) => x.identifier === c.target);
      const full = (tg && tg.match_max > 0 && (used.get(c.target) || 0) >= tg.match_max) || (n.max_associations > 0 && total >= n.max_associations);
      c.el.disabled = !c.el.checked && full;
    }
  };
  const rich = targets.some((tg) => hasImage(tg.content));
  const rows = sources.map((s) => {
    const label = plainText(s.content) || s.identifier;
    const contentId = nextId('src');
    const srcContent = h('div', { class: 'match-source', id: contentId }, renderNodes(s.content, ctx));
    if (s.match_max === 1) {
      const id = nextId('match');
      const current = [...pairs].find((p) => p.split(' ')[0] === s.identifier);
      const sel = h('select', { id, 'aria-labelledby': contentId, onchange: emit, dataset: { source: s.identifier } },
        h('option', { value: '' }, t('qti.match.none')),
        targets.map((tg, i) => h('option', { value: tg.identifier, selected: current === `${s.identifier} ${tg.identifier}` }, optionText(tg, i, rich))));
      controls.push({ kind: 'select', el: sel, source: s.identifier });
      return h('div', { class: 'match-row' }, srcContent, h('div', { class: 'match-target' }, h('label', { for: id, class: 'sr-only' }, t('qti.match.pick', { label })), sel));
    }
    const boxes = targets.map((tg) => {
      const id = nextId('match');
      const box = h('input', { type: 'checkbox', id, checked: pairs.has(`${s.identifier} ${tg.identifier}`), onchange: emit, dataset: { source: s.identifier, target: tg.identifier } });
      controls.push({ kind: 'check', el: box, source: s.identifier, target: tg.identifier });
      return h('div', { class: 'choice' }, box, h('label', { for: id }, renderNodes(tg.content, { ...ctx, phrasing: true })));
    });
    return h('fieldset', { class: 'match-row multi' }, h('legend', { class: 'sr-only' }, t('qti.match.multi', { label })), srcContent, h('div', { class: 'match-target choices' }, boxes));
  });
  enforce();
  const prompt = h('div', { class: 'qti-prompt', id: promptId }, n.prompt && n.prompt.length ? renderNodes(n.prompt, ctx) : null);
  // The targets as a bank to drag from (qti-dnd.js) onto the rows; a drop sets the row's select or checkbox.
  const bank = rich
    ? choiceList(targets, ctx, t('qti.choices'))
    : h('ul', { class: 'gap-bank', 'aria-label': t('qti.choices') }, targets.map((tg) => h('li', {}, renderNodes(tg.content, { ...ctx, phrasing: true }))));
  const root = h('div', { class: ['interaction', 'match-interaction', ...qtiClasses(n.class)], role: 'group', 'aria-labelledby': promptId, dataset: { response: rid } },
    prompt, own(h('p', { class: 'hint' }, t('qti.match.help'))), bank, h('div', { class: 'match-rows' }, rows));
  const rowTarget = (s) => {
    const mine = controls.filter((c) => c.source === s.identifier);
    const sel = mine.length === 1 && mine[0].kind === 'select' ? mine[0].el : null;
    const box = (id) => (mine.find((c) => c.target === id) || {}).el;
    return {
      anchor: sel || mine[0].el.parentNode.parentNode,
      zone: [sel ? sel.parentNode.parentNode : mine[0].el.parentNode.parentNode.parentNode],
      label: plainText(s.content) || s.identifier,
      full: (id) => (sel ? sel.disabled || ![...sel.options].some((o) => o.value === id && !o.disabled) : !box(id) || (box(id).disabled && !box(id).checked)),
      place: (id) => { if (sel) sel.value = id; else box(id).checked = true; emit(); },
      focusAfter: (id) => sel || box(id),
    };
  };
  dragAndDrop(root, bank,
    targets.map((tg, i) => ({ item: bank.childNodes[i], id: tg.identifier, label: plainText(tg.content) || t('qti.choice.n', { n: i + 1 }) })),
    sources.map(rowTarget), { help: 'qti.dnd.help.match', picked: 'qti.dnd.picked.match' });
  return root;
}

function inlineChoice(n, ctx) {
  const rid = n.response_identifier;
  ctx.counters.inline = (ctx.counters.inline || 0) + 1;
  const current = ctx.get(rid) ?? '';
  const sel = h('select', {
    class: ['inline-choice', 'interaction', ...qtiClasses(n.class)],
    'aria-label': ctx.counters.inlineTotal > 1 ? `${t('qti.inline.label')} ${ctx.counters.inline}` : t('qti.inline.label'),
    dataset: { response: rid },
    onchange: (e) => ctx.set(rid, e.target.value || null),
  }, h('option', { value: '' }, t('qti.inline.none')),
  ordered(n, ctx, n.choices || []).map((c) => h('option', { value: c.identifier, selected: current === c.identifier }, optionText(c))));
  return sel;
}

function gapMatch(n, ctx) {
  const rid = n.response_identifier;
  const choices = ordered(n, ctx, n.gap_choices || []);
  const rich = choices.some((c) => hasImage(c.content));
  const pairs = asArray(ctx.get(rid));
  const selects = [];
  const emit = () => {
    const out = selects.filter((s) => s.value).map((s) => `${s.value} ${s.dataset.gap}`);
    ctx.set(rid, ctx.cardinality(rid) === 'single' ? out[0] ?? null : out);
    enforce();
  };
  const enforce = () => {
    const used = new Map();
    for (const s of selects) if (s.value) used.set(s.value, (used.get(s.value) || 0) + 1);
    capacity(selects, choices, () => used);
    if (n.max_associations > 0) {
      const full = selects.filter((s) => s.value).length >= n.max_associations;
      for (const s of selects) s.disabled = full && !s.value;
    }
  };
  let gapNo = 0;
  const gaps = (g) => {
    gapNo += 1;
    const current = pairs.find((p) => p.split(' ')[1] === g.identifier);
    const sel = h('select', { class: 'gap', 'aria-label': t('qti.gap.label', { n: gapNo }), onchange: emit, dataset: { gap: g.identifier } },
      h('option', { value: '' }, t('qti.gap.none')),
      choices.map((c, i) => h('option', { value: c.identifier, selected: current === `${c.identifier} ${g.identifier}` }, optionText(c, i, rich))));
    selects.push(sel);
    return sel;
  };
  const promptId = nextId('prompt');
  const prompt = h('div', { class: 'qti-prompt', id: promptId }, n.prompt && n.prompt.length ? renderNodes(n.prompt, ctx) : null);
  const bank = rich
    ? choiceList(choices, ctx, t('qti.choices'))
    : h('ul', { class: 'gap-bank', 'aria-label': t('qti.choices') }, choices.map((c) => h('li', {}, renderNodes(c.content, { ...ctx, phrasing: true }))));
  const content = h('div', { class: 'gap-content' }, renderNodes(n.content, { ...ctx, gaps }));
  enforce();
  const root = h('div', { class: ['interaction', 'gap-match-interaction', ...qtiClasses(n.class)], role: 'group', 'aria-labelledby': promptId, dataset: { response: rid } },
    prompt, own(h('p', { class: 'hint' }, t('qti.gap.help'))), bank, content);
  // Drag and drop onto the gaps (qti-dnd.js): it sets a gap's select, so the value is the select's.
  const full = (sel, id) => sel.disabled || ![...sel.options].some((o) => o.value === id && !o.disabled);
  dragAndDrop(root, bank,
    [...bank.childNodes].map((li, i) => ({ item: li, id: choices[i].identifier, label: plainText(choices[i].content) || t('qti.choice.n', { n: i + 1 }) })),
    selects.map((sel, i) => ({ anchor: sel, zone: [sel], label: t('qti.gap.label', { n: i + 1 }), full: (id) => full(sel, id), place: (id) => { sel.value = id; emit(); } })));
  return root;
}

/** Counts inline interactions of an item so their labels can be numbered. */
export function countInline(nodes, acc = { textTotal: 0, inlineTotal: 0 }) {
  for (const n of nodes || []) {
    if (!n) continue;
    if (n.type === 'text-entry-interaction') acc.textTotal += 1;
    if (n.type === 'inline-choice-interaction') acc.inlineTotal += 1;
    for (const k of ['children', 'content', 'prompt']) if (Array.isArray(n[k])) countInline(n[k], acc);
  }
  return acc;
}
