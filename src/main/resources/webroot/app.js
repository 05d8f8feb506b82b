// Parley's web client: the reference client of protocol v1 (README, "Real time"). Plain ES module, no build.
// Every message is rendered with textContent: nothing a message or an answer holds is ever run as HTML.

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = 'parley.token';
const OUTBOX_KEY = 'parley.outbox';
const MAX_MESSAGE_BYTES = 16384;   // the server's default MAX_MESSAGE_BYTES: longer is refused before it is queued
const STABLE_MS = 5000;            // a connection that lasts this long resets the backoff

const state = {
  token: sessionStorage.getItem(TOKEN_KEY),
  me: null,
  node: null,
  rooms: new Map(),        // id -> room (see room())
  current: null,           // id of the room on screen
  outbox: JSON.parse(sessionStorage.getItem(OUTBOX_KEY) || '[]'), // [{clientMsgId, conversationId, content, userId}]
  chunks: 0,               // pieces of answers shown as they were written
  trace: [],               // the last frames sent and received, without their text: what a bug report needs
};
const TRACE_LENGTH = 100;

function trace(direction, frame) {
  const { type, conversationId, clientMsgId, seq, code } = frame;
  // An error's own message is the server's text; any other frame's `message` is a chat message: left out.
  const message = type === 'error' && typeof frame.message === 'string' ? frame.message : undefined;
  state.trace.push({ at: new Date().toISOString(), direction, type, conversationId, clientMsgId, seq, code, message });
  if (state.trace.length > TRACE_LENGTH) state.trace.shift();
}
window.parley = state;     // for the curious, and for the browser tests

// ---------------------------------------------------------------- HTTP

async function api(path, { method = 'GET', body, form } = {}) {
  const headers = {};
  if (state.token) headers.Authorization = 'Bearer ' + state.token;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, { method, headers, body: form ?? (body === undefined ? undefined : JSON.stringify(body)) });
  const text = await response.text();
  const json = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const error = new Error(json?.error?.message || response.statusText);
    error.code = json?.error?.code;
    error.status = response.status;
    throw error;
  }
  return json;
}

// ---------------------------------------------------------------- rooms

function room(id) {
  let r = state.rooms.get(id);
  if (!r) {
    r = { id, title: 'Conversation', lastSeq: 0, lastRead: 0, messages: new Map(), pending: new Map(),
      answers: new Map(), typing: new Map(), presence: new Map(), oldest: null, hasMore: true, joined: false,
      loaded: false, activity: '' };
    state.rooms.set(id, r);
  }
  return r;
}

async function loadConversations() {
  const page = await api('/api/conversations?limit=200');
  for (const c of page.items) {
    const r = room(c.id);
    r.title = c.title;
    r.lastRead = c.myLastReadSeq;
    r.known = c.lastSeq;
    r.activity = c.lastMessageAt || c.createdAt || '';
  }
  renderConversations();
  for (const p of state.outbox) state.rooms.get(p.conversationId)?.pending.set(p.clientMsgId, p);
  for (const r of state.rooms.values()) join(r);
}

async function refreshConversations() {
  const page = await api('/api/conversations?limit=200').catch(() => null);
  if (!page || !state.me) return;
  const listed = new Set(page.items.map((c) => c.id));
  for (const id of [...state.rooms.keys()]) {
    if (!listed.has(id)) state.rooms.delete(id);
  }
  for (const c of page.items) {
    if (state.rooms.has(c.id)) {
      state.rooms.get(c.id).title = c.title;
    } else {
      const r = room(c.id);
      r.title = c.title;
      r.lastRead = c.myLastReadSeq;
      r.known = c.lastSeq;
      r.activity = c.lastMessageAt || c.createdAt || '';
      join(r);
    }
  }
  renderConversations();
}

function unread(r) {
  return Math.max(0, Math.max(r.known || 0, r.lastSeq) - r.lastRead);
}

function renderConversations() {
  const list = $('conversations');
  list.replaceChildren();
  // Newest activity first, as the API lists them; live messages move a room up.
  const rooms = [...state.rooms.values()].sort((x, y) => (y.activity || '').localeCompare(x.activity || ''));
  for (const r of rooms) {
    const li = document.createElement('li');
    const button = document.createElement('button');
    button.dataset.room = r.id;
    button.setAttribute('aria-current', String(r.id === state.current));
    const title = document.createElement('span');
    title.textContent = r.title;
    button.append(title);
    const count = unread(r);
    if (count > 0 && r.id !== state.current) {
      const badge = document.createElement('span');
      badge.className = 'unread';
      badge.textContent = String(count);
      badge.setAttribute('aria-label', count + ' unread');
      button.append(badge);
    }
    button.onclick = () => openRoom(r.id);
    li.append(button);
    list.append(li);
  }
}

async function openRoom(id) {
  state.current = id;
  const r = room(id);
  $('room').hidden = false;
  $('app').classList.add('in-room');
  $('room-title').textContent = r.title;
  $('messages').replaceChildren();
  if (!r.loaded) {
    try {
      await loadLatest(r);
    } catch (error) {
      if (error.status === 404) {
        state.rooms.delete(id);
        closeRoom();
        renderConversations();
        return;
      }
      throw error;
    }
  }
  for (const m of [...r.messages.values()].sort((a, b) => a.seq - b.seq)) renderMessage(r, m);
  for (const p of r.pending.values()) renderPending(r, p);
  for (const a of r.answers.values()) renderAnswer(r, a);
  renderPresence(r);
  renderTyping(r);
  scrollToEnd();
  markRead(r);
  renderConversations();
  $('text').focus();
}

/** The newest page: what a room shows when it is first opened. */
async function loadLatest(r) {
  const page = await api(`/api/conversations/${r.id}/messages?limit=50`);
  for (const m of page.messages) remember(r, m);
  r.hasMore = page.hasMore;
  if (page.messages.length) r.oldest = Math.min(r.oldest ?? Infinity, page.messages[0].seq);
  r.loaded = true;
}

async function loadOlder(r) {
  const before = r.oldest ? '&before=' + r.oldest : '';
  const page = await api(`/api/conversations/${r.id}/messages?limit=50${before}`);
  for (const m of page.messages) remember(r, m);
  r.hasMore = page.hasMore;
  if (page.messages.length) r.oldest = page.messages[0].seq;
  return page.messages;
}

function remember(r, m) {
  const known = r.messages.get(m.seq);
  r.messages.set(m.seq, m);
  r.lastSeq = Math.max(r.lastSeq, m.seq);
  if (r.oldest === null || m.seq < r.oldest) r.oldest = m.seq;
  return !known;
}

function markRead(r) {
  if (r.id !== state.current || document.hidden || r.lastSeq <= (r.readSent || 0)) return;
  if (send({ type: 'read', conversationId: r.id, seq: r.lastSeq })) {
    r.readSent = r.lastSeq;
    r.lastRead = Math.max(r.lastRead, r.lastSeq);
  }
}

// ---------------------------------------------------------------- rendering

function messageElement(m) {
  let li = document.querySelector(`#messages li[data-seq="${m.seq}"]`);
  if (!li) {
    li = document.createElement('li');
    li.dataset.seq = m.seq;
    insertInOrder(li, m.seq);
  }
  return li;
}

function insertInOrder(li, seq) {
  const list = $('messages');
  for (const other of list.children) {
    if (other.dataset.seq && Number(other.dataset.seq) > seq) {
      list.insertBefore(li, other);
      return;
    }
  }
  const firstPending = list.querySelector('li.pending, li.streaming');
  list.insertBefore(li, firstPending);
}

function renderMessage(r, m) {
  if (r.id !== state.current) return;
  document.querySelector(`#messages li[data-client-msg-id="${CSS.escape(m.clientMsgId || '')}"].pending`)?.remove();
  const li = messageElement(m);
  const mine = m.sender?.id === state.me?.id;
  li.className = 'message' + (mine ? ' mine' : '') + (m.role === 'assistant' ? ' assistant' : '')
    + (m.deleted ? ' deleted' : '');
  li.dataset.id = m.id;
  const who = document.createElement('div');
  who.className = 'who';
  const name = document.createElement('span');
  name.textContent = m.role === 'assistant' ? 'Assistant' : (m.sender?.displayName || 'someone');
  const when = document.createElement('time');
  when.textContent = new Date(m.createdAt).toLocaleTimeString();
  who.append(name, when);
  if (m.editedAt && !m.deleted) who.append(Object.assign(document.createElement('span'), { textContent: 'edited' }));
  const text = document.createElement('div');
  text.className = 'text';
  text.textContent = m.deleted ? 'message deleted' : m.content;
  li.replaceChildren(who, text);
  const meta = m.metadata || {};
  if (m.role === 'assistant') {
    if (meta.sources?.length) {
      li.append(Object.assign(document.createElement('div'), { className: 'sources',
        textContent: 'Sources: ' + meta.sources.map((s) => s.title).join(', ') }));
    }
    if (meta.fallback) note(li, 'fallback', 'Answered from the documents alone: the model was unavailable.');
    if (meta.stopped) note(li, '', 'Stopped.');
  }
  if (mine && !m.deleted && m.role === 'user') {
    const actions = document.createElement('div');
    actions.className = 'actions';
    actions.append(button('Edit', () => editMessage(r, m)), button('Delete', () => deleteMessage(r, m)));
    li.append(actions);
  }
}

function note(li, kind, text) {
  li.append(Object.assign(document.createElement('div'), { className: 'note ' + kind, textContent: text }));
}

function button(label, onclick) {
  return Object.assign(document.createElement('button'), { type: 'button', textContent: label, onclick });
}

function renderPending(r, p) {
  if (r.id !== state.current || document.querySelector(`#messages li[data-client-msg-id="${CSS.escape(p.clientMsgId)}"]`)) return;
  const li = document.createElement('li');
  li.className = 'message mine pending';
  li.dataset.clientMsgId = p.clientMsgId;
  const text = Object.assign(document.createElement('div'), { className: 'text', textContent: p.content });
  li.append(Object.assign(document.createElement('div'), { className: 'who', textContent: 'sending…' }), text);
  $('messages').append(li);
}

function renderAnswer(r, a) {
  if (r.id !== state.current) return;
  const list = $('messages');
  const atEnd = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  let li = document.querySelector(`#messages li[data-request-id="${CSS.escape(a.requestId)}"]`);
  if (!li) {
    li = document.createElement('li');
    li.className = 'message assistant streaming';
    li.dataset.requestId = a.requestId;
    const who = Object.assign(document.createElement('div'), { className: 'who' });
    who.append(Object.assign(document.createElement('span'), { textContent: 'Assistant' }),
      Object.assign(document.createElement('span'), { className: 'step' }));
    li.append(who, Object.assign(document.createElement('div'), { className: 'text' }),
      button('Stop', () => send({ type: 'stop', conversationId: r.id, requestId: a.requestId })));
    list.append(li);
  }
  li.querySelector('.step').textContent = a.error ? '' : a.step || '';
  li.querySelector('.text').textContent = a.text;
  if (a.error && !li.querySelector('.note.failed')) {
    li.querySelector('button')?.remove();
    li.classList.remove('streaming');
    note(li, 'failed', a.error);
    // A failed answer is an ordinary item now: later messages go below it, and it is not drawn again.
    r.answers.delete(a.requestId);
  }
  if (atEnd) scrollToEnd();
}

function renderPresence(r) {
  if (r.id !== state.current) return;
  const names = [...r.presence.values()].map((u) => u.displayName).sort();
  // A crowded room names only some of its users: the count covers the rest.
  const others = Math.max(0, (r.presenceCount ?? names.length) - names.length);
  $('presence').textContent = !names.length && !others ? ''
    : 'Online: ' + names.join(', ') + (others ? `${names.length ? ' and ' : ''}${others} other${others === 1 ? '' : 's'}` : '');
}

function renderTyping(r) {
  if (r.id !== state.current) return;
  const names = [...r.typing.values()].map((t) => t.name);
  $('typing').textContent = names.length === 0 ? '' : names.length === 1 ? `${names[0]} is typing…`
    : `${names.join(', ')} are typing…`;
}

function scrollToEnd() {
  const list = $('messages');
  list.scrollTop = list.scrollHeight;
}

// ---------------------------------------------------------------- the socket

let socket = null;
let attempt = 0;
let reconnectTimer = null;
let stableTimer = null;
const timers = new Set();       // retries and the like, all cleared on logout
const acked = new Set();        // clientMsgIds the server acknowledged

function connect() {
  clearTimeout(reconnectTimer);
  setConnection('connecting', 'connecting…');
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  // The token goes in the first frame, never in the URL.
  const ws = new WebSocket(`${scheme}//${location.host}/ws/chat`);
  socket = ws;
  ws.onopen = () => ws.send(JSON.stringify({ type: 'auth', token: state.token }));
  ws.onmessage = (event) => receive(JSON.parse(event.data));
  ws.onclose = (event) => {
    trace('closed', { type: 'close', code: event.code });
    if (socket !== ws) return;
    socket = null;
    for (const r of state.rooms.values()) r.joined = false;
    clearTimeout(stableTimer);
    if (event.code === 1009) {
      // Too big for the server: whatever in the outbox is that large can never be sent.
      state.outbox = state.outbox.filter((p) => new TextEncoder().encode(p.content).length <= MAX_MESSAGE_BYTES);
      saveOutbox();
    }
    if (!state.token) return;
    if (event.code === 1008 || event.code === 4001) {
      logout(event.code === 4001 ? 'Your session expired: log in again.' : 'Please log in.');
      return;
    }
    // Exponential backoff with full jitter: many clients of a failed node do not all come back at once.
    const delay = Math.min(15000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2);
    attempt++;
    setConnection('offline', `offline, retrying in ${Math.round(delay / 1000)} s`);
    reconnectTimer = setTimeout(connect, delay);
  };
}

function setConnection(kind, text) {
  const el = $('connection');
  el.className = 'connection ' + kind;
  el.textContent = text;
  el.title = state.node ? 'node ' + state.node : text;
  el.dataset.node = kind === 'online' ? state.node || '' : '';
}

function send(frame) {
  if (socket && socket.readyState === WebSocket.OPEN) {
    socket.send(JSON.stringify(frame));
    if (frame.type !== 'auth') trace('sent', frame);
    return true;
  }
  return false;
}

/** Joins a room; one the client has messages of resumes after the last one, so nothing is missed or doubled. */
function join(r) {
  const frame = { type: 'join', conversationId: r.id };
  if (r.loaded || r.messages.size > 0) frame.lastSeq = r.lastSeq;
  if (!r.joined && send(frame)) r.joined = true;
}

function flushOutbox() {
  for (const p of state.outbox) send({ type: 'message', conversationId: p.conversationId, content: p.content,
    clientMsgId: p.clientMsgId });
}

function saveOutbox() {
  sessionStorage.setItem(OUTBOX_KEY, JSON.stringify(state.outbox));
}

function receive(frame) {
  trace('received', frame);
  // Only rooms this client knows: a frame about any other (a room one was removed from) creates nothing.
  const r = frame.conversationId ? state.rooms.get(frame.conversationId) : null;
  if (frame.conversationId && !r && frame.type !== 'error') return;
  switch (frame.type) {
    case 'connection':
      clearTimeout(stableTimer);
      stableTimer = setTimeout(() => { attempt = 0; }, STABLE_MS);
      state.node = frame.node;
      setConnection('online', 'connected');
      for (const each of state.rooms.values()) join(each);
      flushOutbox();
      if (state.current) {
        const open = state.rooms.get(state.current);
        if (open) open.readSent = 0;
        if (open) markRead(open);
      }
      break;
    case 'joined':
      r.known = frame.lastSeq;
      for (const a of r.answers.values()) {
        // The server sends the text so far of answers still being written; the others ended meanwhile.
        if (!a.error) r.answers.delete(a.requestId);
      }
      document.querySelectorAll(`#messages li.streaming`).forEach((li) => {
        if (!r.answers.has(li.dataset.requestId)) li.remove();
      });
      r.presence = new Map(frame.presence.map((u) => [u.id, u]));
      r.presenceCount = frame.presenceCount ?? frame.presence.length;
      renderPresence(r);
      renderConversations();
      break;
    case 'message': {
      const fresh = remember(r, frame);
      r.activity = frame.createdAt > r.activity ? frame.createdAt : r.activity;
      const confirmed = state.outbox.findIndex((p) => p.clientMsgId === frame.clientMsgId && frame.sender?.id === state.me.id);
      if (confirmed >= 0) {
        state.outbox.splice(confirmed, 1);
        saveOutbox();
      }
      r.pending.delete(frame.clientMsgId);
      if (frame.role === 'assistant' && frame.metadata?.requestId) {
        r.answers.delete(frame.metadata.requestId);
        document.querySelector(`#messages li[data-request-id="${CSS.escape(frame.metadata.requestId)}"]`)?.remove();
      }
      if (fresh || r.id === state.current) renderMessage(r, frame);
      if (r.id === state.current) {
        scrollToEnd();
        markRead(r);
      }
      renderConversations();
      break;
    }
    case 'ack': {
      const index = state.outbox.findIndex((p) => p.clientMsgId === frame.clientMsgId);
      const sent = index >= 0 ? state.outbox[index] : r.pending.get(frame.clientMsgId);
      if (index >= 0) {
        state.outbox.splice(index, 1);
        saveOutbox();
      }
      r.pending.delete(frame.clientMsgId);
      acked.add(frame.clientMsgId);
      // Stored: shown as stored now, whether or not its message event reaches this socket.
      if (sent && !r.messages.has(frame.seq)) {
        const message = { type: 'message', conversationId: r.id, id: frame.id, seq: frame.seq, role: 'user',
          sender: { id: state.me.id, displayName: state.me.displayName }, content: sent.content, metadata: {},
          clientMsgId: frame.clientMsgId, createdAt: frame.createdAt, editedAt: null, deleted: false };
        remember(r, message);
        renderMessage(r, message);
      }
      break;
    }
    case 'edited':
    case 'deleted':
      // Only a message this client holds changes; an edit of an older one waits for its page to load.
      if (r.messages.has(frame.seq)) {
        r.messages.set(frame.seq, frame);
        renderMessage(r, frame);
      }
      break;
    case 'typing':
      if (frame.user.id === state.me.id) break;
      clearTimeout(r.typing.get(frame.user.id)?.timer);
      if (frame.typing) {
        r.typing.set(frame.user.id, { name: frame.user.displayName,
          timer: setTimeout(() => { r.typing.delete(frame.user.id); renderTyping(r); }, frame.expiresInMs || 5000) });
      } else {
        r.typing.delete(frame.user.id);
      }
      renderTyping(r);
      break;
    case 'presence':
      if (frame.state === 'online') r.presence.set(frame.user.id, frame.user);
      else r.presence.delete(frame.user.id);
      r.presenceCount = r.presence.size;
      renderPresence(r);
      break;
    case 'occupancy':
      // Sent instead of presence while the room has too many users online to name: the count, and the whole
      // list again once it is short enough.
      if (frame.users) r.presence = new Map(frame.users.map((u) => [u.id, u]));
      r.presenceCount = frame.count;
      renderPresence(r);
      break;
    case 'read':
      if (frame.user.id === state.me.id) r.lastRead = Math.max(r.lastRead, frame.seq);
      renderConversations();
      break;
    case 'status':
    case 'chunk': {
      const a = r.answers.get(frame.requestId) || { requestId: frame.requestId, text: '' };
      if (frame.type === 'status') a.step = frame.message;
      else if (frame.offset === a.text.length) a.text += frame.content;
      else if (frame.offset === 0) a.text = frame.content;
      if (frame.type === 'chunk') state.chunks++;
      r.answers.set(frame.requestId, a);
      renderAnswer(r, a);
      break;
    }
    case 'complete':
      r.answers.delete(frame.requestId);
      document.querySelector(`#messages li[data-request-id="${CSS.escape(frame.requestId)}"]`)?.remove();
      remember(r, frame.message);
      renderMessage(r, frame.message);
      break;
    case 'error':
      if (frame.requestId && r) {
        const a = r.answers.get(frame.requestId) || { requestId: frame.requestId, text: '' };
        a.error = 'The assistant could not answer: ' + frame.message;
        r.answers.set(frame.requestId, a);
        renderAnswer(r, a);
      } else if (frame.clientMsgId && acked.has(frame.clientMsgId) && r) {
        const a = { requestId: 'refused-' + frame.clientMsgId, text: '', error: 'The assistant will not answer: '
          + frame.message };
        r.answers.set(a.requestId, a);
        renderAnswer(r, a);
      } else if (frame.clientMsgId) {
        failPending(frame);
      } else if (frame.conversationId && frame.code === 'NOT_FOUND') {
        state.rooms.delete(frame.conversationId);
        if (state.current === frame.conversationId) closeRoom();
        renderConversations();
      } else {
        console.warn('parley:', frame.code, frame.message);
      }
      break;
    case 'resumed':
      if (frame.truncated) fillGap(r, frame.toSeq, r.known);
      break;
    case 'left':
      state.rooms.delete(frame.conversationId);
      if (state.current === frame.conversationId) closeRoom();
      renderConversations();
      break;
    case 'conversation':
      if (frame.change === 'deleted') state.rooms.delete(frame.conversationId);
      break;
    default:
      break;
  }
}

function failPending(frame) {
  const index = state.outbox.findIndex((p) => p.clientMsgId === frame.clientMsgId);
  const retryable = frame.code === 'RATE_LIMIT' || frame.code === 'UNAVAILABLE';
  if (index >= 0 && !retryable) {
    state.outbox.splice(index, 1);
    saveOutbox();
    state.rooms.get(frame.conversationId)?.pending.delete(frame.clientMsgId);
  }
  const li = document.querySelector(`#messages li[data-client-msg-id="${CSS.escape(frame.clientMsgId)}"]`);
  if (li) {
    li.querySelector('.who').textContent = retryable ? `not sent yet: ${frame.message}` : `not sent: ${frame.message}`;
  }
  if (retryable && index >= 0) {
    const entry = state.outbox[index];
    clearTimeout(entry.retry);
    entry.retry = setTimeout(() => send({ type: 'message', conversationId: entry.conversationId,
      content: entry.content, clientMsgId: entry.clientMsgId }), frame.retryAfterMs || 2000);
    timers.add(entry.retry);
  }
}

/** A resume cut short: the messages between what was replayed and where the room was, over REST. */
async function fillGap(r, from, to) {
  let after = from;
  while (after < to) {
    const page = await api(`/api/conversations/${r.id}/messages?after=${after}&limit=200`).catch(() => null);
    if (!page || page.messages.length === 0) return;
    for (const m of page.messages) {
      if (remember(r, m)) renderMessage(r, m);
    }
    after = page.messages[page.messages.length - 1].seq;
  }
}

// ---------------------------------------------------------------- actions

function newClientMsgId() {
  return crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2);
}

function sendMessage() {
  const input = $('text');
  const content = input.value;
  if (!content.trim() || !state.current) return;
  input.value = '';
  const r = room(state.current);
  if (new TextEncoder().encode(content).length > MAX_MESSAGE_BYTES) {
    alert(`A message may be at most ${MAX_MESSAGE_BYTES} bytes.`);
    input.value = content;
    return;
  }
  const pending = { clientMsgId: newClientMsgId(), conversationId: r.id, content, userId: state.me.id };
  r.pending.set(pending.clientMsgId, pending);
  state.outbox.push(pending);
  saveOutbox();
  renderPending(r, pending);
  scrollToEnd();
  stopTyping();
  send({ type: 'message', conversationId: r.id, content, clientMsgId: pending.clientMsgId });
}

let typingSent = 0;
let typingIdle = null;
function typing() {
  if (!state.current) return;
  const now = Date.now();
  if (now - typingSent > 2000) {
    typingSent = now;
    send({ type: 'typing', conversationId: state.current, typing: true });
  }
  clearTimeout(typingIdle);
  typingIdle = setTimeout(stopTyping, 3000);
}

function stopTyping() {
  clearTimeout(typingIdle);
  if (typingSent && state.current) send({ type: 'typing', conversationId: state.current, typing: false });
  typingSent = 0;
}

async function editMessage(r, m) {
  const content = prompt('Edit your message', m.content);
  if (content === null || !content.trim()) return;
  await api(`/api/conversations/${r.id}/messages/${m.id}`, { method: 'PATCH', body: { content } }).catch(alert);
}

async function deleteMessage(r, m) {
  if (!confirm('Delete this message?')) return;
  await api(`/api/conversations/${r.id}/messages/${m.id}`, { method: 'DELETE' }).catch(alert);
}

async function createRoom(withAssistant) {
  if (withAssistant) {
    const conversation = await api('/api/conversations', { method: 'POST', body: { title: 'Assistant', assistantMode: 'always' } });
    return addRoom(conversation);
  }
  const title = prompt('Name of the room', 'New room');
  if (title === null) return;
  addRoom(await api('/api/conversations', { method: 'POST', body: { title } }));
}

function addRoom(conversation) {
  const r = room(conversation.id);
  r.title = conversation.title;
  r.hasMore = false;
  r.loaded = true;
  r.activity = conversation.createdAt || new Date().toISOString();
  join(r);
  renderConversations();
  openRoom(r.id);
}

function closeRoom() {
  state.current = null;
  $('room').hidden = true;
  $('app').classList.remove('in-room');
}

// ---------------------------------------------------------------- sign in and out

async function signIn(action) {
  const email = $('email').value;
  const password = $('password').value;
  const displayName = $('display-name').value || undefined;
  try {
    const session = await api('/api/auth/' + action, { method: 'POST', body: { email, password, displayName } });
    state.token = session.token;
    sessionStorage.setItem(TOKEN_KEY, session.token);
    await start();
  } catch (error) {
    $('login-error').textContent = error.message;
  }
}

function logout(reason) {
  state.token = null;
  state.me = null;
  sessionStorage.removeItem(TOKEN_KEY);
  clearTimeout(reconnectTimer);
  clearTimeout(stableTimer);
  timers.forEach(clearTimeout);
  timers.clear();
  stopTyping();
  if (reason === '') {
    // Signing out on purpose: what was not sent is not sent later under someone else's name.
    state.outbox = [];
    saveOutbox();
  }
  const ws = socket;
  socket = null;
  ws?.close();
  state.rooms.clear();
  closeRoom();
  $('app').hidden = true;
  $('logout').hidden = true;
  $('me').textContent = '';
  $('login').hidden = false;
  $('login-error').textContent = reason || '';
  setConnection('offline', 'offline');
}

async function start() {
  try {
    state.me = await api('/api/auth/me');
  } catch (error) {
    logout(error.status === 401 ? '' : error.message);
    return;
  }
  $('login').hidden = true;
  $('app').hidden = false;
  $('logout').hidden = false;
  $('me').textContent = state.me.displayName;
  state.outbox = state.outbox.filter((p) => p.userId === state.me.id);
  saveOutbox();
  connect();
  await loadConversations();
  const first = state.rooms.keys().next();
  if (!first.done && window.matchMedia('(min-width: 701px)').matches) openRoom(first.value);
}

// ---------------------------------------------------------------- wiring

$('login-form').addEventListener('submit', (event) => {
  event.preventDefault();
  signIn(event.submitter?.value === 'register' ? 'register' : 'login');
});
$('logout').onclick = () => logout('');
$('composer').addEventListener('submit', (event) => { event.preventDefault(); sendMessage(); });
$('text').addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    sendMessage();
  }
});
$('text').addEventListener('input', typing);
$('new-room').onclick = () => createRoom(false).catch((e) => alert(e.message));
$('new-assistant').onclick = () => createRoom(true).catch((e) => alert(e.message));
$('back').onclick = closeRoom;
$('leave').onclick = async () => {
  if (!state.current || !confirm('Leave this conversation?')) return;
  const id = state.current;
  await api(`/api/conversations/${id}/members/me`, { method: 'DELETE' }).catch((e) => alert(e.message));
};
$('invite-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const email = $('invite-email').value;
  if (!email || !state.current) return;
  try {
    await api(`/api/conversations/${state.current}/members`, { method: 'POST', body: { email } });
    $('invite-email').value = '';
  } catch (error) {
    alert(error.message);
  }
});
$('messages').addEventListener('scroll', async () => {
  const r = state.current && room(state.current);
  if (!r || !r.hasMore || $('messages').scrollTop > 40 || r.loading) return;
  r.loading = true;
  const list = $('messages');
  const height = list.scrollHeight;
  const older = await loadOlder(r).finally(() => { r.loading = false; });
  for (const m of older) renderMessage(r, m);
  list.scrollTop = list.scrollHeight - height;
});
$('upload-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const file = $('upload-file').files[0];
  if (!file) return;
  const form = new FormData();
  form.append('file', file);
  if (state.current) form.append('conversationId', state.current);
  $('upload-status').textContent = 'uploading…';
  try {
    const document_ = await api('/api/documents', { method: 'POST', form });
    $('upload-status').textContent = `${document_.title}: ${document_.chunks} passages`;
  } catch (error) {
    $('upload-status').textContent = error.message;
  }
});
document.addEventListener('visibilitychange', () => state.current && markRead(room(state.current)));
// Rooms one was added to elsewhere show up without a reload.
setInterval(() => { if (state.me) refreshConversations(); }, 20000);
window.addEventListener('focus', () => { if (state.me) refreshConversations(); });

if (state.token) start(); else logout('');
