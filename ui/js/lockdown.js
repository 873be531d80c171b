// In-page lockdown: the shell enforces the real rules (no devtools, no
// navigation, no new windows); this only stops the web view's own shortcuts
// and gestures so that nothing surprising happens to the student.

// Ctrl/Cmd + key combinations that reload, print, search, save, open,
// view source, open/close windows or tabs, or open the inspector.
const CTRL_KEYS = new Set(['r', 'p', 'f', 'g', 's', 'o', 'u', 'n', 't', 'w', 'j', 'h', 'd', 'e', 'l', 'k', 'q']);
const CTRL_SHIFT_KEYS = new Set(['i', 'j', 'c', 'k', 'r', 'n', 't', 'w', 'p', 'delete']);
const PLAIN_KEYS = new Set(['F1', 'F3', 'F5', 'F6', 'F7', 'F11', 'F12', 'BrowserBack', 'BrowserForward', 'BrowserRefresh', 'BrowserSearch', 'BrowserHome']);

function isEditable(el) {
  return el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement || (el && el.isContentEditable);
}

export function blocked(e) {
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  const ctrl = e.ctrlKey || e.metaKey;
  if (PLAIN_KEYS.has(e.key)) return true;
  if (ctrl && e.shiftKey && CTRL_SHIFT_KEYS.has(key.toLowerCase())) return true;
  if (ctrl && !e.shiftKey && !e.altKey && CTRL_KEYS.has(key)) return true;
  // History navigation.
  if (e.altKey && (e.key === 'ArrowLeft' || e.key === 'ArrowRight' || e.key === 'Home')) return true;
  // Backspace outside a text field navigated back in old engines.
  if (e.key === 'Backspace' && !isEditable(e.target)) return true;
  return false;
}

export function installLockdown(doc = document) {
  doc.addEventListener(
    'keydown',
    (e) => {
      if (blocked(e)) {
        e.preventDefault();
        e.stopPropagation();
      }
    },
    { capture: true },
  );
  doc.addEventListener('contextmenu', (e) => e.preventDefault(), { capture: true });
  // No dragging anything out (text, images) and no dropping files in.
  doc.addEventListener('dragstart', (e) => e.preventDefault(), { capture: true });
  doc.addEventListener('dragover', (e) => e.preventDefault(), { capture: true });
  doc.addEventListener('drop', (e) => e.preventDefault(), { capture: true });
  // Ctrl+wheel zoom is left alone on purpose: zooming is an accessibility
  // aid, and it cannot leak anything.
  // No printing even if something bypasses the shortcut.
  window.addEventListener('beforeprint', (e) => e.preventDefault());
  // Links inside item content are rendered as text, but guard anyway.
  doc.addEventListener(
    'click',
    (e) => {
      const a = e.target instanceof Element ? e.target.closest('a[href]') : null;
      if (a) e.preventDefault();
    },
    { capture: true },
  );
  // Copying out of the page: only the student's own typing (inputs) may be
  // copied within the page; the shell isolates the clipboard anyway.
  doc.addEventListener(
    'copy',
    (e) => {
      if (!isEditable(doc.activeElement)) e.preventDefault();
    },
    { capture: true },
  );
  doc.addEventListener(
    'cut',
    (e) => {
      if (!isEditable(doc.activeElement)) e.preventDefault();
    },
    { capture: true },
  );
}
