// The documents screen: upload one, and the list (status live while processing, passages, date; delete).

import { announce, showError } from '../announce.js';
import { gql } from '../client.js';
import { confirmDialog } from '../dialog.js';
import { fill, h } from '../dom.js';
import { bytes, date, jobState } from '../format.js';
import { FINISHED, followJob } from '../jobs.js';
import { documentUpload } from './document-upload.js';

const DOCUMENTS = `query { documents(limit: 200) {
  id title filename sizeBytes status chunkCount createdAt job { id status stage progress error } } }`;
const DELETE = 'mutation($id: ID!) { deleteDocument(id: $id) }';

function passages(count) {
  return `${count} ${count === 1 ? 'passage' : 'passages'}`;
}

export function renderDocuments(main) {
  let stops = [];
  const body = h('div', { 'aria-busy': 'true' }, h('p', { class: 'muted' }, 'Loading documents…'));
  const upload = documentUpload({ onChanged: () => reload() });

  function stopFollowing() {
    for (const stop of stops) stop();
    stops = [];
  }

  async function remove(document) {
    const sure = await confirmDialog('Delete this document?', `“${document.title}” and its passages will be gone for good.`, 'Delete');
    if (!sure) return;
    try {
      await gql(DELETE, { id: document.id });
      announce(`Deleted ${document.title}`);
    } catch (e) {
      showError(e);
    }
    await reload();
  }

  function row(document) {
    const badge = h('span', { class: 'badge', dataset: { status: document.status } }, jobState(document.status, document.job));
    if (!FINISHED.has(document.status) && document.job) {
      const update = (event) => {
        badge.textContent = jobState(event.status, event);
        badge.dataset.status = event.status;
        if (FINISHED.has(event.status)) reload();
      };
      stops.push(followJob(document.job.id, update, () => {}));
    }
    return h(
      'li',
      { class: 'document-row', dataset: { id: document.id } },
      h('a', { class: 'document-title', href: `#/documents/${document.id}` }, document.title),
      badge,
      h('span', { class: 'chunks' }, passages(document.chunkCount)),
      h('time', { datetime: document.createdAt }, date(document.createdAt)),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', class: 'secondary danger-text', 'aria-label': `Delete ${document.title}`, onclick: () => remove(document) }, 'Delete'),
      ),
      h('span', { class: 'file muted' }, `${document.filename} · ${bytes(document.sizeBytes)}`),
    );
  }

  async function reload() {
    try {
      const { documents } = await gql(DOCUMENTS);
      stopFollowing();
      body.removeAttribute('aria-busy');
      fill(body, documents.length ? h('ul', { class: 'document-list' }, documents.map(row)) : h('p', { class: 'empty' }, 'No documents yet. Add one above to search it with your notes and transcripts.'));
    } catch (e) {
      body.removeAttribute('aria-busy');
      fill(body, h('p', { class: 'form-error' }, 'Could not load your documents. ', h('button', { type: 'button', class: 'link', onclick: reload }, 'Try again')));
      showError(e);
    }
  }

  main.replaceChildren(
    h('h1', { class: 'visually-hidden' }, 'Documents'),
    h('div', { class: 'library-main' }, upload.element, h('section', { class: 'card documents', 'aria-labelledby': 'documents-title' }, h('h2', { id: 'documents-title' }, 'Documents'), body)),
  );
  reload();
  return () => {
    stopFollowing();
    upload.stop();
  };
}
