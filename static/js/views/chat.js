// The chat screen: the conversations on one side, the open one (or a new one) on the other.
// #/chat is a new conversation; #/chat/<id> an existing one.

import { h } from '../dom.js';
import { go } from '../router.js';
import { conversationView } from './conversation.js';
import { conversationsPanel } from './conversations.js';

export function renderChat(main, id) {
  let current = id;
  const panel = conversationsPanel({
    current,
    onLoaded(conversations) {
      const open = conversations.find((c) => c.id === current);
      if (open) view.setTitle(open.title);
    },
    onNew() {
      if (current) go('/chat');
      else view.focus();
    },
    onDeleted(deleted) {
      if (deleted === current) go('/chat');
    },
  });
  const view = conversationView({
    id,
    onCreated(created) {
      // The address follows without drawing the screen again: the answer is already being written here.
      current = created;
      history.pushState(null, '', `#/chat/${created}`);
      panel.select(created);
    },
    onChanged: () => panel.load(),
  });
  main.replaceChildren(h('div', { class: 'chat' }, panel.element, view.element));
  return () => view.stop();
}
