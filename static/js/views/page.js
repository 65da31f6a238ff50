// One notebook page, as found by search: its title, tags and Markdown content, read-only.

import { gql } from '../client.js';
import { fill, h } from '../dom.js';
import { describe } from '../errors.js';
import { date } from '../format.js';
import { renderMarkdown } from '../markdown.js';
import { link } from '../router.js';

const PAGE = 'query($id: ID!) { page(id: $id) { id notebookId title content tags updatedAt } }';
const NOTEBOOK = 'query($id: ID!) { notebook(id: $id) { id title } }';

export function renderPage(main, id) {
  const view = h('article', { class: 'page-view', 'aria-busy': 'true' }, h('p', { class: 'muted' }, 'Loading the page…'));
  main.replaceChildren(view);

  async function load() {
    try {
      const { page } = await gql(PAGE, { id });
      if (!page) return void fill(view, h('p', { class: 'form-error' }, 'This page does not exist.'));
      const notebook = (await gql(NOTEBOOK, { id: page.notebookId })).notebook;
      fill(
        view,
        notebook && h('a', { class: 'back', href: `#${link('/', { notebook: notebook.id })}` }, `← ${notebook.title}`),
        h('h1', {}, page.title),
        h('p', { class: 'meta' }, `Changed ${date(page.updatedAt)}`),
        page.tags.length ? h('ul', { class: 'tags', 'aria-label': 'Tags' }, page.tags.map((tag) => h('li', {}, h('span', { class: 'tag' }, tag)))) : null,
        h('div', { class: 'card' }, renderMarkdown(page.content)),
      );
    } catch (e) {
      fill(view, h('a', { class: 'back', href: '#/search' }, '← Search'), h('p', { class: 'form-error' }, describe(e)));
    } finally {
      view.removeAttribute('aria-busy');
    }
  }

  load();
}
