// Content inside QTI item bodies beyond the XHTML subset (issue 18): MathML,
// audio and video from the package, the companion materials an item allows
// and shared stimuli. kiosk-core's importer (crates/instrument/src/
// qti_content.rs) already filtered all of it; the allow-lists are checked
// here again (defence in depth). Built with createElementNS/createElement
// and textContent only — no HTML strings.

import { h } from './dom.js';
import { t, lang as uiLang } from '../i18n.js';

export const MATHML_NS = 'http://www.w3.org/1998/Math/MathML';

// Same sets as kiosk-core's MATHML_ELEMENTS / MATHML_ATTRIBUTES.
const MATH_TAGS = new Set([
  'math', 'mi', 'mn', 'mo', 'ms', 'mtext', 'mspace', 'mrow', 'mfrac', 'msqrt', 'mroot', 'mstyle', 'merror', 'mpadded',
  'mphantom', 'mfenced', 'menclose', 'msub', 'msup', 'msubsup', 'munder', 'mover', 'munderover', 'mmultiscripts',
  'mprescripts', 'none', 'mtable', 'mtr', 'mlabeledtr', 'mtd', 'maligngroup', 'malignmark', 'semantics',
]);
const MATH_ATTRS = new Set([
  'display', 'alttext', 'aria-label', 'dir', 'lang', 'mathvariant', 'mathsize', 'mathcolor', 'mathbackground',
  'displaystyle', 'scriptlevel', 'form', 'fence', 'separator', 'lspace', 'rspace', 'stretchy', 'symmetric', 'maxsize',
  'minsize', 'largeop', 'movablelimits', 'accent', 'accentunder', 'linethickness', 'numalign', 'denomalign',
  'bevelled', 'notation', 'open', 'close', 'separators', 'width', 'height', 'depth', 'voffset', 'columnalign',
  'rowalign', 'columnspan', 'rowspan', 'columnlines', 'rowlines', 'frame', 'framespacing', 'equalrows',
  'equalcolumns', 'columnspacing', 'rowspacing', 'align', 'side', 'subscriptshift', 'superscriptshift', 'lquote',
  'rquote', 'linebreak', 'class', 'intent', 'arg',
]);

function mathElement(n) {
  const tag = String(n.tag || '');
  if (!MATH_TAGS.has(tag)) return null;
  const el = document.createElementNS(MATHML_NS, tag);
  for (const [k, v] of Object.entries(n.attrs || {})) {
    if (!MATH_ATTRS.has(k)) continue;
    if (k === 'class') {
      const cls = String(v).split(/\s+/).filter((c) => /^qti-[a-z0-9-]+$/.test(c));
      if (cls.length) el.setAttribute('class', cls.join(' '));
    } else {
      el.setAttribute(k, String(v));
    }
  }
  for (const c of n.children || []) {
    if (!c || typeof c !== 'object') continue;
    if (c.type === 'text') el.append(document.createTextNode(String(c.text ?? '')));
    else if (c.type === 'mathml') {
      const child = mathElement(c);
      if (child) el.append(child);
    }
  }
  return el;
}

/** A `math` node of the render model as MathML DOM (WebKitGTK renders it natively). */
export function renderMath(n) {
  const el = mathElement({ ...n, tag: 'math' });
  // The text alternative for screen readers: the author's alttext.
  if (n.attrs && n.attrs.alttext && !(n.attrs['aria-label'])) el.setAttribute('aria-label', String(n.attrs.alttext));
  return el;
}

/** Plain text of a math node (read-aloud, option texts): its alttext, else its tokens. */
export function mathText(n) {
  if (n.attrs && (n.attrs.alttext || n.attrs['aria-label'])) return String(n.attrs.alttext || n.attrs['aria-label']);
  let out = '';
  const walk = (x) => {
    for (const c of x.children || []) {
      if (c.type === 'text') out += c.text;
      else walk(c);
    }
  };
  walk(n);
  return out;
}

// ---------------------------------------------------------------------------
// Audio and video: only from the package (the shell's exammedia: URLs via
// `media`, or data: URIs in the preview), with controls, never autoplay.

const MEDIA_DATA = /^data:(audio\/(mpeg|mp4|ogg|wav|flac)|video\/(mp4|webm|ogg)|text\/vtt);base64,[A-Za-z0-9+/=\s]+$/;
const MEDIA_URL = /^exammedia:\/\/localhost\/[A-Za-z0-9\-._~/%]+$/;

function mediaSrc(src, ctx) {
  if (typeof src !== 'string') return null;
  if (ctx.media && typeof ctx.media[src] === 'string') src = ctx.media[src];
  return MEDIA_DATA.test(src) || MEDIA_URL.test(src) ? src : null;
}

function imageSrc(src, ctx) {
  if (typeof src !== 'string') return null;
  if (ctx.media && typeof ctx.media[src] === 'string') src = ctx.media[src];
  if (/^data:image\/(png|jpe?g|gif|webp|svg\+xml);base64,[A-Za-z0-9+/=\s]+$/.test(src)) return src;
  return MEDIA_URL.test(src) ? src : null;
}

/** A `media` node as <audio>/<video> with controls and caption tracks. */
export function renderMedia(n, ctx) {
  const video = n.kind === 'video';
  const label = String(n.label || '') || t(video ? 'qti.media.video' : 'qti.media.audio');
  const sources = (n.sources || []).map((s) => [mediaSrc(s.src, ctx), s.mime]).filter(([src]) => src);
  if (!sources.length) return h('span', { class: 'qti-image-missing' }, `[${label}: ${t('qti.media.unplayable')}]`);
  const el = document.createElement(video ? 'video' : 'audio');
  el.controls = true;
  el.setAttribute('controls', '');
  el.setAttribute('preload', 'metadata');
  el.setAttribute('aria-label', label);
  el.setAttribute('controlslist', 'nodownload');
  el.classList.add('qti-media', ...(n.class || []).filter((c) => /^qti-[a-z0-9-]+$/.test(c)));
  if (video) {
    if (n.width && /^\d+$/.test(n.width)) el.setAttribute('width', n.width);
    if (n.height && /^\d+$/.test(n.height)) el.setAttribute('height', n.height);
    const poster = n.poster ? imageSrc(n.poster, ctx) : null;
    if (poster) el.setAttribute('poster', poster);
  }
  for (const [src, mime] of sources) {
    const s = document.createElement('source');
    s.setAttribute('src', src);
    if (/^(audio|video)\/[a-z0-9.+-]+$/.test(String(mime || ''))) s.setAttribute('type', mime);
    el.append(s);
  }
  for (const tr of n.tracks || []) {
    const src = mediaSrc(tr.src, ctx);
    if (!src) continue;
    const track = document.createElement('track');
    track.setAttribute('src', src);
    track.setAttribute('kind', ['captions', 'subtitles', 'descriptions', 'chapters'].includes(tr.kind) ? tr.kind : 'subtitles');
    if (tr.srclang) track.setAttribute('srclang', String(tr.srclang));
    if (tr.label) track.setAttribute('label', String(tr.label));
    if (tr.default) track.setAttribute('default', '');
    el.append(track);
  }
  return h('span', { class: ['qti-media-box', video ? 'video' : 'audio'] }, el);
}

// ---------------------------------------------------------------------------
// Companion materials: what the item allows, said in Dutch (the tools
// themselves are the kiosk's own, issue 19).

function kiosk(el) {
  el.setAttribute('dir', 'ltr');
  el.setAttribute('lang', uiLang());
  return el;
}

/** The list of what an item allows, as phrases ("een rekenmachine (basis)"). */
export function companionPhrases(c) {
  const out = [];
  if (!c || typeof c !== 'object') return out;
  for (const calc of c.calculators || []) {
    const key = `qti.companion.calculator.${calc.kind}`;
    const kind = ['basic', 'simple', 'standard', 'scientific', 'graphing'].includes(calc.kind) ? t(key) : String(calc.kind || '');
    out.push(kind ? t('qti.companion.calculator.kind', { kind }) : t('qti.companion.calculator'));
  }
  for (const r of c.rules || []) out.push(r.kind ? t('qti.companion.rule.unit', { unit: r.kind }) : t('qti.companion.rule'));
  for (let i = 0; i < (c.protractors || []).length; i += 1) out.push(t('qti.companion.protractor'));
  for (const m of c.materials || []) out.push(t('qti.companion.material', { label: m.label || m.src }));
  for (const p of c.physical || []) out.push(String(p));
  return out;
}

function joinList(parts) {
  if (parts.length <= 1) return parts.join('');
  return `${parts.slice(0, -1).join(', ')} ${t('qti.companion.and')} ${parts[parts.length - 1]}`;
}

/** A note above the item saying what the student may use, or null. */
export function companionNote(item) {
  const phrases = companionPhrases(item && item.companion);
  if (!phrases.length) return null;
  return kiosk(h('p', { class: 'companion-note', role: 'note' }, t('qti.companion.may', { list: joinList(phrases) })));
}

// ---------------------------------------------------------------------------
// Shared stimuli, shown before the item's body.

/** The highest heading level (1–6) in nodes (an item's body, interaction
 * contents and prompts included), or null. */
export function topHeading(nodes) {
  let top = null;
  for (const n of nodes || []) {
    if (!n || typeof n !== 'object') continue;
    const m = n.type === 'element' && /^h([1-6])$/.exec(String(n.tag || '').toLowerCase());
    if (m) top = Math.min(top ?? 6, Number(m[1]));
    for (const k of ['children', 'content', 'prompt']) {
      const inner = Array.isArray(n[k]) ? topHeading(n[k]) : null;
      if (inner) top = Math.min(top ?? 6, inner);
    }
  }
  return top;
}

/** The item's stimuli as regions, their headings one level below the
 * item's heading like the body's; `renderNodes` is qti.js's. */
export function renderStimuli(item, ctx, renderNodes) {
  return (item.stimuli || []).map((s) => h('section', {
    class: 'qti-stimulus',
    role: 'region',
    lang: s.lang || null,
    'aria-label': s.title ? t('qti.stimulus.named', { title: s.title }) : t('qti.stimulus'),
  }, renderNodes(s.body, { ...ctx, headingTop: topHeading(s.body) || 1 })));
}
