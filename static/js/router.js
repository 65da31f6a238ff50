// Screens live in the URL's hash (#/recordings/<id>?t=12.5), so the server only ever serves index.html.
// What a screen shows (a search, a filter, a place in the audio) sits in the hash's query, so Back works.

const ROUTES = [
  ['sign-in', /^\/sign-in$/],
  ['sign-up', /^\/sign-up$/],
  ['recording', /^\/recordings\/([^/]+)$/],
  ['notes', /^\/notes$/],
  ['note', /^\/notes\/([^/]+)$/],
  ['documents', /^\/documents$/],
  ['document', /^\/documents\/([^/]+)$/],
  ['page', /^\/pages\/([^/]+)$/],
  ['search', /^\/search$/],
  ['chat', /^\/chat$/],
  ['conversation', /^\/chat\/([^/]+)$/],
  ['library', /^\/?$/],
];

// { name, params: [path parts], query: URLSearchParams }
export function currentRoute() {
  const hash = location.hash.replace(/^#/, '');
  const at = hash.indexOf('?');
  const path = decodeURIComponent(at < 0 ? hash : hash.slice(0, at)) || '/';
  const query = new URLSearchParams(at < 0 ? '' : hash.slice(at + 1));
  for (const [name, pattern] of ROUTES) {
    const match = pattern.exec(path);
    if (match) return { name, params: match.slice(1), query };
  }
  return { name: 'library', params: [], query };
}

// "/search", { q: 'x', kinds: '' } → "/search?q=x": empty values are left out.
export function link(path, query = {}) {
  const params = new URLSearchParams(Object.entries(query).filter(([, value]) => value !== null && value !== undefined && value !== ''));
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

export function go(path, query) {
  location.hash = `#${query ? link(path, query) : path}`;
}
