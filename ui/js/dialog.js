// An accessible modal confirmation: native <dialog> opened with showModal()
// (the rest of the page becomes inert), focus kept inside with Tab/Shift+Tab
// as well, Escape closes, and focus returns to the control that opened it.

import { h } from './dom.js';

const FOCUSABLE = 'button:not([disabled]), [href], input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/**
 * Shows a confirm dialog. opts: { id, title, body: [nodes], confirm: {id, text},
 * cancel: {id, text}, onConfirm: async () => void }. Resolves when closed.
 */
export function confirmDialog(opts) {
  const opener = document.activeElement;
  const titleId = `${opts.id}-title`;
  const bodyId = `${opts.id}-body`;
  const status = h('p', { class: 'dialog-status', role: 'status' });
  const confirm = h('button', { type: 'button', id: opts.confirm.id, class: 'primary' }, opts.confirm.text);
  const cancel = h('button', { type: 'button', id: opts.cancel.id, class: 'secondary' }, opts.cancel.text);
  const dlg = h('dialog', { id: opts.id, class: 'dialog', 'aria-labelledby': titleId, 'aria-describedby': bodyId },
    h('h2', { id: titleId }, opts.title),
    h('div', { id: bodyId }, opts.body),
    status,
    h('div', { class: 'dialog-actions' }, cancel, confirm));
  document.body.append(dlg);

  return new Promise((resolve) => {
    let busy = false;
    const close = () => {
      if (dlg.open) dlg.close();
    };
    dlg.addEventListener('close', () => {
      dlg.remove();
      if (opener && opener.isConnected && typeof opener.focus === 'function') opener.focus();
      resolve();
    });
    dlg.addEventListener('cancel', (e) => {
      // Escape: close, unless the action is already running.
      if (busy) e.preventDefault();
    });
    dlg.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && !busy) {
        e.preventDefault();
        close();
        return;
      }
      if (e.key !== 'Tab') return;
      const items = [...dlg.querySelectorAll(FOCUSABLE)];
      if (!items.length) return;
      const first = items[0];
      const last = items[items.length - 1];
      if (e.shiftKey && document.activeElement === first) {
        e.preventDefault();
        last.focus();
      } else if (!e.shiftKey && document.activeElement === last) {
        e.preventDefault();
        first.focus();
      }
    });
    cancel.addEventListener('click', () => {
      if (!busy) close();
    });
    confirm.addEventListener('click', async () => {
      if (busy) return;
      busy = true;
      confirm.disabled = true;
      cancel.disabled = true;
      status.textContent = opts.busyText || '';
      try {
        await opts.onConfirm();
        close();
      } catch (err) {
        busy = false;
        confirm.disabled = false;
        cancel.disabled = false;
        status.textContent = String(err && err.message ? err.message : err);
        confirm.focus();
      }
    });
    if (typeof dlg.showModal === 'function') dlg.showModal();
    else dlg.setAttribute('open', '');
    // Safer default: focus the cancel button, not the destructive action.
    cancel.focus();
  });
}
