// Editing a note: title, Markdown content and tags (comma separated), saved with updateNote.

import { gql } from '../client.js';
import { h } from '../dom.js';
import { describe } from '../errors.js';

const UPDATE = `mutation($id: ID!, $title: String!, $content: String!, $tags: [String!]!) {
  updateNote(id: $id, title: $title, content: $content, tags: $tags) { id } }`;

function parseTags(text) {
  return [...new Set(text.split(',').map((t) => t.trim()).filter(Boolean))];
}

// onSaved() after the server took the edit; onCancel() to leave without saving.
export function noteEditor(note, { onSaved, onCancel }) {
  const title = h('input', { id: 'note-title-input', name: 'title', required: true, maxlength: 200, value: note.title });
  const tags = h('input', { id: 'note-tags-input', name: 'tags', value: note.tags.map((t) => t.name).join(', '), 'aria-describedby': 'note-tags-hint' });
  const content = h('textarea', { id: 'note-content-input', name: 'content', rows: 16, value: note.content, 'aria-describedby': 'note-content-hint' });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const save = h('button', { type: 'submit' }, 'Save');
  const form = h(
    'form',
    { class: 'card note-editor', 'aria-label': 'Edit note' },
    h('div', { class: 'field' }, h('label', { for: 'note-title-input' }, 'Title'), title),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'note-tags-input' }, 'Tags'),
      tags,
      h('span', { class: 'hint', id: 'note-tags-hint' }, 'Separate tags with commas.'),
    ),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'note-content-input' }, 'Content'),
      content,
      h('span', { class: 'hint', id: 'note-content-hint' }, 'Markdown: # headings, - lists, **bold**.'),
    ),
    error,
    h('div', { class: 'actions' }, save, h('button', { type: 'button', class: 'secondary', onclick: onCancel }, 'Cancel')),
  );

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    save.disabled = true;
    try {
      await gql(UPDATE, { id: note.id, title: title.value.trim(), content: content.value, tags: parseTags(tags.value) });
      onSaved();
    } catch (e) {
      error.textContent = describe(e);
      save.disabled = false;
    }
  });
  form.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      onCancel();
    }
  });
  queueMicrotask(() => title.focus());
  return form;
}
