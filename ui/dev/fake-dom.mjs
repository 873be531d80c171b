// A minimal DOM for the node unit tests (NOT part of the app): enough of
// document/Element/Text for ui/js/dom.js's h() and ui/js/qti.js's renderers,
// so the tree the UI builds from a render model can be checked without a
// browser. Real layout and accessibility are checked by shoot.mjs.

class FakeNode {
  constructor() {
    this.childNodes = [];
    this.parentNode = null;
  }
  get firstChild() {
    return this.childNodes[0] || null;
  }
  append(...nodes) {
    for (const n of nodes) {
      const node = n instanceof FakeNode ? n : new FakeText(String(n));
      // As in the DOM: a node has one parent; appending moves it.
      if (node.parentNode) node.parentNode.removeChild(node);
      node.parentNode = this;
      this.childNodes.push(node);
    }
  }
  appendChild(n) {
    this.append(n);
    return n;
  }
  insertBefore(n, ref) {
    if (n.parentNode) n.parentNode.removeChild(n);
    const i = this.childNodes.indexOf(ref);
    n.parentNode = this;
    if (i < 0) this.childNodes.push(n);
    else this.childNodes.splice(i, 0, n);
    return n;
  }
  removeChild(n) {
    this.childNodes = this.childNodes.filter((c) => c !== n);
    n.parentNode = null;
    return n;
  }
  get textContent() {
    return this.childNodes.map((c) => c.textContent).join('');
  }
  set textContent(v) {
    this.childNodes = [];
    if (v !== '') this.append(String(v));
  }
}

class FakeText extends FakeNode {
  constructor(text) {
    super();
    this.data = text;
  }
  get nodeType() {
    return 3;
  }
  /** As in the DOM: this node keeps the text before `offset`, a new one after it holds the rest. */
  splitText(offset) {
    const rest = new FakeText(this.data.slice(offset));
    this.data = this.data.slice(0, offset);
    if (this.parentNode) {
      const siblings = this.parentNode.childNodes;
      siblings.splice(siblings.indexOf(this) + 1, 0, rest);
      rest.parentNode = this.parentNode;
    }
    return rest;
  }
  get textContent() {
    return this.data;
  }
  set textContent(v) {
    this.data = String(v);
  }
}

class FakeElement extends FakeNode {
  constructor(tag, namespaceURI = 'http://www.w3.org/1999/xhtml') {
    super();
    this.namespaceURI = namespaceURI;
    this.tagName = tag.toUpperCase();
    this.localName = tag.toLowerCase();
    this.attributes = new Map();
    this.dataset = {};
    this.listeners = {};
    // Properties as plain fields; custom properties (--x) through setProperty.
    const custom = new Map();
    this.style = {
      setProperty: (k, v) => custom.set(k, String(v)),
      getPropertyValue: (k) => custom.get(k) ?? '',
      removeProperty: (k) => custom.delete(k),
    };
    const classes = new Set();
    this.classList = {
      add: (...c) => c.forEach((x) => classes.add(x)),
      remove: (...c) => c.forEach((x) => classes.delete(x)),
      contains: (c) => classes.has(c),
      toString: () => [...classes].join(' '),
      [Symbol.iterator]: () => classes.values(),
    };
    if (['input', 'select', 'textarea', 'option'].includes(this.localName)) this.value = '';
  }
  get nodeType() {
    return 1;
  }
  setAttribute(k, v) {
    if (k === 'class') {
      for (const c of [...this.classList]) this.classList.remove(c);
      this.classList.add(...String(v).split(/\s+/).filter(Boolean));
      return;
    }
    this.attributes.set(k, String(v));
  }
  removeAttribute(k) {
    this.attributes.delete(k);
  }
  remove() {
    if (this.parentNode) this.parentNode.removeChild(this);
  }
  contains(other) {
    for (let n = other; n; n = n.parentNode) if (n === this) return true;
    return false;
  }
  /** The nearest of this element and its ancestors with attribute `[name]` (the only selector the UI uses it with). */
  closest(sel) {
    const attr = /^\[([\w-]+)\]$/.exec(sel);
    for (let n = this; n instanceof FakeElement; n = n.parentNode) if (attr ? n.hasAttribute(attr[1]) : n.localName === sel) return n;
    return null;
  }
  focus() {
    globalThis.document.activeElement = this;
  }
  /** Calls the listeners of `type` with a minimal event (for keyboard and click tests). */
  fire(type, props = {}) {
    const e = { type, target: this, defaultPrevented: false, preventDefault() { this.defaultPrevented = true; }, ...props };
    for (const f of this.listeners[type] || []) f(e);
    return e;
  }
  getAttribute(k) {
    if (k === 'class') return this.classList.toString() || null;
    return this.attributes.has(k) ? this.attributes.get(k) : null;
  }
  hasAttribute(k) {
    return this.getAttribute(k) !== null;
  }
  get id() {
    return this.getAttribute('id') || '';
  }
  addEventListener(type, f) {
    (this.listeners[type] ||= []).push(f);
  }
  /** Every element under this one (depth first), this one first. */
  *walk() {
    yield this;
    for (const c of this.childNodes) if (c instanceof FakeElement) yield* c.walk();
  }
  /** Elements matching `tag`, `.class` or `tag.class` (enough for the tests). */
  all(sel) {
    const [tag, cls] = sel.split('.');
    return [...this.walk()].filter((e) => (!tag || e.localName === tag) && (!cls || e.classList.contains(cls)));
  }
  get options() {
    return this.childNodes.filter((c) => c.localName === 'option');
  }
}

/** Installs the fake as globalThis.document/Node (once). */
export function installFakeDom() {
  if (globalThis.document && globalThis.document.fake) return globalThis.document;
  const documentElement = new FakeElement('html');
  globalThis.Node = FakeNode;
  globalThis.document = {
    fake: true,
    documentElement,
    createElement: (tag) => new FakeElement(tag),
    createElementNS: (ns, tag) => new FakeElement(tag, ns),
    createTextNode: (text) => new FakeText(String(text)),
    getElementById: () => null,
    body: new FakeElement('body'),
    // Tests set what is under the pointer.
    elementFromPoint: () => null,
  };
  return globalThis.document;
}
