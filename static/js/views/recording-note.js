// The recording's note in the transcript's tools: a link to it, the job writing it, or a button to write it.

import { fill, h } from '../dom.js';
import { FINISHED } from '../jobs.js';
import { NOTE_READY, noteJobControl } from './regenerate.js';

export function notePanel(recording) {
  const body = h('div', {});
  let control = null;

  function draw(noteId, title, job, said = '') {
    control?.stop();
    control = noteJobControl({
      recordingId: recording.id,
      job,
      said,
      label: noteId ? 'Write it again' : 'Write a note',
      onDone: (id) => draw(id, null, null, NOTE_READY),
    });
    fill(
      body,
      noteId
        ? h('p', {}, h('a', { class: 'note-link', href: `#/notes/${noteId}` }, title ? `Open the note: ${title}` : 'Open the note'))
        : h('p', { class: 'muted' }, job && !FINISHED.has(job.status) ? 'Spek is writing a note of this transcript.' : 'This transcript has no note yet.'),
      control.element,
    );
  }

  draw(recording.note?.id ?? null, recording.note?.title ?? null, recording.noteJob);
  return {
    element: h('section', { class: 'card tool note-tool', 'aria-labelledby': 'note-tool-title' }, h('h2', { id: 'note-tool-title' }, 'Note'), body),
    stop: () => control?.stop(),
  };
}
