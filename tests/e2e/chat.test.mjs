// Two users chat through a real chatd over real WebSockets.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startNode, Client, getJson } from './lib.mjs';

let node;
before(async () => {
  // The 1,000-message test floods on purpose: no command rate limit here.
  node = await startNode({ args: ['--rate-limit', 'off'] });
});
after(async () => {
  const { code } = await node.stop();
  assert.equal(code, 0);
  node.cleanup();
});

test('two users chat: joined, member, ack, message with seq/ts/from/vc', async () => {
  const alice = await Client.connect(node.ws('alice'));
  const bob = await Client.connect(node.ws('bob'));
  const j1 = await alice.join('lobby');
  assert.equal(j1.seq, 0);
  assert.deepEqual(j1.members, ['alice']);
  const j2 = await bob.join('lobby');
  assert.deepEqual([...j2.members].sort(), ['alice', 'bob']);
  assert.deepEqual(await alice.next('member'), { type: 'member', room: 'lobby', user: 'bob', event: 'join' });

  const before = Date.now();
  const ack = await alice.request({ type: 'send', room: 'lobby', id: 'c-1', body: { text: 'hi bob' } });
  assert.deepEqual({ ...ack, ref: undefined }, { type: 'ack', id: 'c-1', room: 'lobby', seq: 1, dup: false, ref: undefined });
  for (const c of [alice, bob]) {
    const m = await c.next('message');
    assert.equal(m.room, 'lobby');
    assert.equal(m.seq, 1);
    assert.equal(m.id, 'c-1');
    assert.equal(m.from, 'alice');
    assert.deepEqual(m.body, { text: 'hi bob' });
    assert.deepEqual(m.vc, { n1: 1 });
    assert.ok(m.ts >= before - 5000 && m.ts <= Date.now() + 5000);
  }
  const reply = await bob.request({ type: 'send', room: 'lobby', id: 'c-2', body: 'hello alice' });
  assert.equal(reply.seq, 2);
  assert.equal((await alice.next('message')).body, 'hello alice');

  bob.close();
  assert.deepEqual(await alice.next('member'), { type: 'member', room: 'lobby', user: 'bob', event: 'leave' });
  alice.close();
});

test('1,000 messages arrive gap-free, in order, exactly once, to every member', async () => {
  const room = 'thousand';
  const senders = await Promise.all(['s1', 's2'].map((u) => Client.connect(node.ws(u))));
  const readers = await Promise.all(['r1', 'r2', 'r3'].map((u) => Client.connect(node.ws(u))));
  for (const c of [...senders, ...readers]) await c.join(room);
  const n = 1000;
  for (let i = 0; i < n; i++) senders[i % 2].send({ type: 'send', room, id: `m${i}`, body: { i } });
  for (const c of [...senders, ...readers]) {
    const msgs = await c.take(n, 'message');
    assert.deepEqual(msgs.map((m) => m.seq), Array.from({ length: n }, (_, i) => i + 1));
    assert.equal(new Set(msgs.map((m) => m.id)).size, n);
    // Each sender's own messages keep its sending order.
    for (const s of ['s1', 's2']) {
      const mine = msgs.filter((m) => m.from === s).map((m) => m.body.i);
      assert.deepEqual(mine, [...mine].sort((a, b) => a - b));
    }
  }
  const acks = [...(await senders[0].take(n / 2, 'ack')), ...(await senders[1].take(n / 2, 'ack'))];
  assert.equal(new Set(acks.map((a) => a.seq)).size, n);
  for (const c of [...senders, ...readers]) {
    assert.ok(await c.quiet('message', 200), 'no extra deliveries');
    c.close();
  }
});

test('a duplicate id is acked with dup: true and the original seq, and not delivered twice', async () => {
  const alice = await Client.connect(node.ws('alice'));
  const bob = await Client.connect(node.ws('bob'));
  await alice.join('dups');
  await bob.join('dups');
  const first = await alice.request({ type: 'send', room: 'dups', id: 'same', body: 1 });
  const second = await alice.request({ type: 'send', room: 'dups', id: 'same', body: 2 });
  assert.equal(first.dup, false);
  assert.equal(second.dup, true);
  assert.equal(second.seq, first.seq);
  // Another user's resend of the same id in the same room is the same message too.
  const third = await bob.request({ type: 'send', room: 'dups', id: 'same', body: 3 });
  assert.equal(third.dup, true);
  const m = await bob.next('message');
  assert.equal(m.body, 1);
  assert.ok(await bob.quiet('message', 300));
  alice.close();
  bob.close();
});

test('join with since replays exactly the missing messages, then live ones', async () => {
  const alice = await Client.connect(node.ws('alice'));
  await alice.join('replay');
  for (let i = 1; i <= 30; i++) alice.send({ type: 'send', room: 'replay', id: `r${i}`, body: i });
  await alice.take(30, 'ack');
  for (const since of [0, 12, 29, 30]) {
    const bob = await Client.connect(node.ws('bob'));
    const joined = await bob.join('replay', since);
    assert.equal(joined.seq, 30);
    const replayed = await bob.take(30 - since, 'message');
    assert.deepEqual(replayed.map((m) => m.seq), Array.from({ length: 30 - since }, (_, i) => since + i + 1));
    assert.ok(await bob.quiet('message', 150));
    bob.close();
  }
  alice.close();
});

test('history over WebSocket and GET /api/rooms/{room}/messages', async () => {
  const alice = await Client.connect(node.ws('alice'));
  await alice.join('hist');
  for (let i = 1; i <= 10; i++) alice.send({ type: 'send', room: 'hist', id: `h${i}`, body: { i } });
  await alice.take(10, 'ack');
  const newest = await alice.request({ type: 'history', room: 'hist', limit: 3 });
  assert.deepEqual(newest.messages.map((m) => m.seq), [10, 9, 8]);
  const older = await alice.request({ type: 'history', room: 'hist', before: 4 });
  assert.deepEqual(older.messages.map((m) => m.seq), [3, 2, 1]);
  const rest = await getJson(`${node.http}/api/rooms/hist/messages?after=7`);
  assert.equal(rest.status, 200);
  assert.deepEqual(rest.body.messages.map((m) => m.seq), [8, 9, 10]);
  assert.equal(rest.body.messages[0].from, 'alice');
  assert.deepEqual(rest.body.messages[0].body, { i: 8 });
  const limited = await getJson(`${node.http}/api/rooms/hist/messages?before=10&limit=2`);
  assert.deepEqual(limited.body.messages.map((m) => m.seq), [9, 8]);
  const none = await getJson(`${node.http}/api/rooms/never-existed/messages`);
  assert.equal(none.status, 200);
  assert.deepEqual(none.body.messages, []);
  // History does not need a join.
  const bob = await Client.connect(node.ws('bob'));
  const h = await bob.request({ type: 'history', room: 'hist', after: 9 });
  assert.deepEqual(h.messages.map((m) => m.seq), [10]);
  alice.close();
  bob.close();
});

test('leave, then send is not_joined; ping is answered', async () => {
  const alice = await Client.connect(node.ws('alice'));
  await alice.join('leaving');
  assert.equal((await alice.request({ type: 'leave', room: 'leaving' })).type, 'ok');
  const err = await alice.request({ type: 'send', room: 'leaving', id: 'x', body: 1 });
  assert.equal(err.type, 'error');
  assert.equal(err.code, 'not_joined');
  assert.equal((await alice.request({ type: 'ping' })).type, 'pong');
  alice.close();
});

test('health and readiness', async () => {
  assert.deepEqual(await getJson(`${node.http}/healthz`).then((r) => [r.status, r.body.status]), [200, 'ok']);
  assert.deepEqual(await getJson(`${node.http}/readyz`).then((r) => [r.status, r.body.status]), [200, 'ready']);
});
