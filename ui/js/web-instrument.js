// The exam frame of a web instrument: the supplier's pages in a sandboxed
// frame on the kiosk's examweb: scheme (every request goes through the
// kiosk's proxy: pinned TLS, the exam key header, allowed origins only),
// with the kiosk's own hand-in button beside it. The frame gets no popups
// and no top-level navigation; the shell refuses and journals every
// navigation outside the allowed origins.

import { h } from './dom.js';
import { t } from '../i18n.js';
import { shell } from './bridge.js';
import { confirmDialog } from './dialog.js';

/** Mounts the web instrument `instrument` ({kind: 'web', title, url}) into `root`. */
export function mountWebExam(root, instrument, { render }) {
  const frame = h('iframe', {
    id: 'web-instrument-frame',
    class: 'web-instrument-frame',
    title: instrument.title || t('exam.region'),
    src: instrument.url,
    sandbox: 'allow-scripts allow-forms allow-same-origin allow-modals',
    referrerpolicy: 'no-referrer',
  });
  const submitBtn = h('button', { type: 'button', id: 'submit-exam', class: 'primary submit', onclick: () => confirmSubmit() }, t('exam.submit'));
  const screen = h('section', { id: 'screen-exam', class: 'screen exam web-exam', 'aria-labelledby': 'screen-exam-title' },
    h('h1', { id: 'screen-exam-title', class: 'sr-only' }, instrument.title || t('exam.region')),
    h('div', { class: 'exam-main' }, frame),
    h('nav', { class: 'exam-review', 'aria-label': t('exam.region') }, submitBtn));
  root.append(screen);

  function confirmSubmit() {
    return confirmDialog({
      id: 'submit-dialog',
      title: t('submit.title'),
      body: [h('p', { class: 'strong' }, t('submit.body'))],
      confirm: { id: 'confirm-submit', text: t('submit.confirm') },
      cancel: { id: 'cancel-submit', text: t('submit.cancel') },
      busyText: t('submit.busy'),
      onConfirm: async () => {
        const v = await shell.submit();
        if (v && typeof v === 'object' && v.phase) render(v);
      },
    });
  }

  return {
    update() {},
    unmount() {},
    focus() { frame.focus(); },
  };
}
