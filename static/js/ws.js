// GraphQL subscriptions over one WebSocket with the graphql-transport-ws protocol.
// The socket opens when the first subscription starts and closes after the last one ends. When it
// drops, it reopens with backoff and every live subscription starts again (from fresh variables, so
// a caller can resume after the last event it saw).

import { ApiError } from './api.js';

const PROTOCOL = 'graphql-transport-ws';
const FORBIDDEN = 4403; // the server's answer to a missing or expired token in connection_init

export class SubscriptionClient {
  // token({ force }) gives the access token for connection_init; force asks for a new one.
  constructor(url, token) {
    this.url = url;
    this.token = token;
    this.socket = null;
    this.connecting = false; // waiting for a token before the socket exists
    this.acknowledged = false;
    this.subscriptions = new Map();
    this.lastId = 0;
    this.failures = 0;
    this.refusals = 0;
    this.reopenTimer = null;
  }

  // sink: { next(data), error(error), complete() }. variables: an object, or a function giving them
  // anew for each (re)start. Returns a function that ends the subscription.
  subscribe(query, variables, sink) {
    const id = String(++this.lastId);
    this.subscriptions.set(id, { query, variables, sink });
    if (this.acknowledged) this.start(id);
    else if (!this.socket && !this.connecting && !this.reopenTimer) this.open();
    return () => {
      if (!this.subscriptions.delete(id)) return;
      if (this.acknowledged) this.send({ id, type: 'complete' });
      if (this.subscriptions.size === 0) this.close();
    };
  }

  send(message) {
    this.socket.send(JSON.stringify(message));
  }

  start(id) {
    const { query, variables } = this.subscriptions.get(id);
    this.send({ id, type: 'subscribe', payload: { query, variables: typeof variables === 'function' ? variables() : variables } });
  }

  async open() {
    let token;
    this.connecting = true;
    try {
      token = await this.token({ force: this.refusals > 0 });
    } catch (error) {
      this.failAll(error);
      return;
    } finally {
      this.connecting = false;
    }
    if (this.subscriptions.size === 0 || this.socket) return;
    const socket = new WebSocket(this.url, PROTOCOL);
    this.socket = socket;
    socket.addEventListener('open', () => {
      this.send({ type: 'connection_init', payload: { Authorization: `Bearer ${token}` } });
    });
    socket.addEventListener('message', (event) => this.receive(JSON.parse(event.data)));
    socket.addEventListener('close', (event) => this.closed(socket, event.code));
  }

  receive(message) {
    const subscription = this.subscriptions.get(message.id);
    switch (message.type) {
      case 'connection_ack':
        this.acknowledged = true;
        this.failures = 0;
        this.refusals = 0;
        for (const id of this.subscriptions.keys()) this.start(id);
        break;
      case 'ping':
        this.send({ type: 'pong' });
        break;
      case 'next':
        if (!subscription) break;
        if (message.payload.errors?.length) this.fail(message.id, message.payload.errors);
        else subscription.sink.next(message.payload.data);
        break;
      case 'error':
        if (subscription) this.fail(message.id, message.payload);
        break;
      case 'complete':
        if (!subscription) break;
        this.subscriptions.delete(message.id);
        subscription.sink.complete?.();
        if (this.subscriptions.size === 0) this.close();
        break;
    }
  }

  fail(id, errors) {
    const { sink } = this.subscriptions.get(id);
    this.subscriptions.delete(id);
    const [first] = errors;
    sink.error(new ApiError(first?.message ?? 'The subscription failed.', first?.extensions?.code ?? 'INTERNAL', errors));
    if (this.subscriptions.size === 0) this.close();
  }

  failAll(error) {
    const sinks = [...this.subscriptions.values()].map((s) => s.sink);
    this.subscriptions.clear();
    for (const sink of sinks) sink.error(error);
  }

  close() {
    const socket = this.socket;
    this.socket = null;
    this.acknowledged = false;
    clearTimeout(this.reopenTimer);
    this.reopenTimer = null;
    socket?.close(1000);
  }

  closed(socket, code) {
    if (socket !== this.socket) return; // closed on purpose
    this.socket = null;
    this.acknowledged = false;
    if (this.subscriptions.size === 0) return;
    if (code === FORBIDDEN && ++this.refusals > 1) {
      this.failAll(new ApiError('Your session has ended. Please sign in again.', 'UNAUTHENTICATED'));
      return;
    }
    const delay = Math.min(15_000, 500 * 2 ** this.failures++);
    this.reopenTimer = setTimeout(() => {
      this.reopenTimer = null;
      this.open();
    }, code === FORBIDDEN ? 0 : delay);
  }
}
