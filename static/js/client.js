// The signed-in API: every request carries a fresh access token.

import { graphql, upload } from './api.js';
import { accessToken, authorized } from './auth.js';
import { SubscriptionClient } from './ws.js';

const socketUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
const subscriptions = new SubscriptionClient(socketUrl, accessToken);

export function gql(query, variables = {}) {
  return authorized((token) => graphql(query, variables, token));
}

export function uploadFiles(query, variables, files, onProgress) {
  return authorized((token) => upload(query, variables, files, token, onProgress));
}

export function subscribe(query, variables, sink) {
  return subscriptions.subscribe(query, variables, sink);
}
