// The conversations list, most recently active first: open one, start a new one, rename one in place
// (Enter saves, Esc cancels), delete one after asking.

import { announce, showError } from '../announce.js';
import { deleteConversation, listConversations, renameConversation } from '../chat.js';
import { confirmDialog } from '../dialog.js';
import { fill, h } from '../dom.js';
import { describe } from '../errors.js';
import { date } from '../format.js';

// current: the open conversation's id (or null). onLoaded(conversations) after each load;
// onNew() for "New conversation"; onDeleted(id) after one is deleted.
export function conversationsPanel({ current, onLoaded, onNew, onDeleted }) {
  let conversations = [];
  const list = h('ul', { class: 'conversation-list', 'aria-busy': 'true' }, h('li', { class: 'muted' }, 'Loading conversations…'));

  function row(conversation) {
    const open = conversation.id === current;
    const element = h(
      'li',
      { class: 'conversation-row', dataset: { id: conversation.id } },
      h('a', { class: 'conversation-title', href: `#/chat/${conversation.id}`, 'aria-current': open ? 'page' : null }, conversation.title),
      h('time', { datetime: conversation.updatedAt }, date(conversation.updatedAt)),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', class: 'secondary small', 'aria-label': `Rename ${conversation.title}`, onclick: () => rename(conversation, element) }, 'Rename'),
        h('button', { type: 'button', class: 'secondary small danger-text', 'aria-label': `Delete ${conversation.title}`, onclick: () => remove(conversation) }, 'Delete'),
      ),
    );
    return element;
  }

  function rename(conversation, element) {
    const inputId = `rename-${conversation.id}`;
    const input = h('input', { id: inputId, name: 'title', required: true, maxlength: 200, autocomplete: 'off', value: conversation.title });
    const error = h('p', { class: 'form-error', role: 'alert' });
    const form = h(
      'form',
      { class: 'rename-form' },
      h('label', { class: 'visually-hidden', for: inputId }, `New title for ${conversation.title}`),
      h('div', { class: 'row' }, input, h('button', { type: 'submit', class: 'small' }, 'Save'), h('button', { type: 'button', class: 'secondary small', onclick: cancel }, 'Cancel')),
      error,
    );
    function cancel() {
      const back = row(conversation);
      element.replaceWith(back);
      back.querySelector('.actions button').focus();
    }
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        event.preventDefault();
        cancel();
      }
    });
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (!input.value.trim()) return void (error.textContent = 'A title cannot be empty.');
      try {
        const renamed = await renameConversation(conversation.id, input.value);
        Object.assign(conversation, renamed);
        announce(`Renamed to ${renamed.title}`);
        onLoaded(conversations);
        cancel();
      } catch (e) {
        error.textContent = describe(e);
      }
    });
    fill(element, form);
    input.focus();
    input.select();
  }

  async function remove(conversation) {
    const sure = await confirmDialog('Delete this conversation?', `“${conversation.title}” and all its messages will be gone for good.`, 'Delete');
    if (!sure) return;
    try {
      await deleteConversation(conversation.id);
      announce(`Deleted ${conversation.title}`);
      onDeleted(conversation.id);
      load();
    } catch (e) {
      showError(e);
    }
  }

  function draw() {
    list.removeAttribute('aria-busy');
    fill(list, conversations.length ? conversations.map(row) : h('li', { class: 'empty' }, 'No conversations yet.'));
  }

  async function load() {
    try {
      conversations = await listConversations();
      draw();
      onLoaded(conversations);
    } catch (e) {
      list.removeAttribute('aria-busy');
      fill(list, h('li', { class: 'form-error' }, 'Could not load your conversations. ', h('button', { type: 'button', class: 'link', onclick: load }, 'Try again')));
      showError(e);
    }
  }

  load();
  const element = h(
    'section',
    { class: 'card conversations', 'aria-labelledby': 'conversations-title' },
    h('div', { class: 'row conversations-head' }, h('h2', { id: 'conversations-title' }, 'Conversations'), h('button', { type: 'button', onclick: onNew }, 'New conversation')),
    list,
  );
  return {
    element,
    load,
    // The open conversation is now this one (just created): marked at the next load.
    select(id) {
      current = id;
    },
  };
}
