// The notes list: title, date, tags and favourite star; filtered by tag and by favourites (in the URL).

import { showError } from '../announce.js';
import { gql } from '../client.js';
import { fill, h } from '../dom.js';
import { date } from '../format.js';
import { go } from '../router.js';
import { favoriteButton } from './favorite.js';
import { tagList } from './tags.js';

const NOTES = `query($tag: String, $favorite: Boolean) { notes(limit: 200, tag: $tag, favorite: $favorite) {
  id title summary createdAt isFavorite isRead readingTimeMinutes tags { name color } } }`;
const ALL_TAGS = 'query { notes(limit: 200) { tags { name color } } }';

function row(note) {
  return h(
    'li',
    { class: 'note-row', dataset: { id: note.id, read: String(note.isRead) } },
    favoriteButton(note),
    h(
      'div',
      { class: 'note-main' },
      h('a', { class: 'note-title', href: `#/notes/${note.id}` }, note.title),
      note.isRead ? null : h('span', { class: 'badge unread' }, 'New'),
      h('p', { class: 'note-summary' }, note.summary),
      tagList(note.tags),
    ),
    h('time', { datetime: note.createdAt }, date(note.createdAt)),
  );
}

function filters(tag, favorite, tagNames) {
  const tagSelect = h(
    'select',
    { id: 'notes-tag', name: 'tag', value: tag ?? '' },
    h('option', { value: '' }, 'All tags'),
    tagNames.map((name) => h('option', { value: name }, name)),
  );
  const favoriteBox = h('input', { type: 'checkbox', id: 'notes-favorite', name: 'favorite', checked: favorite });
  const apply = () => go('/notes', { tag: tagSelect.value, favorite: favoriteBox.checked ? '1' : '' });
  tagSelect.addEventListener('change', apply);
  favoriteBox.addEventListener('change', apply);
  return h(
    'form',
    { class: 'filters row', 'aria-label': 'Filter notes', onsubmit: (event) => event.preventDefault() },
    h('label', { for: 'notes-tag' }, 'Tag'),
    tagSelect,
    h('label', { class: 'choice', for: 'notes-favorite' }, favoriteBox, 'Favourites only'),
  );
}

export function renderNotes(main, query) {
  const tag = query.get('tag') || null;
  const favorite = query.get('favorite') === '1';
  const filterBox = h('div', {});
  const body = h('div', { 'aria-busy': 'true' }, h('p', { class: 'muted' }, 'Loading notes…'));
  main.replaceChildren(
    h('section', { class: 'card notes', 'aria-labelledby': 'notes-title' }, h('h1', { id: 'notes-title' }, 'Notes'), filterBox, body),
  );

  async function load() {
    try {
      const [shown, all] = await Promise.all([
        gql(NOTES, { tag, favorite: favorite || null }),
        tag || favorite ? gql(ALL_TAGS) : null,
      ]);
      const notes = shown.notes;
      const tagNames = [...new Set((all ?? shown).notes.flatMap((n) => n.tags.map((t) => t.name)))].sort((a, b) => a.localeCompare(b));
      if (tag && !tagNames.includes(tag)) tagNames.unshift(tag);
      fill(filterBox, filters(tag, favorite, tagNames));
      body.removeAttribute('aria-busy');
      if (notes.length) fill(body, h('ul', { class: 'note-list' }, notes.map(row)));
      else if (tag || favorite) fill(body, h('p', { class: 'empty' }, 'No notes match these filters. ', h('a', { href: '#/notes' }, 'Show all notes')));
      else fill(body, h('p', { class: 'empty' }, 'No notes yet. Spek writes one after each transcript is ready.'));
    } catch (e) {
      body.removeAttribute('aria-busy');
      fill(body, h('p', { class: 'form-error' }, 'Could not load your notes. ', h('button', { type: 'button', class: 'link', onclick: load }, 'Try again')));
      showError(e);
    }
  }

  load();
}
