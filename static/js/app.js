// The app shell: the header, and which screen shows for the current URL.

import { clearErrors } from './announce.js';
import { currentUser, onSessionChange, signInFromTelegram, signOut } from './auth.js';
import { currentRoute, go } from './router.js';
import { renderAuth } from './views/auth.js';
import { renderChat } from './views/chat.js';
import { renderDocument } from './views/document.js';
import { renderDocuments } from './views/documents.js';
import { renderSearch } from './views/global-search.js';
import { renderLibrary } from './views/library.js';
import { renderNote } from './views/note.js';
import { renderNotes } from './views/notes.js';
import { renderPage } from './views/page.js';
import { renderRecording } from './views/recording.js';

const main = document.getElementById('main');
let leave = () => {}; // stops what the current screen started (subscriptions, timers)

// Each signed-in screen: how to draw it (returning what stops it, if anything) and its nav entry.
const SCREENS = {
  library: { section: 'recordings', render: ({ query }) => renderLibrary(main, query) },
  recording: { section: 'recordings', render: ({ params, query }) => renderRecording(main, params[0], query) },
  notes: { section: 'notes', render: ({ query }) => renderNotes(main, query) },
  note: { section: 'notes', render: ({ params }) => renderNote(main, params[0]) },
  documents: { section: 'documents', render: () => renderDocuments(main) },
  document: { section: 'documents', render: ({ params, query }) => renderDocument(main, params[0], query) },
  page: { section: 'search', render: ({ params }) => renderPage(main, params[0]) },
  search: { section: 'search', render: ({ query }) => renderSearch(main, query) },
  chat: { section: 'chat', render: () => renderChat(main, null) },
  conversation: { section: 'chat', render: ({ params }) => renderChat(main, params[0]) },
};

function renderHeader(user, section) {
  const account = document.querySelector('.account');
  account.hidden = !user;
  account.querySelector('.who').textContent = user ? user.displayName || user.email : '';
  const nav = document.querySelector('.sections');
  nav.hidden = !user;
  for (const entry of nav.querySelectorAll('a')) {
    if (entry.dataset.section === section) entry.setAttribute('aria-current', 'page');
    else entry.removeAttribute('aria-current');
  }
}

function render() {
  leave();
  leave = () => {};
  clearErrors();
  const route = currentRoute();
  const user = currentUser();
  const screen = SCREENS[route.name];
  renderHeader(user, screen?.section);
  const needsAccount = route.name !== 'sign-in' && route.name !== 'sign-up';
  if (needsAccount && !user) return go('/sign-in');
  if (!needsAccount && user) return go('/');
  if (!needsAccount) return renderAuth(main, route.name);
  leave = screen.render(route) ?? (() => {});
}

document.querySelector('.sign-out').addEventListener('click', () => signOut());
onSessionChange(() => render());
window.addEventListener('hashchange', () => {
  render();
  // Keyboard and screen reader users start at the new screen, not at the link they left.
  if (!main.contains(document.activeElement)) main.focus();
});
// From the Telegram bot's "Open player" (`/?recording=<id>`, opened by Telegram with its initData): sign in as that
// Telegram user, then show the recording. Anything else (or a refusal) goes on as a plain visit.
function showTelegramRecording() {
  const recording = new URLSearchParams(location.search).get('recording');
  history.replaceState(null, '', `${location.pathname}#/${recording ? `recordings/${encodeURIComponent(recording)}` : ''}`);
}
try {
  await signInFromTelegram(showTelegramRecording);
} catch {
  history.replaceState(null, '', `${location.pathname}#/`);
}
render();
