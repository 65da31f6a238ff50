// How one search hit reads: where it is (time, page, heading) and its snippet with the matched words
// marked. The snippet's **bold** becomes <mark> around text nodes: nothing in it is parsed as HTML.

import { h } from '../dom.js';
import { clock } from '../format.js';
import { emphasized } from '../markdown.js';

export function hitPlace(hit) {
  if (hit.kind === 'TRANSCRIPT' && hit.start !== null && hit.start !== undefined) return `at ${clock(hit.start)}`;
  if (hit.kind === 'DOCUMENT') return [hit.page ? `page ${hit.page}` : null, hit.heading].filter(Boolean).join(' · ');
  return '';
}

export function snippet(hit) {
  return h('span', { class: 'snippet' }, emphasized(hit.snippet, 'mark'));
}
