// chat client for browsers: a plain ES module, served by every node at /client.js.
//
//   import { ChatClient } from '/client.js';
//   const chat = new ChatClient({ user: 'alice' });          // or { token: '<jwt>' }
//   chat.on('message', (m) => console.log(m.from, m.body));
//   chat.join('lobby');
//   await chat.send('lobby', { text: 'hi' });                 // resolves with the ack
//
// Transports, in order: WebSocket, then Server-Sent Events + POST /rpc, then
// long-polling + POST /rpc. Reconnects with capped exponential backoff and full
// jitter, resumes every joined room from the last seq it has, and resends
// unacknowledged sends with their original id (the server deduplicates them).
// See docs/client.md.

const TRANSPORTS = ['ws', 'sse', 'poll'];
// Commands that are retried with the same id after these errors.
const RETRYABLE = new Set(['rate_limited', 'overloaded', 'unavailable']);

function randomId() {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

export class ChatClient {
  /**
   * @param {object} o
   * @param {string|string[]} [o.url] node base URL (default: the page's origin), or a
   *                                list of them: the client moves to the next one after
   *                                `o.switchAfter` failed rounds on the current one
   * @param {number} [o.switchAfter] failed rounds (every transport tried) before the
   *                                next URL (default 2)
   * @param {string} [o.user]       dev-mode user name (?user=)
   * @param {string} [o.token]      JWT (preferred outside --dev)
   * @param {string[]} [o.transports] subset/order of 'ws', 'sse', 'poll'
   * @param {number} [o.backoffMs]  first reconnect delay cap (default 500)
   * @param {number} [o.maxBackoffMs] largest reconnect delay (default 15000)
   * @param {number} [o.heartbeatMs] application ping interval (default 15000)
   */
  constructor(o = {}) {
    const urls = Array.isArray(o.url) ? o.url : [o.url ?? globalThis.location?.origin ?? ''];
    if (!urls.length) throw new Error('ChatClient: url must not be an empty list');
    this.urls = urls.map((u) => String(u).replace(/\/$/, ''));
    this.urlIndex = 0;
    this.url = this.urls[0];
    this.switchAfter = o.switchAfter ?? 2;
    if (!Number.isInteger(this.switchAfter) || this.switchAfter < 1)
      throw new Error('ChatClient: switchAfter must be a whole number of rounds, at least 1');
    this.urlFailures = 0; // failed rounds on this.url since it last opened
    this.user = o.user;
    this.token = o.token;
    this.transports = (o.transports ?? TRANSPORTS).filter((t) => TRANSPORTS.includes(t));
    this.backoffMs = o.backoffMs ?? 500;
    this.maxBackoffMs = o.maxBackoffMs ?? 15000;
    this.heartbeatMs = o.heartbeatMs ?? 15000;
    this.state = 'idle';
    this.transport = null;
    this.rooms = new Map(); // room -> { seq: last seq held, or undefined before `joined` }
    this.unacked = new Map(); // send id -> { frame, resolve, reject }
    this.watching = null; // user list of the last watch()
    this.handlers = new Map();
    this.attempt = 0;
    this.link = null;
    this.closedByUser = false;
    this.refs = 0;
  }

  // -- event API --------------------------------------------------------------

  /** Listens to a server event type ('message', 'member', 'members', 'typing', 'read',
   *  'presence', 'presence_state', 'joined', 'signal', 'resync', 'trimmed', 'error') or
   *  'state' ({state, transport}). */
  on(type, fn) {
    if (!this.handlers.has(type)) this.handlers.set(type, new Set());
    this.handlers.get(type).add(fn);
    return () => this.handlers.get(type).delete(fn);
  }

  emit(type, value) {
    for (const fn of this.handlers.get(type) ?? []) {
      try {
        fn(value);
      } catch (e) {
        console.error(e);
      }
    }
  }

  // -- commands ---------------------------------------------------------------

  /** Joins `room` (now and after every reconnect). `since` replays what follows it. */
  join(room, { since } = {}) {
    const r = this.rooms.get(room) ?? { seq: undefined };
    if (since !== undefined) r.seq = since;
    this.rooms.set(room, r);
    this.connect();
    if (this.state === 'open') this.link.joinRoom(room, r.seq).catch(() => {});
  }

  leave(room) {
    this.rooms.delete(room);
    if (this.state === 'open') return this.request({ type: 'leave', room });
    return Promise.resolve({ type: 'ok' });
  }

  /** Posts a message; resolves with its `ack` once it is stored. Survives
   *  reconnects: an unacked send is resent with the same id. */
  send(room, body, id = randomId()) {
    return new Promise((resolve, reject) => {
      const frame = { type: 'send', room, id, body };
      this.unacked.set(id, { frame, resolve, reject });
      if (this.state === 'open') this.transmit(id);
    });
  }

  /** Tells the room this user is typing (sent at most once a second per room). */
  typing(room) {
    const now = Date.now();
    this.lastTyping ??= new Map();
    if (this.state !== 'open' || now - (this.lastTyping.get(room) ?? 0) < 1000) return;
    this.lastTyping.set(room, now);
    this.request({ type: 'typing', room }).catch(() => {});
  }

  read(room, seq) {
    if (this.state === 'open') return this.request({ type: 'read', room, seq });
    return Promise.resolve(null);
  }

  /** Watches these users' presence (replaces the list, also after reconnects). */
  watch(users) {
    this.watching = [...users];
    if (this.state === 'open') return this.rewatch();
    return Promise.resolve(null);
  }

  // presence_state is emitted whichever transport answered.
  rewatch() {
    return this.request({ type: 'presence', users: this.watching }).then((r) => {
      if (r.type === 'presence_state') this.emit('presence_state', r);
      return r;
    });
  }

  history(room, { before, after, limit } = {}) {
    const frame = { type: 'history', room };
    if (before !== undefined) frame.before = before;
    if (after !== undefined) frame.after = after;
    if (limit !== undefined) frame.limit = limit;
    return this.request(frame);
  }

  signal(room, to, data) {
    return this.request({ type: 'signal', room, to, data });
  }

  /** Sends one command and resolves its reply frame. */
  request(frame) {
    if (this.state !== 'open') return Promise.reject(new Error('not connected'));
    return this.link.request({ ...frame, ref: `c${++this.refs}` });
  }

  close() {
    this.closedByUser = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.heartbeat); // the link's onclose no longer sees it as current
    this.link?.close();
    this.link = null;
    this.setState('closed');
  }

  // -- connection management ----------------------------------------------------

  connect() {
    if (this.state !== 'idle') return;
    this.closedByUser = false;
    this.open(0);
  }

  setState(state) {
    this.state = state;
    this.emit('state', { state, transport: this.transport, url: this.url });
  }

  query(extra = {}) {
    const q = new URLSearchParams();
    if (this.token) q.set('token', this.token);
    else if (this.user) q.set('user', this.user);
    for (const [k, v] of Object.entries(extra)) q.set(k, v);
    return q.toString();
  }

  roomsQuery() {
    const rooms = [...this.rooms.keys()];
    const since = rooms.filter((r) => this.rooms.get(r).seq !== undefined).map((r) => `${r}:${this.rooms.get(r).seq}`);
    const q = {};
    if (rooms.length) q.rooms = rooms.join(',');
    if (since.length) q.since = since.join(',');
    return q;
  }

  // Tries the transports in order; the first that opens wins. When none does,
  // waits a capped exponential backoff with full jitter and starts over.
  async open(index) {
    if (this.closedByUser) return;
    if (index >= this.transports.length) return this.retry(true);
    const kind = this.transports[index];
    this.transport = kind;
    this.setState('connecting');
    const Link = { ws: WsLink, sse: SseLink, poll: PollLink }[kind];
    const link = new Link(this);
    this.link = link;
    let opened = false;
    link.onclose = () => {
      if (this.link !== link) return;
      this.link = null;
      clearInterval(this.heartbeat);
      if (!opened) return this.open(index + 1);
      if (!this.closedByUser) this.retry();
    };
    try {
      await link.open();
    } catch {
      if (this.link === link) {
        link.close();
        this.link = null;
        this.open(index + 1);
      }
      return;
    }
    if (this.link !== link) return;
    opened = true;
    this.attempt = 0;
    this.urlFailures = 0;
    this.setState('open');
    this.heartbeat = setInterval(() => link.ping(), this.heartbeatMs);
    if (this.watching) this.rewatch().catch(() => {});
    for (const id of this.unacked.keys()) this.transmit(id);
  }

  // After a round in which no transport opened (`failed`), a client with more
  // than one URL counts it against the current one and, after `switchAfter`
  // such rounds, goes on with the next (the backoff keeps growing meanwhile).
  retry(failed = false) {
    if (failed && this.urls.length > 1 && ++this.urlFailures >= this.switchAfter) {
      this.urlIndex = (this.urlIndex + 1) % this.urls.length;
      this.url = this.urls[this.urlIndex];
      this.urlFailures = 0;
    }
    this.setState('reconnecting');
    const cap = Math.min(this.maxBackoffMs, this.backoffMs * 2 ** this.attempt++);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.open(0), Math.random() * cap);
  }

  transmit(id) {
    const pending = this.unacked.get(id);
    if (!pending || this.state !== 'open') return;
    const link = this.link;
    link.request({ ...pending.frame, ref: `c${++this.refs}` }).then(
      (reply) => {
        if (reply.type === 'ack') {
          this.unacked.delete(id);
          return pending.resolve(reply);
        }
        if (reply.type === 'error' && RETRYABLE.has(reply.code)) {
          return setTimeout(() => this.transmit(id), reply.retry_after_ms ?? 1000);
        }
        this.unacked.delete(id);
        pending.reject(Object.assign(new Error(reply.message ?? 'send failed'), { reply }));
      },
      () => {}, // disconnected: resent after the reconnect
    );
  }

  // Every server frame passes here, whatever the transport.
  deliver(f) {
    const r = this.rooms.get(f.room);
    switch (f.type) {
      case 'message':
        if (!r) return;
        if (r.seq !== undefined && f.seq <= r.seq) return; // already held: exactly once
        r.seq = f.seq;
        break;
      case 'joined':
        if (r && r.seq === undefined) r.seq = f.seq;
        else if (r && f.seq < r.seq) {
          // The room's log ends before what this client holds (the messages after
          // f.seq were lost by a failover without a copy, --replication 1): they
          // are no longer in the room, and the next ones reuse their seqs.
          r.seq = f.seq;
          this.emit('joined', f);
          this.emit('resync', { type: 'resync', room: f.room, from_seq: f.seq + 1, rewound: true });
          return;
        }
        break;
      case 'resync':
        if (r) {
          r.seq = f.from_seq - 1;
          this.emit('resync', f);
          this.history(f.room, { after: f.from_seq - 1, limit: 200 })
            .then((h) => h.messages?.forEach((m) => this.deliver(m)))
            .catch(() => {});
        }
        return;
      case 'session':
      case 'pong':
        return;
      default:
    }
    this.emit(f.type, f);
  }
}

// -- transports --------------------------------------------------------------
// Each link: open() resolves once commands can flow; request(frame) resolves
// the reply; ping(); close(); calls client.deliver(frame) for events and
// onclose() once when it ends.

class WsLink {
  constructor(client) {
    this.client = client;
    this.pending = new Map(); // ref -> resolve
    this.lastPong = Date.now();
  }

  open() {
    const c = this.client;
    const base = c.url.replace(/^http/, 'ws');
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${base}/ws?${c.query()}`);
      this.ws = ws;
      ws.onopen = () => {
        for (const [room, r] of c.rooms) this.joinRoom(room, r.seq).catch(() => {});
        resolve();
      };
      ws.onmessage = (e) => {
        let f;
        try {
          f = JSON.parse(e.data);
        } catch {
          return;
        }
        if (f.type === 'pong') this.lastPong = Date.now();
        const waiting = f.ref !== undefined && this.pending.get(f.ref);
        if (waiting) {
          this.pending.delete(f.ref);
          waiting(f);
        }
        if (f.type !== 'ack' && !(waiting && f.type !== 'joined')) c.deliver(f);
      };
      ws.onerror = () => reject(new Error('websocket failed'));
      ws.onclose = () => {
        reject(new Error('websocket closed'));
        this.pending.clear();
        this.onclose?.();
      };
    });
  }

  joinRoom(room, seq) {
    return this.request({ type: 'join', room, ...(seq !== undefined ? { since: seq } : {}), ref: `j${++this.client.refs}` });
  }

  request(frame) {
    return new Promise((resolve, reject) => {
      if (this.ws.readyState !== 1) return reject(new Error('not connected'));
      this.pending.set(frame.ref, resolve);
      this.ws.send(JSON.stringify(frame));
    });
  }

  ping() {
    // Two heartbeats without a pong: the connection is dead even if the socket is not closed.
    if (Date.now() - this.lastPong > 2.5 * this.client.heartbeatMs) return this.ws.close();
    this.request({ type: 'ping', ref: `p${++this.client.refs}` }).catch(() => {});
  }

  close() {
    this.ws?.close();
  }
}

// SSE and long-poll share POST /rpc for commands.
class RpcLink {
  constructor(client) {
    this.client = client;
    this.session = null;
    this.closed = false;
  }

  async request(frame) {
    if (!this.session || this.closed) throw new Error('not connected');
    const c = this.client;
    let res;
    try {
      res = await fetch(`${c.url}/rpc?${c.query({ session: this.session })}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(frame),
      });
    } catch (e) {
      this.fail();
      throw e;
    }
    if (res.status === 404) {
      this.fail(); // the stream is gone: reconnect
      throw new Error('stream closed');
    }
    return res.json();
  }

  joinRoom(room, seq) {
    return this.request({ type: 'join', room, ...(seq !== undefined ? { since: seq } : {}), ref: `j${++this.client.refs}` });
  }

  ping() {
    this.request({ type: 'ping' }).catch(() => {});
  }

  fail() {
    if (this.closed) return;
    this.close();
    this.onclose?.();
  }
}

class SseLink extends RpcLink {
  open() {
    const c = this.client;
    return new Promise((resolve, reject) => {
      const es = new EventSource(`${c.url}/sse?${c.query(c.roomsQuery())}`);
      this.es = es;
      const handle = (e) => {
        if (e.data === undefined) return;
        let f;
        try {
          f = JSON.parse(e.data);
        } catch {
          return;
        }
        if (f.type === 'session') {
          this.session = f.session;
          resolve();
        }
        c.deliver(f);
      };
      for (const t of ['session', 'joined', 'message', 'member', 'members', 'typing', 'read', 'presence', 'signal', 'resync', 'error'])
        es.addEventListener(t, handle);
      // Our own reconnect (with fresh `since`) replaces EventSource's.
      es.onerror = () => {
        reject(new Error('sse failed'));
        this.fail();
      };
    });
  }

  close() {
    this.closed = true;
    this.es?.close();
  }
}

class PollLink extends RpcLink {
  async open() {
    const c = this.client;
    const first = await this.poll(c.query({ ...c.roomsQuery(), timeout: 0 }));
    this.loop();
    return first;
  }

  async poll(query) {
    const c = this.client;
    this.abort = new AbortController();
    const res = await fetch(`${c.url}/poll?${query}`, { signal: this.abort.signal });
    const body = await res.json();
    if (res.status !== 200) throw new Error(body.message ?? `poll failed (${res.status})`);
    this.session = body.session;
    this.cursor = body.cursor;
    for (const f of body.events) c.deliver(f);
  }

  async loop() {
    const c = this.client;
    while (!this.closed) {
      try {
        await this.poll(c.query({ cursor: this.cursor, timeout: 25 }));
      } catch {
        return this.fail(); // a stale cursor or the node is gone: reconnect with since
      }
    }
  }

  close() {
    this.closed = true;
    this.abort?.abort();
  }
}
