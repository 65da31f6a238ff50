// The recordings list: status (live while processing), duration and date; open, retry, cancel, delete.

import { announce, showError } from '../announce.js';
import { gql } from '../client.js';
import { confirmDialog } from '../dialog.js';
import { fill, h } from '../dom.js';
import { clock, date, jobState } from '../format.js';
import { FINISHED, cancelJob, followJob } from '../jobs.js';

const RECORDINGS = `query { recordings(limit: 200) {
  id title filename durationSeconds notebookId status createdAt job { id status stage progress error } } }`;
const RETRY = 'mutation($id: ID!) { retryRecording(id: $id) { id status } }';
const DELETE = 'mutation($id: ID!) { deleteRecording(id: $id) }';

export function recordingsList() {
  let recordings = null;
  let notebookId = null;
  let stops = [];
  const list = h('ul', { class: 'recording-list', 'aria-busy': 'true' });
  const heading = h('h2', { id: 'recordings-title' }, 'Recordings');
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading recordings…'));

  function follow(recording, badge) {
    stops.push(
      followJob(
        recording.job.id,
        (event) => {
          badge.textContent = jobState(event.status, event);
          badge.dataset.status = event.status;
          if (FINISHED.has(event.status)) reload();
        },
        () => {},
      ),
    );
  }

  async function act(work, done) {
    try {
      await work();
      announce(done);
    } catch (e) {
      showError(e);
    }
    await reload();
  }

  function row(recording) {
    const badge = h('span', { class: 'badge', dataset: { status: recording.status } }, jobState(recording.status, recording.job));
    const title = recording.title || recording.filename;
    const actions = [];
    if (recording.status === 'FAILED' || recording.status === 'CANCELLED') {
      actions.push(h('button', { type: 'button', class: 'secondary', 'aria-label': `Retry ${title}`, onclick: () => act(() => gql(RETRY, { id: recording.id }), `Retrying ${title}`) }, 'Retry'));
    }
    if (!FINISHED.has(recording.status) && recording.job) {
      actions.push(h('button', { type: 'button', class: 'secondary', 'aria-label': `Cancel ${title}`, onclick: () => act(() => cancelJob(recording.job.id), `Cancelled ${title}`) }, 'Cancel'));
      follow(recording, badge);
    }
    actions.push(
      h('button', {
        type: 'button',
        class: 'secondary danger-text',
        'aria-label': `Delete ${title}`,
        onclick: async () => {
          const sure = await confirmDialog('Delete this recording?', `“${title}” and its transcript will be gone for good.`, 'Delete');
          if (sure) await act(() => gql(DELETE, { id: recording.id }), `Deleted ${title}`);
        },
      }, 'Delete'),
    );
    return h(
      'li',
      { class: 'recording-row', dataset: { id: recording.id } },
      h('a', { class: 'recording-title', href: `#/recordings/${recording.id}` }, title),
      badge,
      h('span', { class: 'duration', title: 'Duration' }, recording.durationSeconds ? clock(recording.durationSeconds) : '–'),
      h('time', { datetime: recording.createdAt }, date(recording.createdAt)),
      h('div', { class: 'actions' }, actions),
    );
  }

  function draw() {
    for (const stop of stops) stop();
    stops = [];
    const shown = recordings.filter((r) => !notebookId || r.notebookId === notebookId);
    list.removeAttribute('aria-busy');
    fill(list, shown.map(row));
    fill(body, shown.length ? list : h('p', { class: 'empty' }, notebookId ? 'No recordings in this notebook yet.' : 'No recordings yet. Upload one above to get a transcript.'));
  }

  async function reload() {
    try {
      recordings = (await gql(RECORDINGS)).recordings;
      draw();
    } catch (e) {
      fill(body, h('p', { class: 'form-error' }, 'Could not load your recordings. ', h('button', { type: 'button', class: 'link', onclick: reload }, 'Try again')));
      showError(e);
    }
  }

  reload();
  return {
    element: h('section', { class: 'card recordings', 'aria-labelledby': 'recordings-title' }, heading, body),
    reload,
    showNotebook(id) {
      notebookId = id;
      if (recordings) draw();
    },
    stop() {
      for (const stop of stops) stop();
    },
  };
}
