// Building the page's nodes. Every value from an article (a title, a word, an id) enters
// the document as a text node or an attribute value through these helpers, never as
// markup: nothing here parses HTML, so a title such as <img src=x onerror=...> stays text.

/** A new element: `options` sets attributes (class, text, dataset, on<event> listeners,
 * and plain attributes through setAttribute); `children` are nodes or strings (text). */
export function el(tag, options = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(options)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = String(value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace the children of `node` with `children` (nodes or text). */
export function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

export function byId(id) {
  return document.getElementById(id);
}

export function show(node, visible) {
  node.hidden = !visible;
}

/** Measure `name` (performance.measure) around `work`, a promise of the fetch and the
 * render; resolves to [its value, the milliseconds it took]. */
export async function timed(name, work) {
  const start = performance.now();
  const value = await work();
  const ms = performance.now() - start;
  performance.measure(name, { start, duration: ms });
  return [value, ms];
}
