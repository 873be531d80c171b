// Naslag (issue 19, "reference material when the instrument ships one"):
// the files an item's companion materials name (`qti-digital-material`,
// `qti-reading-passage` — a rekenkaart, a formula sheet, a periodic table)
// shown beside the item on request. What the kiosk serves from the package
// (the render model's `media`) is shown: an image as it is, a PDF page by
// page with pdf.js (ui/vendor/pdfjs, Apache-2.0; loaded only when a PDF is
// opened), each page a canvas named "pagina 2 van 3" with the page's text
// beside it for a screen reader. Anything else stays in the item's note of
// allowed materials, and pack says it cannot be shown (kiosk-core's importer).
//
// Keyboard: the "Naslag: …" button opens the panel and moves the focus to
// it; Escape or "Sluiten" closes it and gives the focus back to the button.

import { h } from './dom.js';
import { t } from '../i18n.js';

/** Most pages of one PDF the kiosk draws (a formula sheet has one or two). */
export const MAX_PDF_PAGES = 20;

/** The materials of `companion` the kiosk can show: `[{label, url, pdf}]`. */
export function showableMaterials(companion, media) {
  const out = [];
  for (const m of (companion && companion.materials) || []) {
    const url = media && typeof media[m.src] === 'string' ? media[m.src] : null;
    const pdf = /\.pdf$/i.test(String(m.src));
    if (url && (pdf ? /^(exammedia:\/\/localhost\/|data:application\/pdf[;,])/ : /^(exammedia:\/\/localhost\/|data:image\/)/).test(url)) out.push({ label: String(m.label || m.src), url, pdf });
  }
  return out;
}

let pdfjs = null;
/** pdf.js, loaded once, on the first PDF opened. */
async function loadPdfjs() {
  if (!pdfjs) {
    pdfjs = import('../vendor/pdfjs/pdf.min.mjs').then((lib) => {
      lib.GlobalWorkerOptions.workerSrc = new URL('../vendor/pdfjs/pdf.worker.min.mjs', import.meta.url).href;
      return lib;
    });
  }
  return pdfjs;
}

/** Most pixels of one drawn page (pdf.js's own viewer uses the same bound): an odd page size cannot ask for a gigabyte canvas. */
const MAX_PAGE_PIXELS = 2 ** 24;

/**
 * Draws the PDF at `url` into `into`: per page a canvas (role img, named
 * by its page number) and the page's text for a screen reader, in the
 * instrument's language `lang`. `status` says what happens ("laden", how
 * many pages, a failure) for everyone. The document (and its worker) is
 * let go once drawn.
 */
export async function renderPdf(url, label, into, status, lang = null) {
  status.textContent = t('ref.pdf.loading');
  let task = null;
  try {
    const lib = await loadPdfjs();
    const data = new Uint8Array(await (await fetch(url)).arrayBuffer());
    task = lib.getDocument({ data, maxImageSize: MAX_PAGE_PIXELS, canvasMaxAreaInBytes: 4 * MAX_PAGE_PIXELS, enableXfa: false });
    const doc = await task.promise;
    const total = doc.numPages;
    const shown = Math.min(total, MAX_PDF_PAGES);
    const width = Math.max(320, Math.min(into.clientWidth || 700, 900));
    for (let n = 1; n <= shown; n += 1) {
      const page = await doc.getPage(n);
      const base = page.getViewport({ scale: 1 });
      const ratio = window.devicePixelRatio || 1;
      const fit = (width / base.width) * ratio;
      const scale = Math.min(fit, Math.sqrt(MAX_PAGE_PIXELS / (base.width * base.height)));
      const viewport = page.getViewport({ scale });
      const canvas = h('canvas', { class: 'reference-page', width: Math.floor(viewport.width), height: Math.floor(viewport.height), role: 'img', 'aria-label': t('ref.pdf.page', { n, total, label }) });
      await page.render({ canvas, canvasContext: canvas.getContext('2d'), viewport }).promise;
      const text = (await page.getTextContent()).items.map((i) => i.str).join(' ').replace(/\s+/g, ' ').trim();
      into.append(canvas, h('p', { class: 'sr-only reference-page-text', lang }, text));
      page.cleanup();
    }
    status.textContent = total > shown ? t('ref.pdf.more', { shown, total }) : t('ref.pdf.shown', { n: shown });
    into.dataset.rendered = 'true';
  } catch (err) {
    status.textContent = t('ref.pdf.failed', { label });
    into.dataset.rendered = 'failed';
    into.dataset.error = String((err && err.message) || err); // for IT and the tests, not shown
  } finally {
    // Lets the document and its worker go: reopening draws nothing again (the canvases stay).
    if (task) task.destroy();
  }
}

/**
 * Mounts the reference panels of one item: `{ buttons, panels }` — the
 * buttons go in the item's tool bar, the panels after the item's body.
 * `idBase` makes the ids unique on the page.
 */
export function mountReferences({ companion, media, idBase, lang = null }) {
  const buttons = [];
  const panels = [];
  showableMaterials(companion, media).forEach((m, i) => {
    const id = `${idBase}-ref-${i}`;
    let button = null;
    // A PDF is drawn the first time it is opened.
    const pages = m.pdf ? h('div', { class: 'reference-pages' }) : null;
    const status = m.pdf ? h('p', { class: 'reference-status', role: 'status' }) : null;
    const close = () => {
      panel.hidden = true;
      button.setAttribute('aria-expanded', 'false');
      button.focus();
    };
    const panel = h('section', { id, class: 'reference-panel', role: 'region', 'aria-label': t('ref.region', { label: m.label }), tabindex: '-1', hidden: true, 'data-no-highlight': true,
      onkeydown: (e) => {
        if (e.key === 'Escape') {
          e.preventDefault();
          e.stopPropagation();
          close();
        }
      } },
    m.pdf
      ? h('figure', { class: 'reference-figure' }, pages, h('figcaption', {}, m.label), status)
      : h('figure', { class: 'reference-figure' },
        h('img', { src: m.url, alt: m.label, class: 'reference-image' }),
        h('figcaption', {}, m.label)),
    h('button', { type: 'button', class: 'secondary small reference-close', onclick: close }, t('ref.close')));
    button = h('button', { type: 'button', class: 'secondary small reference-open', 'aria-expanded': 'false', 'aria-controls': id,
      onclick: () => {
        if (!panel.hidden) {
          close();
          return;
        }
        panel.hidden = false;
        button.setAttribute('aria-expanded', 'true');
        panel.focus();
        // Drawn the first time; a failure is tried again when reopened.
        if (pages && (!pages.dataset.rendered || pages.dataset.rendered === 'failed')) {
          pages.replaceChildren();
          pages.dataset.rendered = 'loading';
          renderPdf(m.url, m.label, pages, status, lang);
        }
      } }, t('ref.open', { label: m.label }));
    buttons.push(button);
    panels.push(panel);
  });
  return { buttons, panels };
}
