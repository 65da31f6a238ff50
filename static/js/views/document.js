// One document: what it is and its state; opened from a search hit, the passages that matched the
// search in it, each with its page and heading, the chosen one first in view.

import { announce, showError } from '../announce.js';
import { gql } from '../client.js';
import { confirmDialog } from '../dialog.js';
import { fill, h } from '../dom.js';
import { describe } from '../errors.js';
import { bytes, date, jobState } from '../format.js';
import { FINISHED, followJob } from '../jobs.js';
import { go, link } from '../router.js';
import { hitPlace, snippet } from './hit.js';

const DOCUMENT = `query($id: ID!) { document(id: $id) {
  id title filename contentType sizeBytes status chunkCount createdAt job { id status stage progress error } } }`;
const PASSAGES = `query($query: String!, $mode: SearchMode) { search(query: $query, kinds: [DOCUMENT], mode: $mode, limit: 50) {
  kind id parentId snippet page heading } }`;
const DELETE = 'mutation($id: ID!) { deleteDocument(id: $id) }';

function passageList(hits, chosen) {
  return h(
    'ol',
    { class: 'passages' },
    hits.map((hit) =>
      h(
        'li',
        { class: 'passage', id: `passage-${hit.id}`, 'aria-current': hit.id === chosen ? 'true' : null, tabindex: -1 },
        h('span', { class: 'result-meta' }, hitPlace(hit) || 'Passage'),
        snippet(hit),
      ),
    ),
  );
}

// query: `q` and `mode` (the search that led here), `passage` (the hit chosen), `page` and `heading`.
export function renderDocument(main, id, query) {
  const q = query.get('q');
  const chosen = query.get('passage');
  let stop = () => {};
  const view = h('article', { class: 'document-view', 'aria-busy': 'true' }, h('p', { class: 'muted' }, 'Loading the document…'));
  main.replaceChildren(view);

  async function matches() {
    if (!q) {
      const place = hitPlace({ kind: 'DOCUMENT', page: Number(query.get('page')) || null, heading: query.get('heading') });
      return place ? h('p', { class: 'place' }, `Cited at ${place}`) : null;
    }
    const hits = (await gql(PASSAGES, { query: q, mode: query.get('mode') || null })).search.filter((hit) => hit.parentId === id);
    hits.sort((a, b) => (a.id === chosen ? -1 : b.id === chosen ? 1 : 0));
    return h(
      'section',
      { class: 'card', 'aria-labelledby': 'passages-title' },
      h('h2', { id: 'passages-title' }, `Passages matching “${q}”`),
      hits.length ? passageList(hits, chosen) : h('p', { class: 'empty' }, 'No passage of this document matches any more.'),
      h('a', { href: `#${link('/search', { q, mode: query.get('mode') })}` }, '← Back to the search'),
    );
  }

  async function remove(document) {
    if (!(await confirmDialog('Delete this document?', `“${document.title}” and its passages will be gone for good.`, 'Delete'))) return;
    try {
      await gql(DELETE, { id: document.id });
      announce(`Deleted ${document.title}`);
      go('/documents');
    } catch (e) {
      showError(e);
    }
  }

  function failed(message) {
    view.removeAttribute('aria-busy');
    fill(view, h('a', { class: 'back', href: '#/documents' }, '← All documents'), h('p', { class: 'form-error' }, message));
  }

  async function load() {
    stop();
    let document;
    let found;
    try {
      [document, found] = await Promise.all([gql(DOCUMENT, { id }).then((data) => data.document), matches()]);
    } catch (e) {
      return failed(describe(e));
    }
    if (!document) return failed('This document does not exist.');
    const badge = h('span', { class: 'badge', dataset: { status: document.status } }, jobState(document.status, document.job));
    if (!FINISHED.has(document.status) && document.job) {
      stop = followJob(document.job.id, (event) => {
        badge.textContent = jobState(event.status, event);
        badge.dataset.status = event.status;
        if (FINISHED.has(event.status)) load();
      }, () => {});
    }
    view.removeAttribute('aria-busy');
    fill(
      view,
      h('a', { class: 'back', href: '#/documents' }, '← All documents'),
      h('header', {}, h('div', { class: 'row' }, h('h1', {}, document.title), badge)),
      h(
        'p',
        { class: 'meta' },
        [document.filename, bytes(document.sizeBytes), `${document.chunkCount} passages`, date(document.createdAt)].join(' · '),
      ),
      found,
      h('div', { class: 'actions' }, h('button', { type: 'button', class: 'secondary danger-text', onclick: () => remove(document) }, 'Delete')),
    );
    if (chosen) view.querySelector(`[aria-current="true"]`)?.scrollIntoView({ block: 'center' });
  }

  load();
  return () => stop();
}
