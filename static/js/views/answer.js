// One message of a conversation: the question as typed, or the answer in Markdown with its [n] markers
// turned into links to the sources they cite, and the list of those sources under it.

import { h } from '../dom.js';
import { renderMarkdown } from '../markdown.js';
import { hitHref, hitLink } from './hit.js';

const MARKER = /\[(\d{1,2})\]/g;

// Marker number → the citation it points at. The answer keeps the numbers its sources had when the model
// was asked, and `citations` are the sources cited, in the order first cited: so the k-th distinct
// number in the text is the k-th citation (the same as "[n] is the n-th" when the model cited 1, 2, 3…).
export function citationsByMarker(content, citations) {
  const byMarker = new Map();
  for (const [, number] of String(content).matchAll(MARKER)) {
    const n = Number(number);
    if (!byMarker.has(n) && byMarker.size < citations.length) byMarker.set(n, citations[byMarker.size]);
  }
  return byMarker;
}

function citationLink(n, hit) {
  return h('a', { class: 'citation', href: hitHref(hit), title: hit.title, 'aria-label': `Source ${n}: ${hit.title}` }, `[${n}]`);
}

// Replaces the markers in the rendered Markdown's text (not in code) with links.
function linkMarkers(root, byMarker) {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
    acceptNode: (node) => (node.parentElement.closest('pre, code') ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT),
  });
  const texts = [];
  while (walker.nextNode()) texts.push(walker.currentNode);
  for (const node of texts) {
    const parts = node.data.split(/(\[\d{1,2}\])/);
    if (parts.length === 1) continue;
    node.replaceWith(
      ...parts.map((part, i) => {
        const hit = i % 2 ? byMarker.get(Number(part.slice(1, -1))) : null;
        return hit ? citationLink(Number(part.slice(1, -1)), hit) : part;
      }).filter((part) => part !== ''),
    );
  }
  return root;
}

// The answer's text; with its citations once it is complete.
export function answerBody(content, citations = []) {
  const byMarker = citationsByMarker(content, citations);
  const body = renderMarkdown(content, 3);
  body.classList.add('answer-text');
  return byMarker.size ? linkMarkers(body, byMarker) : body;
}

export function sourceList(content, citations) {
  if (!citations.length) return null;
  const numbers = new Map([...citationsByMarker(content, citations)].map(([n, hit]) => [hit, n]));
  return h(
    'section',
    { class: 'sources', 'aria-label': 'Sources' },
    h('h3', {}, 'Sources'),
    h(
      'ol',
      { class: 'hits' },
      citations.map((hit) =>
        h('li', { class: 'hit source', dataset: { kind: hit.kind } }, hitLink(hit, hitHref(hit), numbers.has(hit) && h('span', { class: 'source-number' }, `[${numbers.get(hit)}]`))),
      ),
    ),
  );
}

export function questionBody(content) {
  return h('p', { class: 'question-text' }, content);
}
