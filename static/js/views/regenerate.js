// "Write the note again" (regenerateNote): the job's progress live, then the recording's new note.

import { announce } from '../announce.js';
import { gql } from '../client.js';
import { h } from '../dom.js';
import { describe } from '../errors.js';
import { humanize, percent } from '../format.js';
import { FINISHED, followJob } from '../jobs.js';

const REGENERATE = 'mutation($id: ID!) { regenerateNote(recordingId: $id) { id status } }';
export const NOTE_READY = 'The note is ready.';
const NOTE_OF = 'query($id: ID!) { recording(id: $id) { note { id } } }';

// A note job of the recording, followed until it ends: onDone(noteId or null) when it completed.
// `job` is one already running (Recording.noteJob), or null to start one with the button; `said`, what
// the control says to begin with.
export function noteJobControl({ recordingId, job = null, label = 'Write the note again', said = '', onDone }) {
  const state = h('span', { class: 'state', 'aria-live': 'polite' }, said);
  const button = h('button', { type: 'button', class: 'secondary' }, label);
  let stop = () => {};

  function follow(jobId) {
    button.disabled = true;
    state.textContent = 'Queued';
    stop = followJob(
      jobId,
      async (event) => {
        state.textContent = [humanize(event.stage || event.status), percent(event.progress)].join(' · ');
        if (!FINISHED.has(event.status)) return;
        stop();
        button.disabled = false;
        if (event.status !== 'COMPLETED') {
          state.textContent = event.status === 'FAILED' ? `The note could not be written: ${event.error || 'unknown error'}` : 'Cancelled';
          return;
        }
        state.textContent = NOTE_READY;
        announce(NOTE_READY);
        const { recording } = await gql(NOTE_OF, { id: recordingId });
        onDone(recording?.note?.id ?? null);
      },
      (e) => {
        button.disabled = false;
        state.textContent = describe(e);
      },
    );
  }

  button.addEventListener('click', async () => {
    try {
      follow((await gql(REGENERATE, { id: recordingId })).regenerateNote.id);
    } catch (e) {
      state.textContent = describe(e);
    }
  });
  if (job && !FINISHED.has(job.status)) follow(job.id);
  return { element: h('div', { class: 'note-job row' }, button, state), stop: () => stop() };
}
