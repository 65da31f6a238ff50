// Search in the transcript (searchTranscript): results in time order with the matches highlighted,
// here and in the transcript; choosing a result plays from there.

import { gql } from '../client.js';
import { fill, h, marked } from '../dom.js';
import { describe } from '../errors.js';
import { clock, speakerName } from '../format.js';

const SEARCH = `query($transcriptId: ID!, $query: String!) {
  searchTranscript(transcriptId: $transcriptId, query: $query) { id start end speaker text matches { start end } matchedWords } }`;

// onResults(segments) to highlight them ([] clears); onJump(segment) when one is chosen.
export function searchPanel({ transcriptId, names, onResults, onJump }) {
  const input = h('input', { type: 'search', id: 'transcript-search', name: 'query', required: true, autocomplete: 'off' });
  const summary = h('p', { class: 'search-summary', 'aria-live': 'polite' });
  const results = h('ol', { class: 'results' });
  const clear = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Clear');
  const form = h(
    'form',
    { class: 'search-form', role: 'search' },
    h('label', { for: 'transcript-search' }, 'Search in transcript'),
    h('div', { class: 'row' }, input, h('button', { type: 'submit' }, 'Search'), clear),
  );

  function reset() {
    input.value = '';
    summary.textContent = '';
    results.replaceChildren();
    clear.hidden = true;
    onResults([]);
    input.focus();
  }

  function result(segment) {
    return h(
      'li',
      {},
      h(
        'button',
        { type: 'button', class: 'result', onclick: () => onJump(segment) },
        h('span', { class: 'result-meta' }, `[${clock(segment.start)}] ${segment.speaker ? speakerName(segment.speaker, names()) : ''}`),
        h('span', { class: 'result-text' }, marked(segment.text, segment.matches ?? [])),
      ),
    );
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const query = input.value.trim();
    if (!query) return;
    summary.textContent = 'Searching…';
    try {
      const found = (await gql(SEARCH, { transcriptId, query })).searchTranscript;
      summary.textContent = found.length
        ? `${found.length} ${found.length === 1 ? 'segment matches' : 'segments match'} “${query}”.`
        : `Nothing matches “${query}”.`;
      fill(results, found.map(result));
      clear.hidden = false;
      onResults(found);
    } catch (e) {
      summary.textContent = describe(e);
    }
  });
  clear.addEventListener('click', reset);
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && input.value) {
      event.preventDefault();
      reset();
    }
  });

  return h('section', { class: 'card tool search', 'aria-label': 'Search' }, form, summary, results);
}
