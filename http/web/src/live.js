// The live feed over /ws: a visible connection state, reconnect with backoff, the token renewed
// in place (an auth message) before it expires.
import { currentToken, onSession } from './api.js';

let socket = null;
let state = 'offline';
let backoff = 500;
let nextSub = 1;
const subscriptions = new Map(); // sub id -> {topic, filter, fn}
const stateListeners = new Set();

function setState(s) {
  state = s;
  for (const fn of stateListeners) fn(s);
}

export function onLiveState(fn) {
  stateListeners.add(fn);
  fn(state);
  return () => stateListeners.delete(fn);
}

function send(message) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}

function subscribeAll() {
  for (const [id, s] of subscriptions) send({ type: 'subscribe', sub: id, topic: s.topic, ...s.filter });
}

function connect() {
  if (!currentToken() || socket) return;
  setState('connecting');
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  socket = new WebSocket(`${scheme}://${location.host}/ws`);
  socket.onopen = () => send({ type: 'auth', token: currentToken() });
  socket.onmessage = (e) => {
    let m;
    try {
      m = JSON.parse(e.data);
    } catch {
      return;
    }
    if (m.type === 'authenticated') {
      backoff = 500;
      // A renewal answers 'authenticated' too; the subscriptions are still in place then.
      if (state !== 'live') subscribeAll();
      setState('live');
      return;
    }
    const s = subscriptions.get(m.sub);
    if (!s) return;
    // Only a subscription's updates go to its callback; "subscribed" says the server has it.
    if (m.type === 'subscribed') s.ready?.();
    else if (m.type !== 'unsubscribed' && m.type !== 'error') s.fn(m);
  };
  socket.onclose = () => {
    socket = null;
    if (!currentToken()) {
      setState('offline');
      return;
    }
    setState('reconnecting');
    setTimeout(connect, backoff);
    backoff = Math.min(backoff * 2, 15000);
  };
}

onSession((session) => {
  if (!session) {
    if (socket) socket.close();
    return;
  }
  if (socket && socket.readyState === WebSocket.OPEN) send({ type: 'auth', token: currentToken() });
  else connect();
});

// Calls fn with every message of `topic` ('alerts', 'readings', 'health', ...), and ready()
// once the server has the subscription; returns the unsubscribe function.
export function subscribe(topic, filter, fn, ready) {
  const id = `s${nextSub++}`;
  subscriptions.set(id, { topic, filter, fn, ready });
  send({ type: 'subscribe', sub: id, topic, ...filter });
  connect();
  return () => {
    subscriptions.delete(id);
    send({ type: 'unsubscribe', sub: id });
  };
}
