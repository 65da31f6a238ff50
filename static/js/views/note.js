// One note: summary, tags, key phrases, each speaker's tone, the Markdown content, related notes and
// the recording it came from; favourite, edit, write again and delete.

import { announce, showError } from '../announce.js';
import { gql } from '../client.js';
import { confirmDialog } from '../dialog.js';
import { fill, h } from '../dom.js';
import { describe } from '../errors.js';
import { date, humanize, percent, signed, speakerName } from '../format.js';
import { renderMarkdown } from '../markdown.js';
import { go } from '../router.js';
import { favoriteButton } from './favorite.js';
import { noteEditor } from './note-editor.js';
import { noteJobControl } from './regenerate.js';
import { tagList } from './tags.js';

const NOTE = `query($id: ID!) { note(id: $id) {
  id title summary content tags { name color } keyPhrases sentiment { speaker label score }
  sourceRecordingId isFavorite isRead readingTimeMinutes createdAt updatedAt language model
  related { note { id title } strength relationship } } }`;
const SOURCE = 'query($id: ID!) { recording(id: $id) { id title filename transcript { speakers { label name } } } }';
const MARK_READ = 'mutation($id: ID!) { updateNote(id: $id, isRead: true) { id } }';
const DELETE = 'mutation($id: ID!) { deleteNote(id: $id) }';

function section(id, title, ...content) {
  return h('section', { class: 'note-part', 'aria-labelledby': id }, h('h2', { id }, title), content);
}

function sentiment(entries, names) {
  if (!entries.length) return null;
  return section(
    'note-tone',
    'Tone by speaker',
    h(
      'ul',
      { class: 'tones' },
      entries.map((s) =>
        h(
          'li',
          { class: 'tone', dataset: { label: s.label, speaker: s.speaker } },
          h('span', { class: 'tone-speaker' }, speakerName(s.speaker, names)),
          h('span', { class: 'tone-label' }, humanize(s.label)),
          h('span', { class: 'tone-score', title: 'From −1 (negative) to +1 (positive)' }, signed(s.score)),
        ),
      ),
    ),
  );
}

function related(entries) {
  if (!entries.length) return null;
  return section(
    'note-related',
    'Related notes',
    h(
      'ul',
      { class: 'related' },
      entries.map((r) =>
        h(
          'li',
          {},
          h('a', { href: `#/notes/${r.note.id}` }, r.note.title),
          h('span', { class: 'muted' }, ` · ${percent(r.strength)} related${r.relationship === 'same_tag' ? ' · same tag' : ''}`),
        ),
      ),
    ),
  );
}

function facts(note) {
  return [
    date(note.createdAt),
    `${note.readingTimeMinutes} min read`,
    note.model ? `Written by ${note.model}` : 'Edited by you',
  ].join(' · ');
}

export function renderNote(main, id) {
  let stop = () => {};
  const view = h('article', { class: 'note-view', 'aria-busy': 'true' }, h('p', { class: 'muted' }, 'Loading the note…'));
  main.replaceChildren(view);

  async function remove(note) {
    const sure = await confirmDialog('Delete this note?', `“${note.title}” will be gone for good. The recording and its transcript stay.`, 'Delete');
    if (!sure) return;
    try {
      await gql(DELETE, { id: note.id });
      announce(`Deleted ${note.title}`);
      go('/notes');
    } catch (e) {
      showError(e);
    }
  }

  function show(note, source) {
    stop();
    const names = Object.fromEntries((source?.transcript?.speakers ?? []).filter((s) => s.name).map((s) => [s.label, s.name]));
    const regenerate = note.sourceRecordingId
      ? noteJobControl({
          recordingId: note.sourceRecordingId,
          onDone: (noteId) => (noteId && noteId !== note.id ? go(`/notes/${noteId}`) : load()),
        })
      : null;
    stop = () => regenerate?.stop();
    const edit = h('button', { type: 'button', class: 'secondary', onclick: () => editing(note, source) }, 'Edit');
    fill(
      view,
      h('a', { class: 'back', href: '#/notes' }, '← All notes'),
      h(
        'header',
        { class: 'note-head' },
        h('div', { class: 'row' }, h('h1', {}, note.title), favoriteButton(note)),
        h('p', { class: 'meta' }, facts(note)),
        source && h('p', {}, 'From the recording ', h('a', { class: 'source', href: `#/recordings/${source.id}` }, source.title || source.filename)),
        h(
          'div',
          { class: 'actions' },
          edit,
          h('button', { type: 'button', class: 'secondary danger-text', onclick: () => remove(note) }, 'Delete'),
        ),
        regenerate?.element,
      ),
      section('note-summary', 'Summary', h('p', { class: 'summary' }, note.summary)),
      tagList(note.tags),
      note.keyPhrases.length
        ? section('note-phrases', 'Key phrases', h('ul', { class: 'phrases' }, note.keyPhrases.map((p) => h('li', {}, p))))
        : null,
      sentiment(note.sentiment, names),
      section('note-content', 'Note', renderMarkdown(note.content, 3)),
      related(note.related),
    );
    view.removeAttribute('aria-busy');
  }

  function editing(note, source) {
    fill(
      view,
      h('a', { class: 'back', href: '#/notes' }, '← All notes'),
      h('h1', {}, `Edit “${note.title}”`),
      noteEditor(note, {
        onSaved: () => {
          announce('Note saved');
          load();
        },
        onCancel: () => show(note, source),
      }),
    );
  }

  function failed(message) {
    view.removeAttribute('aria-busy');
    fill(view, h('a', { class: 'back', href: '#/notes' }, '← All notes'), h('p', { class: 'form-error' }, message));
  }

  async function load() {
    let note;
    let source = null;
    try {
      note = (await gql(NOTE, { id })).note;
    } catch (e) {
      return failed(describe(e));
    }
    if (!note) return failed('This note does not exist.');
    if (note.sourceRecordingId) source = (await gql(SOURCE, { id: note.sourceRecordingId }).catch(() => null))?.recording ?? null;
    show(note, source);
    if (!note.isRead) gql(MARK_READ, { id }).catch(() => {});
  }

  load();
  return () => stop();
}
