// SSE (npm eventsource), long-poll and POST /rpc against a real node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventSource } from 'eventsource';
import { startNode, Client, getJson } from './lib.mjs';
import { until } from './raw.mjs';
import { sign, inOneHour } from './jwt.mjs';

const SECRET = 'a-test-secret-that-is-long-enough-0123456789';
const rpc = (node, session, user, frame, headers = {}) =>
  getJson(`${node.http}/rpc?session=${session}&user=${user}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof frame === 'string' ? frame : JSON.stringify(frame),
  });

/** An EventSource that records every event (type, id, data) in order. */
function openSse(url, { lastEventId } = {}) {
  const events = [];
  const es = new EventSource(url, {
    fetch: (input, init) =>
      fetch(input, { ...init, headers: { ...init.headers, ...(lastEventId ? { 'Last-Event-ID': lastEventId } : {}) } }),
  });
  // `error` is both an event type of the stream and EventSource's own
  // connection-error event (which has no data).
  for (const type of ['session', 'joined', 'message', 'member', 'typing', 'read', 'presence', 'error'])
    es.addEventListener(type, (e) => {
      if (e.data === undefined) events.push({ type: 'connection-error' });
      else events.push({ type, id: e.lastEventId, data: JSON.parse(e.data) });
    });
  return { es, events, of: (type) => events.filter((e) => e.type === type) };
}

async function sendAll(client, room, from, to) {
  for (let i = from; i <= to; ++i) {
    const ack = await client.request({ type: 'send', room, id: `m${i}`, body: { i } });
    assert.equal(ack.type, 'ack');
  }
}

test('SSE: events with room:seq ids; resume with Last-Event-ID gets exactly the missed ones', async () => {
  const node = await startNode({ args: ['--rate-limit', 'off'] });
  try {
    const alice = await Client.connect(node.ws('alice'));
    await alice.join('r');
    const a = openSse(`${node.http}/sse?user=bob&rooms=r&since=r:0`);
    await until(() => a.of('joined').length === 1);
    await sendAll(alice, 'r', 1, 5);
    await until(() => a.of('message').length === 5);
    assert.deepEqual(a.of('message').map((e) => e.id), ['r:1', 'r:2', 'r:3', 'r:4', 'r:5']);
    assert.deepEqual(a.of('message').map((e) => e.data.body.i), [1, 2, 3, 4, 5]);
    assert.equal(a.of('session').length, 1);
    assert.match(a.of('session')[0].data.session, /^[0-9a-f]{32}$/);
    const lastId = a.of('message').at(-1).id;
    a.es.close();

    await sendAll(alice, 'r', 6, 9);
    // The same URL (since=r:0), as a browser reconnects, plus Last-Event-ID: the header wins.
    const b = openSse(`${node.http}/sse?user=bob&rooms=r&since=r:0`, { lastEventId: lastId });
    await until(() => b.of('message').length === 4);
    await sendAll(alice, 'r', 10, 10);
    await until(() => b.of('message').length === 5);
    assert.deepEqual(b.of('message').map((e) => e.data.seq), [6, 7, 8, 9, 10]);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(b.of('message').length, 5, 'nothing repeated');
    b.es.close();
    alice.close();
  } finally {
    await node.stop();
    node.cleanup();
  }
});

test('SSE: several rooms resume together; ids carry every room position; pings', async () => {
  const node = await startNode({ args: ['--rate-limit', 'off', '--heartbeat-ms', '300'] });
  try {
    const alice = await Client.connect(node.ws('alice'));
    await alice.join('x');
    await alice.join('y');
    const a = openSse(`${node.http}/sse?user=bob&rooms=x,y`);
    await until(() => a.of('joined').length === 2);
    await sendAll(alice, 'x', 1, 2);
    await alice.request({ type: 'send', room: 'y', id: 'y1', body: 'y1' });
    await until(() => a.of('message').length === 3);
    const last = a.of('message').at(-1);
    assert.equal(last.id, 'y:1,x:2');
    a.es.close();
    await alice.request({ type: 'send', room: 'x', id: 'x3', body: 'x3' });
    await alice.request({ type: 'send', room: 'y', id: 'y2', body: 'y2' });
    const b = openSse(`${node.http}/sse?user=bob&rooms=x,y`, { lastEventId: last.id });
    await until(() => b.of('message').length === 2);
    assert.deepEqual(b.of('message').map((e) => `${e.data.room}:${e.data.seq}`).sort(), ['x:3', 'y:2']);
    b.es.close();

    // `: ping` comments every heartbeat, on the raw stream.
    const ctl = new AbortController();
    const res = await fetch(`${node.http}/sse?user=carol&rooms=x`, { signal: ctl.signal });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/event-stream/);
    const reader = res.body.getReader();
    let text = '';
    const deadline = Date.now() + 5000;
    while (!text.includes(': ping\n\n') && Date.now() < deadline) text += new TextDecoder().decode((await reader.read()).value);
    assert.ok(text.includes(': ping\n\n'), text);
    ctl.abort();
    alice.close();
  } finally {
    await node.stop();
    node.cleanup();
  }
});

test('long-poll: rounds with sends in between lose and repeat nothing; cursors are checked', async () => {
  const node = await startNode({ args: ['--rate-limit', 'off'] });
  try {
    const alice = await Client.connect(node.ws('alice'));
    await alice.join('p');
    await sendAll(alice, 'p', 1, 3);
    const poll = (q) => getJson(`${node.http}/poll?user=bob&${q}`);
    let r = await poll('rooms=p&since=p:1&timeout=5');
    assert.equal(r.status, 200);
    assert.match(r.body.session, /^[0-9a-f]{32}$/);
    const seen = [];
    const collect = (body) => {
      for (const e of body.events) if (e.type === 'message') seen.push(e.seq);
    };
    collect(r.body);
    let cursor = r.body.cursor;
    let round = 0;
    for (let next = 4; round < 40 && (seen.length < 12 || next <= 13); ++round) {
      if (next <= 13 && round % 2 === 0) await sendAll(alice, 'p', next, Math.min(next + 1, 13)), (next += 2);
      const again = await poll(`cursor=${cursor}&timeout=2`);
      assert.equal(again.status, 200, JSON.stringify(again.body));
      collect(again.body);
      cursor = again.body.cursor;
    }
    assert.deepEqual(seen, [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);

    // A lost reply: presenting the same cursor again repeats exactly those events.
    await sendAll(alice, 'p', 14, 15);
    const first = await poll(`cursor=${cursor}&timeout=2`);
    const repeat = await poll(`cursor=${cursor}&timeout=0`);
    const seqs = (b) => b.events.filter((e) => e.type === 'message').map((e) => e.seq);
    assert.ok(seqs(first.body).length >= 1);
    assert.deepEqual(seqs(repeat.body).slice(0, seqs(first.body).length), seqs(first.body));
    const newest = repeat.body.cursor;
    assert.equal((await poll(`cursor=${newest}&timeout=0`)).status, 200);
    // Now the older cursor is stale; one ahead of the stream is forged.
    const stale = await poll(`cursor=${cursor}&timeout=0`);
    assert.equal(stale.status, 400);
    assert.equal(stale.body.code, 'bad_request');
    assert.match(stale.body.message, /stale/);
    const [id, n] = newest.split('.');
    assert.equal((await poll(`cursor=${id}.${Number(n) + 5}&timeout=0`)).status, 400);
    for (const bad of ['nonsense', `${'f'.repeat(32)}.1`, 'x'.repeat(4000), `${id}.-1`]) {
      const res = await poll(`cursor=${encodeURIComponent(bad)}`);
      assert.equal(res.status, 400, bad.slice(0, 40));
      assert.equal(res.body.type, 'error');
    }
    // Another user cannot use the cursor.
    const other = await getJson(`${node.http}/poll?user=mallory&cursor=${newest}&timeout=0`);
    assert.equal(other.status, 403);
    // A held poll returns as soon as an event arrives, and an idle one after its timeout.
    const held = poll(`cursor=${newest}&timeout=20`);
    await new Promise((r) => setTimeout(r, 200));
    await alice.request({ type: 'send', room: 'p', id: 'late', body: 'late' });
    const got = await held;
    assert.ok(got.body.events.some((e) => e.type === 'message' && e.id === 'late'));
    const idle = await poll(`cursor=${got.body.cursor}&timeout=1`);
    assert.deepEqual(idle.body.events, []);
    assert.equal(idle.body.cursor, got.body.cursor);
    alice.close();
  } finally {
    await node.stop();
    node.cleanup();
  }
});

test('POST /rpc: commands for a stream, same replies as WebSocket, HTTP status from the error', async () => {
  const node = await startNode({ args: ['--rate-limit', 'off'] });
  try {
    const alice = await Client.connect(node.ws('alice'));
    await alice.join('q');
    const s = openSse(`${node.http}/sse?user=bob&rooms=q`);
    await until(() => s.of('joined').length === 1);
    const session = s.of('session')[0].data.session;

    const ack = await rpc(node, session, 'bob', { type: 'send', room: 'q', id: 'b1', body: 'hi', ref: 1 });
    assert.equal(ack.status, 200);
    assert.deepEqual(ack.body, { type: 'ack', ref: 1, id: 'b1', room: 'q', seq: 1, dup: false });
    const m = await alice.next('message');
    assert.equal(m.from, 'bob');
    const dup = await rpc(node, session, 'bob', { type: 'send', room: 'q', id: 'b1', body: 'hi' });
    assert.equal(dup.body.dup, true);
    assert.ok(await alice.quiet((f) => f.type === 'message' && f.id === 'b1', 200), 'a resend is not delivered twice');
    await until(() => s.of('message').length === 1);

    const typing = await rpc(node, session, 'bob', { type: 'typing', room: 'q' });
    assert.deepEqual([typing.status, typing.body.type], [200, 'ok']);
    assert.equal((await alice.next('typing')).user, 'bob');
    const joined = await rpc(node, session, 'bob', { type: 'join', room: 'q2', ref: 'j' });
    assert.equal(joined.body.type, 'joined');
    assert.equal(joined.body.ref, 'j');
    const read = await rpc(node, session, 'bob', { type: 'read', room: 'q', seq: 1 });
    assert.equal(read.body.type, 'ok');
    const hist = await rpc(node, session, 'bob', { type: 'history', room: 'q' });
    assert.equal(hist.body.messages.length, 1);
    const pres = await rpc(node, session, 'bob', { type: 'presence', users: ['alice'] });
    assert.deepEqual(pres.body.users, { alice: 'online' });
    assert.equal((await rpc(node, session, 'bob', { type: 'ping', ref: 3 })).body.type, 'pong');

    const notJoined = await rpc(node, session, 'bob', { type: 'send', room: 'nope', id: 'x', body: 1 });
    assert.deepEqual([notJoined.status, notJoined.body.code], [409, 'not_joined']);
    const bad = await rpc(node, session, 'bob', 'not json');
    assert.deepEqual([bad.status, bad.body.code], [400, 'bad_request']);
    const unknown = await rpc(node, session, 'bob', { type: 'fly' });
    assert.equal(unknown.status, 400);
    const big = await rpc(node, session, 'bob', { type: 'send', room: 'q', id: 'big', body: 'x'.repeat(70 * 1024) });
    assert.deepEqual([big.status, big.body.code], [413, 'too_large']);
    const wrongType = await getJson(`${node.http}/rpc?session=${session}&user=bob`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: '{}' });
    assert.equal(wrongType.status, 415);
    assert.equal((await getJson(`${node.http}/rpc?session=${session}&user=bob`)).status, 405);
    const noSession = await getJson(`${node.http}/rpc?user=bob`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"type":"ping"}' });
    assert.equal(noSession.status, 400);
    assert.equal((await rpc(node, 'f'.repeat(32), 'bob', { type: 'ping' })).status, 404);
    assert.equal((await rpc(node, session, 'mallory', { type: 'ping' })).status, 403);
    assert.equal((await getJson(`${node.http}/rpc?session=${session}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })).status, 401);
    s.es.close();
    alice.close();
  } finally {
    await node.stop();
    node.cleanup();
  }
});

test('streams: bad parameters and credentials are clear 4xx with a JSON body', async () => {
  const node = await startNode({ dev: false, args: ['--jwt-secret', SECRET] });
  try {
    const token = sign({ sub: 'bob', exp: inOneHour() }, { secret: SECRET });
    const get = (path, headers = {}) => getJson(`${node.http}${path}`, { headers });
    const cases = [
      [`/sse?token=${token}&rooms=a,,b`, 400],
      [`/sse?token=${token}&rooms=bad%20room`, 400],
      [`/sse?token=${token}&rooms=a&since=b:1`, 400],
      [`/sse?token=${token}&rooms=a&since=a:x`, 400],
      [`/poll?token=${token}&rooms=a&timeout=abc`, 400],
      [`/poll?token=${token}&rooms=a&timeout=61`, 400],
      [`/sse?token=${token}&rooms=private:x`, 403],
      [`/poll?token=${token}&rooms=private:x`, 403],
      ['/sse?rooms=a', 401],
      ['/sse?token=garbage&rooms=a', 401],
      ['/sse?user=bob&rooms=a', 401],
      ['/poll?rooms=a', 401],
    ];
    for (const [path, status] of cases) {
      const r = await get(path);
      assert.equal(r.status, status, path);
      assert.equal(r.body.type, 'error', path);
      assert.ok(r.body.code && r.body.message, path);
    }
    for (const lastId of ['garbage', 'a:', 'a:1,', ':1', 'a:1:x']) {
      const r = await get(`/sse?token=${token}&rooms=a`, { 'Last-Event-ID': lastId });
      assert.equal(r.status, 400, lastId);
      assert.match(r.body.message, /Last-Event-ID/);
    }
    const post = await getJson(`${node.http}/sse?token=${token}&rooms=a`, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.body.type, 'error');
    const pollPost = await getJson(`${node.http}/poll?token=${token}&rooms=a`, { method: 'POST' });
    assert.equal(pollPost.status, 405);
    const metricsPost = await getJson(`${node.http}/metrics`, { method: 'POST' });
    assert.equal(metricsPost.status, 405);
    assert.equal(metricsPost.body.type, 'error');
  } finally {
    await node.stop();
    node.cleanup();
  }
});

test('several I/O threads: WebSocket, SSE and POST /rpc on different io_contexts share rooms', async () => {
  const node = await startNode({ args: ['--io-threads', '3', '--rate-limit', 'off'] });
  try {
    // Six sockets land round robin on three io_contexts; the SSE stream and each
    // POST /rpc on whichever comes next.
    const clients = [];
    for (let i = 0; i < 6; i++) {
      const c = await Client.connect(node.ws(`io${i}`));
      await c.join('io');
      clients.push(c);
    }
    const s = openSse(`${node.http}/sse?user=iosse&rooms=io`);
    await until(() => s.of('joined').length === 1);
    const session = s.of('session')[0].data.session;
    await Promise.all(clients.map((c, i) => sendAll(c, 'io', i * 5 + 1, i * 5 + 5)));
    const ack = await rpc(node, session, 'iosse', { type: 'send', room: 'io', id: 'from-sse', body: 'x' });
    assert.equal(ack.body.type, 'ack');
    for (const c of clients) {
      const got = await c.take(31, (f) => f.type === 'message');
      assert.deepEqual(got.map((m) => m.seq), Array.from({ length: 31 }, (_, k) => k + 1));
    }
    await until(() => s.of('message').length === 31);
    assert.deepEqual(s.of('message').map((e) => e.data.seq), Array.from({ length: 31 }, (_, k) => k + 1));
    s.es.close();
    for (const c of clients) c.close();
  } finally {
    await node.stop();
    node.cleanup();
  }
});
