// A small Markdown renderer for notes and pages: headings, bullet, numbered and task lists, code
// blocks, paragraphs and **bold**. It builds DOM nodes; every piece of text goes in as text, so
// whatever HTML a note holds shows as the characters it is, never as markup.

import { h } from './dom.js';

const HEADING = /^(#{1,6})\s+(.*?)\s*#*\s*$/;
const BULLET = /^\s*[-*+]\s+(.*)$/;
const NUMBERED = /^\s*\d+[.)]\s+(.*)$/;
const TASK = /^\[([ xX])\]\s+(.*)$/;
const FENCE = /^\s*```/;

// Text with each **part** wrapped in `tag` (strong; mark for search snippets), as DOM nodes.
export function emphasized(text, tag = 'strong') {
  return String(text)
    .split(/\*\*(.+?)\*\*/s)
    .map((part, i) => (i % 2 ? h(tag, {}, part) : part))
    .filter((part) => part !== '');
}

function listItem(text) {
  const task = TASK.exec(text);
  if (!task) return h('li', {}, emphasized(text));
  const done = task[1] !== ' ';
  return h(
    'li',
    { class: 'task' },
    h('span', { 'aria-hidden': 'true' }, done ? '☑ ' : '☐ '),
    h('span', { class: 'visually-hidden' }, done ? 'Done: ' : 'To do: '),
    emphasized(task[2]),
  );
}

// `top` is the level a "#" heading gets: the page's own title is above it.
export function renderMarkdown(source, top = 2) {
  const blocks = [];
  let paragraph = [];
  let list = null;
  let code = null;

  function flush() {
    if (paragraph.length) blocks.push(h('p', {}, emphasized(paragraph.join(' '))));
    paragraph = [];
    list = null;
  }

  function addToList(tag, text) {
    if (!list || list.tagName.toLowerCase() !== tag) {
      flush();
      list = h(tag, {});
      blocks.push(list);
    }
    list.append(listItem(text));
  }

  for (const line of String(source ?? '').split(/\r?\n/)) {
    if (code) {
      if (FENCE.test(line)) {
        blocks.push(h('pre', {}, h('code', {}, code.join('\n'))));
        code = null;
      } else code.push(line);
      continue;
    }
    let match;
    if (FENCE.test(line)) {
      flush();
      code = [];
    } else if (!line.trim()) {
      flush();
    } else if ((match = HEADING.exec(line))) {
      flush();
      blocks.push(h(`h${Math.min(6, match[1].length + top - 1)}`, {}, emphasized(match[2])));
    } else if ((match = BULLET.exec(line))) {
      addToList('ul', match[1]);
    } else if ((match = NUMBERED.exec(line))) {
      addToList('ol', match[1]);
    } else {
      if (list) flush();
      paragraph.push(line.trim());
    }
  }
  if (code) blocks.push(h('pre', {}, h('code', {}, code.join('\n'))));
  flush();
  return h('div', { class: 'markdown' }, blocks);
}
