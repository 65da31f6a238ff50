// The app shell: the header, and which screen shows for the current URL.

import { clearErrors } from './announce.js';
import { currentUser, onSessionChange, signOut } from './auth.js';
import { currentRoute, go } from './router.js';
import { renderAuth } from './views/auth.js';
import { renderLibrary } from './views/library.js';
import { renderRecording } from './views/recording.js';

const main = document.getElementById('main');
let leave = () => {}; // stops what the current screen started (subscriptions, timers)

function renderHeader(user) {
  const account = document.querySelector('.account');
  account.hidden = !user;
  account.querySelector('.who').textContent = user ? user.displayName || user.email : '';
}

function render() {
  leave();
  leave = () => {};
  clearErrors();
  const route = currentRoute();
  const user = currentUser();
  renderHeader(user);
  const needsAccount = route.name !== 'sign-in' && route.name !== 'sign-up';
  if (needsAccount && !user) return go('/sign-in');
  if (!needsAccount && user) return go('/');
  if (!needsAccount) return renderAuth(main, route.name);
  leave = route.name === 'recording' ? renderRecording(main, route.params[0]) : renderLibrary(main);
}

document.querySelector('.sign-out').addEventListener('click', () => signOut());
onSessionChange(() => render());
window.addEventListener('hashchange', () => {
  render();
  // Keyboard and screen reader users start at the new screen, not at the link they left.
  if (!main.contains(document.activeElement)) main.focus();
});
render();
