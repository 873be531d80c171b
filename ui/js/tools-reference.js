// Naslag (issue 19, "reference material when the instrument ships one"):
// the files an item's companion materials name (`qti-digital-material`,
// `qti-reading-passage` — a rekenkaart, a formula sheet, a periodic table)
// shown beside the item on request. Only what the kiosk serves from the
// package as an image (the render model's `media`) can be shown; anything
// else stays in the item's note of allowed materials, and pack says it
// cannot be shown (kiosk-core's importer).
//
// Keyboard: the "Naslag: …" button opens the panel and moves the focus to
// it; Escape or "Sluiten" closes it and gives the focus back to the button.

import { h } from './dom.js';
import { t } from '../i18n.js';

/** The materials of `companion` the kiosk can show: `[{label, url}]`. */
export function showableMaterials(companion, media) {
  const out = [];
  for (const m of (companion && companion.materials) || []) {
    const url = media && typeof media[m.src] === 'string' ? media[m.src] : null;
    if (url && /^(exammedia:\/\/localhost\/|data:image\/)/.test(url)) out.push({ label: String(m.label || m.src), url });
  }
  return out;
}

/**
 * Mounts the reference panels of one item: `{ buttons, panels }` — the
 * buttons go in the item's tool bar, the panels after the item's body.
 * `idBase` makes the ids unique on the page.
 */
export function mountReferences({ companion, media, idBase }) {
  const buttons = [];
  const panels = [];
  showableMaterials(companion, media).forEach((m, i) => {
    const id = `${idBase}-ref-${i}`;
    let button = null;
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
    h('figure', { class: 'reference-figure' },
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
      } }, t('ref.open', { label: m.label }));
    buttons.push(button);
    panels.push(panel);
  });
  return { buttons, panels };
}
