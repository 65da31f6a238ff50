// Search over everything (notes, notebook pages, documents, transcripts): one box, kind filters and
// the mode. The search lives in the URL (#/search?q=…&kinds=…&mode=…), so Back returns to the hits.
// Each hit opens where it was found (see hit.js).

import { gql } from '../client.js';
import { fill, h } from '../dom.js';
import { describe } from '../errors.js';
import { go, link } from '../router.js';
import { KIND_NAMES, hitHref, hitLink } from './hit.js';

const SEARCH = `query($query: String!, $kinds: [SearchKind!], $mode: SearchMode) {
  search(query: $query, kinds: $kinds, mode: $mode, limit: 30) { kind id parentId title snippet score start end page heading } }`;
const KINDS = [
  ['NOTE', 'Notes'],
  ['PAGE', 'Pages'],
  ['DOCUMENT', 'Documents'],
  ['TRANSCRIPT', 'Transcripts'],
];
const MODES = [
  ['HYBRID', 'Words and meaning'],
  ['SEMANTIC', 'Meaning only'],
  ['KEYWORD', 'Exact words'],
];

function result(hit, q, mode) {
  return h('li', { class: 'hit', dataset: { kind: hit.kind } }, hitLink(hit, hitHref(hit, q, mode)));
}

export function renderSearch(main, query) {
  const q = query.get('q')?.trim() ?? '';
  const mode = MODES.some(([m]) => m === query.get('mode')) ? query.get('mode') : 'HYBRID';
  const kinds = (query.get('kinds') ?? '').split(',').filter((k) => KIND_NAMES[k]);
  const input = h('input', { type: 'search', id: 'everything-query', name: 'q', required: true, maxlength: 1000, autocomplete: 'off', value: q });
  const boxes = KINDS.map(([kind, label]) =>
    h('label', { class: 'choice' }, h('input', { type: 'checkbox', name: 'kind', value: kind, checked: !kinds.length || kinds.includes(kind) }), label),
  );
  const modeSelect = h('select', { id: 'everything-mode', name: 'mode', value: mode }, MODES.map(([value, label]) => h('option', { value }, label)));
  const error = h('p', { class: 'form-error', role: 'alert' });
  const summary = h('p', { class: 'search-summary', role: 'status' });
  const results = h('ol', { class: 'hits' });
  const form = h(
    'form',
    { class: 'card everything-form', role: 'search' },
    h('label', { for: 'everything-query' }, 'Search everything'),
    h('div', { class: 'row' }, input, h('button', { type: 'submit' }, 'Search')),
    h(
      'div',
      { class: 'search-options' },
      h('fieldset', { class: 'kinds' }, h('legend', {}, 'Look in'), boxes),
      h('div', { class: 'field' }, h('label', { for: 'everything-mode' }, 'Match'), modeSelect),
    ),
    error,
  );

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const chosen = boxes.map((box) => box.querySelector('input')).filter((box) => box.checked).map((box) => box.value);
    if (!input.value.trim()) return void (error.textContent = 'Type what to look for.');
    if (!chosen.length) return void (error.textContent = 'Choose at least one kind of thing to look in.');
    const all = chosen.length === KINDS.length;
    const next = link('/search', { q: input.value.trim(), kinds: all ? '' : chosen.join(','), mode: modeSelect.value === 'HYBRID' ? '' : modeSelect.value });
    if (location.hash === `#${next}`) run(); // the same search again: look again (new results may be in)
    else go(next);
  });

  async function run() {
    error.textContent = '';
    summary.textContent = 'Searching…';
    try {
      const hits = (await gql(SEARCH, { query: q, kinds: kinds.length ? kinds : null, mode })).search;
      summary.textContent = hits.length ? `${hits.length} ${hits.length === 1 ? 'result' : 'results'} for “${q}”.` : `Nothing found for “${q}”.`;
      fill(results, hits.map((hit) => result(hit, q, mode === 'HYBRID' ? '' : mode)));
    } catch (e) {
      summary.textContent = '';
      error.textContent = describe(e);
    }
  }

  main.replaceChildren(
    h('h1', {}, 'Search'),
    form,
    h('section', { class: 'card search-results', 'aria-label': 'Results', hidden: !q }, summary, results),
  );
  if (q) run();
  else input.focus();
}
