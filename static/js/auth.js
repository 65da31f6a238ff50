// The signed-in session: sign up, sign in, sign out, and access tokens refreshed before they expire.
// Refresh tokens rotate (each works once), so only one refresh may be in flight, across tabs too.

import { ApiError, graphql } from './api.js';

const STORAGE_KEY = 'spek.session';
const PAYLOAD = 'accessToken refreshToken expiresIn user { id email displayName }';
const REGISTER = `mutation($email: String!, $password: String!, $displayName: String) {
  register(email: $email, password: $password, displayName: $displayName) { ${PAYLOAD} } }`;
const LOGIN = `mutation($email: String!, $password: String!) { login(email: $email, password: $password) { ${PAYLOAD} } }`;
const REFRESH = `mutation($refreshToken: String!) { refreshToken(refreshToken: $refreshToken) { ${PAYLOAD} } }`;
const LOGOUT = 'mutation($refreshToken: String!) { logout(refreshToken: $refreshToken) }';
const TELEGRAM = `mutation($initData: String!) { telegramWebAppLogin(initData: $initData) { ${PAYLOAD} } }`;

const listeners = new Set();
let session = stored();
let refreshing = null;
let notice = ''; // why the person was signed out, for the sign-in screen to say once

function stored() {
  try {
    return JSON.parse(localStorage.getItem(STORAGE_KEY));
  } catch {
    return null;
  }
}

function keep(next) {
  const signedInChanged = Boolean(session) !== Boolean(next);
  session = next;
  if (next) localStorage.setItem(STORAGE_KEY, JSON.stringify(next));
  else localStorage.removeItem(STORAGE_KEY);
  if (signedInChanged) for (const listener of listeners) listener(currentUser());
}

function fromPayload(payload) {
  const lifetime = payload.expiresIn * 1000;
  return { ...payload, lifetime, expiresAt: Date.now() + lifetime };
}

// Refresh a little before the server would refuse the token: up to 30 s early, less for short lifetimes.
function expiresSoon(current) {
  return Date.now() > current.expiresAt - Math.min(30_000, current.lifetime / 4);
}

function sessionEnded() {
  return new ApiError('Your session has ended. Please sign in again.', 'UNAUTHENTICATED');
}

// Why this browser was signed out without asking (once), or ''.
export function takeNotice() {
  const told = notice;
  notice = '';
  return told;
}

export function currentUser() {
  return session?.user ?? null;
}

// listener(user or null) runs when someone signs in or out, in this tab or another.
export function onSessionChange(listener) {
  listeners.add(listener);
}

window.addEventListener('storage', (event) => {
  if (event.key !== STORAGE_KEY) return;
  const wasSignedIn = Boolean(session);
  session = stored();
  if (wasSignedIn !== Boolean(session)) for (const listener of listeners) listener(currentUser());
});

export async function signUp(email, password, displayName) {
  const data = await graphql(REGISTER, { email, password, displayName: displayName || null });
  keep(fromPayload(data.register));
}

export async function signIn(email, password) {
  const data = await graphql(LOGIN, { email, password });
  keep(fromPayload(data.login));
}

// Opened as a Telegram WebApp (the bot's "Open player"): Telegram puts its signed initData in the URL fragment
// (tgWebAppData); the server checks the signature with the bot's token and signs that Telegram user in.
// `beforeSignIn` runs once the server has said yes (to leave Telegram's fragment before the app re-renders).
export async function signInFromTelegram(beforeSignIn) {
  const initData = new URLSearchParams(location.hash.slice(1)).get('tgWebAppData');
  if (!initData) return false;
  const data = await graphql(TELEGRAM, { initData });
  beforeSignIn();
  keep(fromPayload(data.telegramWebAppLogin));
  return true;
}

export async function signOut() {
  const refreshToken = session?.refreshToken;
  // Ending the sign-in on the server is best effort: this browser forgets the tokens either way.
  if (refreshToken) await graphql(LOGOUT, { refreshToken }).catch(() => {});
  keep(null);
}

function exclusively(task) {
  return navigator.locks ? navigator.locks.request('spek.refresh', task) : task();
}

async function refresh() {
  const used = session?.refreshToken;
  const latest = stored();
  // Another tab rotated the token meanwhile (or signed out): take its result instead of reusing ours.
  if (!latest) throw sessionEnded();
  if (latest.refreshToken !== used) {
    session = latest;
    return;
  }
  try {
    const data = await graphql(REFRESH, { refreshToken: used });
    keep(fromPayload(data.refreshToken));
  } catch (error) {
    if (error instanceof ApiError && error.code === 'UNAUTHENTICATED') {
      notice = sessionEnded().message;
      keep(null);
      throw sessionEnded();
    }
    throw error;
  }
}

// A valid access token, refreshed first when it is about to expire (or when `force` says the server refused it).
export async function accessToken({ force = false } = {}) {
  if (!session) throw sessionEnded();
  if (force || expiresSoon(session)) {
    refreshing ??= exclusively(refresh).finally(() => {
      refreshing = null;
    });
    await refreshing;
  }
  return session.accessToken;
}

// Runs call(token); when the server still finds the token expired, refreshes once and tries again.
export async function authorized(call) {
  const token = await accessToken();
  try {
    return await call(token);
  } catch (error) {
    if (!(error instanceof ApiError) || error.code !== 'UNAUTHENTICATED' || !session) throw error;
    return call(await accessToken({ force: session.accessToken === token }));
  }
}
