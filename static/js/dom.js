// Builds DOM from data. Text always goes in as text, never parsed as HTML, so user content is safe.

// Set as properties (after the children exist, so a <select> can take its value).
const PROPERTIES = new Set(['value', 'checked', 'disabled', 'hidden', 'selected', 'indeterminate']);

export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  const later = [];
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (key.startsWith('on') && typeof value === 'function') element.addEventListener(key.slice(2), value);
    else if (PROPERTIES.has(key)) later.push([key, value]);
    else if (key === 'class') element.className = value;
    else if (key === 'dataset') Object.assign(element.dataset, value);
    else if (value === false) continue;
    else element.setAttribute(key, value === true ? '' : String(value));
  }
  element.append(...children.flat(Infinity).filter((child) => child !== null && child !== undefined && child !== false));
  for (const [key, value] of later) element[key] = value;
  return element;
}

// Replaces everything inside `element` with `children`.
export function fill(element, ...children) {
  element.replaceChildren(...children.flat(Infinity).filter((child) => child !== null && child !== undefined && child !== false));
  return element;
}

// Text with the given [start, end) character ranges wrapped in <mark>.
export function marked(text, ranges) {
  const nodes = [];
  let at = 0;
  for (const { start, end } of [...ranges].sort((a, b) => a.start - b.start)) {
    if (start < at || end <= start) continue;
    nodes.push(text.slice(at, start), h('mark', {}, text.slice(start, end)));
    at = end;
  }
  nodes.push(text.slice(at));
  return nodes.filter((node) => node !== '');
}
