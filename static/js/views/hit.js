// How one search hit reads: where it is (time, page, heading) and its snippet with the matched words
// marked, and where it opens: the note, the page, the document's passage, the audio at its time.
// Search results and an answer's sources both use it. The snippet's **bold** becomes <mark> around text
// nodes: nothing in it is parsed as HTML.

import { h } from '../dom.js';
import { clock } from '../format.js';
import { emphasized } from '../markdown.js';
import { link } from '../router.js';

export const KIND_NAMES = { NOTE: 'Note', PAGE: 'Page', DOCUMENT: 'Document', TRANSCRIPT: 'Transcript' };

export function hitPlace(hit) {
  if (hit.kind === 'TRANSCRIPT' && hit.start !== null && hit.start !== undefined) return `at ${clock(hit.start)}`;
  if (hit.kind === 'DOCUMENT') return [hit.page ? `page ${hit.page}` : null, hit.heading].filter(Boolean).join(' · ');
  return '';
}

export function snippet(hit) {
  return h('span', { class: 'snippet' }, emphasized(hit.snippet, 'mark'));
}

// The app's address of a hit. q and mode: the search that found it, shown again by a document.
export function hitHref(hit, q = '', mode = '') {
  switch (hit.kind) {
    case 'NOTE':
      return `#/notes/${hit.id}`;
    case 'PAGE':
      return `#/pages/${hit.id}`;
    case 'DOCUMENT':
      return `#${link(`/documents/${hit.parentId}`, { q, mode, passage: hit.id, page: hit.page, heading: hit.heading })}`;
    default:
      return `#${link(`/recordings/${hit.parentId}`, { t: hit.start })}`;
  }
}

// The hit as a link card: kind, title, place and snippet; `lead` goes before the kind (a source's number).
export function hitLink(hit, href, lead = null) {
  return h(
    'a',
    { class: 'hit-link', href },
    h(
      'span',
      { class: 'hit-head' },
      lead,
      h('span', { class: 'badge kind' }, KIND_NAMES[hit.kind] ?? hit.kind),
      h('span', { class: 'hit-title' }, hit.title),
    ),
    hitPlace(hit) && h('span', { class: 'result-meta' }, hitPlace(hit)),
    snippet(hit),
  );
}
