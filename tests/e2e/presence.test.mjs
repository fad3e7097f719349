// Presence, typing, read receipts, member events and the signaling relay
// through a real chatd and real WebSocket clients.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startNode, Client, getJson, metric } from './lib.mjs';

const HEARTBEAT = 1000;
const TTL = 1500;
let node;
before(async () => {
  node = await startNode({ args: ['--heartbeat-ms', String(HEARTBEAT), '--presence-ttl-ms', String(TTL)] });
});
after(async () => {
  await node.stop();
  node.cleanup();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('presence: online with the first device, offline after the last; watch list replaced', async () => {
  const watcher = await Client.connect(node.ws('w1'));
  const state = await watcher.request({ type: 'presence', users: ['pbob', 'pcarol'] });
  assert.equal(state.type, 'presence_state');
  assert.deepEqual(state.users, { pbob: 'offline', pcarol: 'offline' });
  const bob1 = await Client.connect(node.ws('pbob'));
  const on = await watcher.next('presence');
  assert.equal(on.user, 'pbob');
  assert.equal(on.status, 'online');
  assert.ok(on.last_seen > 0);
  const bob2 = await Client.connect(node.ws('pbob'));
  await sleep(400);
  bob1.close();
  assert.ok(await watcher.quiet('presence', 500), 'still online with one device');
  bob2.close();
  const off = await watcher.next('presence');
  assert.equal(off.status, 'offline');
  // Replace the watch list: events of the old users stop.
  const s2 = await watcher.request({ type: 'presence', users: ['pcarol'] });
  assert.deepEqual(s2.users, { pcarol: 'offline' });
  const bob3 = await Client.connect(node.ws('pbob'));
  assert.ok(await watcher.quiet('presence', 500));
  const carol = await Client.connect(node.ws('pcarol'));
  assert.equal((await watcher.next('presence')).user, 'pcarol');
  for (const c of [bob3, carol, watcher]) c.close();
});

test('presence: bad watch lists are bad_request', async () => {
  const c = await Client.connect(node.ws('w2'));
  for (const users of ['bob', [1], ['bad name'], Array.from({ length: 1001 }, (_, i) => `u${i}`)]) {
    const err = await c.request({ type: 'presence', users });
    assert.equal(err.code, 'bad_request');
  }
  const ok = await c.request({ type: 'presence', users: Array.from({ length: 1000 }, (_, i) => `cap${i}`) });
  assert.equal(Object.keys(ok.users).length, 1000);
  c.close();
});

test('presence: a dead peer (stops reading, never closes) goes offline by TTL', async () => {
  const watcher = await Client.connect(node.ws('w3'));
  await watcher.request({ type: 'presence', users: ['ghost'] });
  const ghost = await Client.connect(node.ws('ghost'));
  assert.equal((await watcher.next('presence')).status, 'online');
  await sleep(HEARTBEAT * 1.5); // at least one ping answered
  const silencedAt = Date.now();
  ghost.ws._socket.pause(); // no more reads, so no more pongs; TCP stays open
  const off = await watcher.next('presence', TTL + 3 * HEARTBEAT);
  const took = Date.now() - silencedAt;
  assert.equal(off.status, 'offline');
  assert.ok(took <= TTL + HEARTBEAT + 300, `offline after ${took} ms`);
  ghost.ws.terminate();
  watcher.close();
});

test('presence: flapping is coalesced, and the final state is published', async () => {
  const watcher = await Client.connect(node.ws('w4'));
  await watcher.request({ type: 'presence', users: ['flappy'] });
  for (let i = 0; i < 15; i++) {
    const c = await Client.connect(node.ws('flappy'));
    c.close();
    await new Promise((r) => c.ws.once('close', r));
  }
  await sleep(800);
  const events = watcher.frames.filter((f) => f.type === 'presence');
  assert.ok(events.length >= 1 && events.length <= 6, `${events.length} events for 30 changes`);
  assert.equal(events.at(-1).status, 'offline');
  watcher.close();
});

test('presence: GET /api/rooms/{room}/presence lists the online members', async () => {
  const alice = await Client.connect(node.ws('ra'));
  const bob = await Client.connect(node.ws('rb'));
  await alice.join('pres-room');
  await bob.join('pres-room');
  const r = await getJson(`${node.http}/api/rooms/pres-room/presence`);
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { room: 'pres-room', online: ['ra', 'rb'] });
  bob.close();
  await alice.next('member');
  const r2 = await getJson(`${node.http}/api/rooms/pres-room/presence`);
  assert.deepEqual(r2.body.online, ['ra']);
  const empty = await getJson(`${node.http}/api/rooms/nobody-here/presence`);
  assert.deepEqual(empty.body, { room: 'nobody-here', online: [] });
  assert.equal((await getJson(`${node.http}/api/rooms/bad%20room/presence`)).status, 400);
  assert.equal((await getJson(`${node.http}/api/rooms/x/presence`, { method: 'POST' })).status, 405);
  alice.close();
});

test('typing reaches the others, not the typist, at most once per second', async () => {
  const alice = await Client.connect(node.ws('ta'));
  const bob = await Client.connect(node.ws('tb'));
  await alice.join('typing-room');
  await bob.join('typing-room');
  for (let i = 0; i < 5; i++) alice.send({ type: 'typing', room: 'typing-room' });
  assert.deepEqual(await bob.next('typing'), { type: 'typing', room: 'typing-room', user: 'ta' });
  assert.ok(await bob.quiet('typing', 400));
  assert.ok(await alice.quiet('typing', 0));
  assert.ok(await alice.quiet('error', 0), 'throttled typing is not an error');
  await sleep(700);
  alice.send({ type: 'typing', room: 'typing-room' });
  await bob.next('typing');
  alice.close();
  bob.close();
});

test('read receipts: forward only, broadcast, in joined, bounded by the last seq', async () => {
  const alice = await Client.connect(node.ws('rca'));
  const bob = await Client.connect(node.ws('rcb'));
  await alice.join('receipts');
  await bob.join('receipts');
  for (let i = 1; i <= 4; i++) await alice.request({ type: 'send', room: 'receipts', id: `x${i}`, body: i });
  assert.equal((await bob.request({ type: 'read', room: 'receipts', seq: 3 })).type, 'ok');
  assert.deepEqual(await alice.next('read'), { type: 'read', room: 'receipts', user: 'rcb', seq: 3 });
  assert.equal((await bob.request({ type: 'read', room: 'receipts', seq: 1 })).type, 'ok');
  assert.ok(await alice.quiet('read', 300), 'a backwards receipt is not broadcast');
  const err = await bob.request({ type: 'read', room: 'receipts', seq: 5 });
  assert.equal(err.code, 'bad_request');
  assert.equal((await bob.request({ type: 'read', room: 'elsewhere', seq: 1 })).code, 'not_joined');
  const carol = await Client.connect(node.ws('rcc'));
  const joined = await carol.join('receipts');
  assert.deepEqual(joined.receipts, { rcb: 3 });
  for (const c of [alice, bob, carol]) c.close();
});

test('member events: once per user, not per device', async () => {
  const alice = await Client.connect(node.ws('ma'));
  await alice.join('members');
  const bob1 = await Client.connect(node.ws('mb'));
  const bob2 = await Client.connect(node.ws('mb'));
  await bob1.join('members');
  assert.deepEqual(await alice.next('member'), { type: 'member', room: 'members', user: 'mb', event: 'join' });
  await bob2.join('members');
  assert.ok(await alice.quiet('member', 300));
  bob1.close();
  assert.ok(await alice.quiet('member', 300));
  bob2.close();
  assert.equal((await alice.next('member')).event, 'leave');
  alice.close();
});

test('signal: to every connection of the user in the room; not_found, not_joined, too_large', async () => {
  const alice = await Client.connect(node.ws('sa'));
  const bob1 = await Client.connect(node.ws('sb'));
  const bob2 = await Client.connect(node.ws('sb'));
  const eve = await Client.connect(node.ws('se'));
  for (const c of [alice, bob1, bob2]) await c.join('call');
  await bob2.request({ type: 'leave', room: 'call' });
  await bob2.join('other-call');
  alice.send({ type: 'signal', room: 'call', to: 'sb', data: { type: 'offer', sdp: 'v=0' } });
  assert.deepEqual(await bob1.next('signal'), { type: 'signal', room: 'call', from: 'sa', data: { type: 'offer', sdp: 'v=0' } });
  assert.ok(await bob2.quiet('signal', 300), 'only connections that joined the room');
  assert.ok(await alice.quiet('error', 0), 'no reply on success');
  assert.equal((await alice.request({ type: 'signal', room: 'call', to: 'nobody', data: {} })).code, 'not_found');
  assert.equal((await eve.request({ type: 'signal', room: 'call', to: 'sb', data: {} })).code, 'not_joined');
  assert.equal((await alice.request({ type: 'signal', room: 'call', to: 'sb', data: 'x'.repeat(65 * 1024) })).code, 'too_large');
  for (const c of [alice, bob1, bob2, eve]) c.close();
});

test('last_seen survives a restart', async () => {
  const first = await startNode();
  const bob = await Client.connect(first.ws('lbob'));
  await sleep(100);
  bob.close();
  await sleep(300);
  await first.stop();
  const second = await startNode({ dataDir: first.dir });
  try {
    const w = await Client.connect(second.ws('lw'));
    const state = await w.request({ type: 'presence', users: ['lbob', 'never'] });
    assert.equal(state.users.lbob, 'offline');
    assert.ok(state.last_seen.lbob > Date.now() - 60000);
    assert.equal(state.last_seen.never, 0);
    w.close();
  } finally {
    await second.stop();
    second.cleanup();
  }
});

test('/metrics: chat_presence_users counts the users whose presence the node holds', async () => {
  const own = await startNode();
  try {
    const held = async () => metric(await (await fetch(`${own.http}/metrics`)).text(), 'chat_presence_users');
    assert.equal(await held(), 0);
    const a1 = await Client.connect(own.ws('mu-a'));
    const a2 = await Client.connect(own.ws('mu-a')); // a second device of the same user
    const b = await Client.connect(own.ws('mu-b'));
    let n = 0;
    for (let i = 0; i < 100 && n < 2; i++) {
      await sleep(20);
      n = await held();
    }
    assert.equal(n, 2);
    for (const c of [a1, a2, b]) c.close();
  } finally {
    await own.stop();
    own.cleanup();
  }
});
