// One conversation: its messages, and the box to ask the next question (Enter sends, Shift+Enter starts a
// new line). An answer shows as it is written; Stop ends it there, Regenerate asks the last question again.

import { announce, showError } from '../announce.js';
import { followAnswer, getConversation, regenerateMessage, sendMessage, stopMessage } from '../chat.js';
import { gql } from '../client.js';
import { fill, h } from '../dom.js';
import { describe } from '../errors.js';
import { answerBody, questionBody, sourceList } from './answer.js';

const WHO = { user: 'You', assistant: 'Spek' };
const NOTEBOOKS = 'query { notebooks { id title } }';

// id: the conversation's, or null for a new one. onCreated(id) when the first question made the
// conversation; onChanged() when its entry in the list may have changed.
export function conversationView({ id, onCreated, onChanged }) {
  let conversationId = id;
  let items = []; // { message, element, lost }
  let unfollow = () => {};
  let streaming = null; // the item whose answer is being written

  const heading = h('h1', { id: 'conversation-title' }, id ? 'Loading…' : 'New conversation');
  const list = h('ol', { class: 'messages', 'aria-label': 'Messages' });
  const empty = h('p', { class: 'empty' }, 'Ask anything about your notes, documents and recordings. Answers cite where they found it.');
  const input = h('textarea', { id: 'chat-question', name: 'content', rows: 3, maxlength: 4000, required: true, 'aria-describedby': 'chat-hint' });
  // Which notebook the sources may come from; shown once there are notebooks to choose.
  const scope = h('select', { id: 'chat-notebook', name: 'notebook' }, h('option', { value: '' }, 'All notebooks'));
  const scopeField = h('span', { class: 'scope', hidden: true }, h('label', { for: 'chat-notebook' }, 'Look in'), ' ', scope);
  const send = h('button', { type: 'submit' }, 'Send');
  const stop = h('button', { type: 'button', class: 'secondary danger-text', hidden: true, onclick: stopAnswer }, 'Stop');
  const error = h('p', { class: 'form-error', role: 'alert' });
  const form = h(
    'form',
    { class: 'composer' },
    h('label', { for: 'chat-question' }, 'Your question'),
    input,
    h('p', { class: 'hint', id: 'chat-hint' }, 'Enter sends; Shift+Enter starts a new line.'),
    h('div', { class: 'row composer-actions' }, scopeField, send, stop),
    error,
  );

  function draw(item) {
    const { message } = item;
    const last = items.at(-1) === item;
    const parts = [h('span', { class: 'message-who' }, WHO[message.role] ?? message.role)];
    if (message.role === 'user') parts.push(questionBody(message.content));
    else {
      const writing = message.status === 'STREAMING';
      if (message.content) parts.push(answerBody(message.content, writing ? [] : message.citations));
      else if (writing) parts.push(h('p', { class: 'muted writing' }, 'Looking through your material…'));
      if (message.status === 'FAILED') parts.push(h('p', { class: 'form-error answer-error' }, `The answer failed: ${message.error || 'unknown error'}`));
      if (item.lost) parts.push(h('p', { class: 'form-error answer-error' }, `Lost track of the answer: ${item.lost} Reload the page to see it.`));
      if (!writing) parts.push(sourceList(message.content, message.citations));
      if (last && !writing) {
        parts.push(h('div', { class: 'actions' }, h('button', { type: 'button', class: 'secondary small', onclick: () => regenerate(item) }, 'Regenerate')));
      }
    }
    item.element.dataset.status = message.status;
    if (message.status === 'STREAMING') item.element.setAttribute('aria-busy', 'true');
    else item.element.removeAttribute('aria-busy');
    fill(item.element, parts);
  }

  function add(message) {
    const previous = items.at(-1);
    const item = { message, element: h('li', { class: `message ${message.role}`, dataset: { id: message.id } }), lost: null };
    items.push(item);
    list.append(item.element);
    empty.remove();
    if (previous) draw(previous); // it is no longer the last answer
    draw(item);
    return item;
  }

  function setStreaming(item) {
    streaming = item;
    const on = Boolean(item);
    input.disabled = on;
    send.disabled = on;
    scope.disabled = on;
    stop.hidden = !on;
    stop.disabled = false;
  }

  function settled() {
    setStreaming(null);
    // Back to the box for the next question, unless the person has gone elsewhere on the page meanwhile.
    const at = document.activeElement;
    if (!at || at === document.body || form.contains(at)) input.focus();
  }

  function follow(item) {
    unfollow();
    setStreaming(item);
    unfollow = followAnswer(item.message.id, {
      onDelta(text) {
        item.message.content += text;
        draw(item);
      },
      onNotice(text) {
        announce(text);
      },
      onDone(event) {
        Object.assign(item.message, {
          content: event.content ?? item.message.content,
          citations: event.citations ?? [],
          error: event.error,
          status: event.error ? 'FAILED' : 'COMPLETED',
        });
        draw(item);
        announce(event.error ? 'The answer failed.' : 'The answer is ready.');
        settled();
        onChanged();
      },
      onError(e) {
        item.lost = describe(e);
        draw(item);
        settled();
      },
    });
    item.element.scrollIntoView?.({ block: 'nearest' });
  }

  async function ask(content) {
    error.textContent = '';
    setStreaming({}); // nothing to stop yet, but no second question meanwhile
    stop.hidden = true;
    try {
      const answer = await sendMessage(content, conversationId, scope.value || null);
      input.value = '';
      if (!conversationId) {
        conversationId = answer.conversationId;
        onCreated(conversationId);
      }
      add({ id: `question-${answer.id}`, role: 'user', content, status: 'COMPLETED', citations: [] });
      follow(add(answer));
      onChanged();
    } catch (e) {
      error.textContent = describe(e);
      settled();
    }
  }

  async function stopAnswer() {
    if (!streaming?.message) return;
    stop.disabled = true;
    try {
      await stopMessage(streaming.message.id);
      announce('Stopping the answer…');
    } catch (e) {
      stop.disabled = false;
      showError(e);
    }
  }

  async function regenerate(item) {
    error.textContent = '';
    try {
      item.message = await regenerateMessage(item.message.id);
      item.lost = null;
      item.element.dataset.id = item.message.id;
      draw(item);
      follow(item);
    } catch (e) {
      showError(e);
    }
  }

  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (streaming) return;
    const content = input.value.trim();
    if (!content) return void (error.textContent = 'Type a question first.');
    ask(content);
  });

  async function loadNotebooks() {
    try {
      const { notebooks } = await gql(NOTEBOOKS);
      fill(scope, h('option', { value: '' }, 'All notebooks'), notebooks.map((n) => h('option', { value: n.id }, n.title)));
      scopeField.hidden = !notebooks.length;
    } catch {
      // Without the list, questions look through everything: that still works.
    }
  }

  async function load() {
    let conversation;
    try {
      [conversation] = await Promise.all([getConversation(id), loadNotebooks()]);
    } catch (e) {
      heading.textContent = 'Conversation';
      return void fill(list, h('li', { class: 'form-error' }, describe(e)));
    }
    if (!conversation) {
      heading.textContent = 'Conversation not found';
      form.hidden = true;
      return void fill(list, h('li', { class: 'form-error' }, 'This conversation does not exist. It may have been deleted.'));
    }
    heading.textContent = conversation.title;
    items = [];
    list.replaceChildren();
    for (const message of conversation.messages) add(message);
    const scoped = conversation.messages.findLast((m) => m.role === 'assistant' && m.notebookId)?.notebookId;
    if (scoped && [...scope.options].some((option) => option.value === scoped)) scope.value = scoped;
    const last = items.at(-1);
    if (last?.message.status === 'STREAMING') {
      last.message.content = ''; // its events are replayed from the first
      follow(last);
    } else input.focus();
  }

  if (id) load();
  else {
    loadNotebooks();
    queueMicrotask(() => input.focus());
  }

  const element = h(
    'section',
    { class: 'card conversation', 'aria-labelledby': 'conversation-title' },
    heading,
    id ? null : empty,
    list,
    form,
  );
  return {
    element,
    setTitle(title) {
      heading.textContent = title;
    },
    focus: () => input.focus(),
    stop: () => unfollow(),
  };
}
