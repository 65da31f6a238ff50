// Chat over one's own material: the operations, and following an answer as it is written.

import { gql, subscribe } from './client.js';

const HIT = 'kind id parentId title snippet score start end page heading';
const MESSAGE = `id conversationId role content status error notebookId createdAt citations { ${HIT} }`;

const CONVERSATIONS = 'query { conversations { id title updatedAt } }';
const CONVERSATION = `query($id: ID!) { conversation(id: $id) { id title updatedAt messages { ${MESSAGE} } } }`;
const SEND = `mutation($content: String!, $conversationId: ID, $notebookId: ID) {
  sendMessage(content: $content, conversationId: $conversationId, notebookId: $notebookId) { ${MESSAGE} } }`;
const STOP = 'mutation($id: ID!) { stopMessage(id: $id) { id status } }';
const REGENERATE = `mutation($id: ID!) { regenerateMessage(id: $id) { ${MESSAGE} } }`;
const RENAME = 'mutation($id: ID!, $title: String!) { renameConversation(id: $id, title: $title) { id title } }';
const DELETE = 'mutation($id: ID!) { deleteConversation(id: $id) }';
const TOKENS = `subscription($id: ID!, $after: Int) {
  messageTokens(messageId: $id, after: $after) { seq delta done content error notice citations { ${HIT} } } }`;

export const listConversations = async () => (await gql(CONVERSATIONS)).conversations;
export const getConversation = async (id) => (await gql(CONVERSATION, { id })).conversation;
export const sendMessage = async (content, conversationId, notebookId) =>
  (await gql(SEND, { content, conversationId, notebookId })).sendMessage;
export const stopMessage = async (id) => (await gql(STOP, { id })).stopMessage;
export const regenerateMessage = async (id) => (await gql(REGENERATE, { id })).regenerateMessage;
export const renameConversation = async (id, title) => (await gql(RENAME, { id, title })).renameConversation;
export const deleteConversation = (id) => gql(DELETE, { id });

// Calls onDelta(text) for each piece of the answer, onNotice(text) for news while waiting (a rate limit),
// then onDone(final event: content, citations, error).
// After a dropped connection it resumes after the last event seen, and skips any it sees again, so no
// text comes twice. Returns a function that stops following.
export function followAnswer(messageId, { onDelta, onNotice, onDone, onError }) {
  let after = null;
  return subscribe(TOKENS, () => ({ id: messageId, after }), {
    next(data) {
      const event = data.messageTokens;
      if (after !== null && event.seq <= after) return;
      after = event.seq;
      if (event.done) onDone(event);
      else if (event.notice) onNotice?.(event.notice);
      else onDelta(event.delta);
    },
    error: onError,
  });
}
