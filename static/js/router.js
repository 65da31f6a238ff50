// Screens live in the URL's hash (#/recordings/<id>), so the server only ever serves index.html.

const ROUTES = [
  ['sign-in', /^\/sign-in$/],
  ['sign-up', /^\/sign-up$/],
  ['recording', /^\/recordings\/([^/]+)$/],
  ['library', /^\/?$/],
];

export function currentRoute() {
  const path = decodeURIComponent(location.hash.replace(/^#/, '')) || '/';
  for (const [name, pattern] of ROUTES) {
    const match = pattern.exec(path);
    if (match) return { name, params: match.slice(1) };
  }
  return { name: 'library', params: [] };
}

export function go(path) {
  location.hash = `#${path}`;
}
