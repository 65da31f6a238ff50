// The notebooks list: pick one to see its recordings (and upload into it), or create one.

import { showError } from '../announce.js';
import { gql } from '../client.js';
import { fill, h } from '../dom.js';
import { describe } from '../errors.js';

const NOTEBOOKS = 'query { notebooks { id title } }';
const CREATE = 'mutation($title: String!) { createNotebook(title: $title) { id title } }';

// onSelect(id or null) when the person picks one; onLoaded(notebooks) whenever the list changes.
export function notebooksPanel({ selected, onSelect, onLoaded }) {
  let notebooks = [];
  const list = h('ul', { class: 'notebook-list', 'aria-busy': 'true' }, h('li', { class: 'muted' }, 'Loading notebooks…'));
  const error = h('p', { class: 'form-error', role: 'alert' });
  const title = h('input', { id: 'notebook-title', name: 'title', required: true, maxlength: 200, autocomplete: 'off' });
  const form = h(
    'form',
    { class: 'inline-form' },
    h('label', { for: 'notebook-title' }, 'New notebook'),
    h('div', { class: 'row' }, title, h('button', { type: 'submit' }, 'Create')),
    error,
  );

  function entry(id, name) {
    return h(
      'li',
      {},
      h('button', { type: 'button', class: 'notebook', 'aria-pressed': String(id === selected), onclick: () => select(id) }, name),
    );
  }

  function draw() {
    list.removeAttribute('aria-busy');
    fill(
      list,
      entry(null, 'All recordings'),
      notebooks.map((n) => entry(n.id, n.title)),
      notebooks.length === 0 && h('li', { class: 'muted empty' }, 'No notebooks yet.'),
    );
  }

  function select(id) {
    selected = id;
    draw();
    onSelect(id);
  }

  async function load() {
    try {
      notebooks = (await gql(NOTEBOOKS)).notebooks;
    } catch (e) {
      showError(e);
      notebooks = [];
    }
    if (selected && !notebooks.some((n) => n.id === selected)) select(null);
    draw();
    onLoaded(notebooks);
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    try {
      const { createNotebook } = await gql(CREATE, { title: title.value.trim() });
      title.value = '';
      notebooks = [...notebooks, createNotebook];
      onLoaded(notebooks);
      select(createNotebook.id);
    } catch (e) {
      error.textContent = describe(e);
    }
  });

  load();
  return h('section', { class: 'card notebooks', 'aria-labelledby': 'notebooks-title' }, h('h2', { id: 'notebooks-title' }, 'Notebooks'), list, form);
}
