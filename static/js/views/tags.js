// Tags as small coloured chips; each one opens the notes that carry it.

import { h } from '../dom.js';
import { link } from '../router.js';

const COLOR = /^#[0-9a-f]{6}$/i;

function tagChip(tag) {
  const style = COLOR.test(tag.color) ? `--tag: ${tag.color}` : null;
  return h('a', { class: 'tag', style, href: `#${link('/notes', { tag: tag.name })}`, 'aria-label': `Notes tagged ${tag.name}` }, tag.name);
}

export function tagList(tags, label = 'Tags') {
  if (!tags.length) return null;
  return h('ul', { class: 'tags', 'aria-label': label }, tags.map((tag) => h('li', {}, tagChip(tag))));
}
