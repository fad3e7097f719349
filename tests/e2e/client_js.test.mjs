// client.js's bookkeeping of what it holds, driven directly in Node (no transport):
// the decisions that make a page show every message once, in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChatClient } from '../../gateway/web/client.js';

function clientHolding(room, seq) {
  const c = new ChatClient({ url: 'http://127.0.0.1:1', user: 'u' });
  c.rooms.set(room, { seq });
  const seen = [];
  for (const t of ['message', 'joined', 'resync']) c.on(t, (f) => seen.push({ t, ...f }));
  return { c, seen };
}

test('a message at or below the held seq is dropped; the next one is shown', () => {
  const { c, seen } = clientHolding('r', 10);
  c.deliver({ type: 'message', room: 'r', seq: 9, id: 'old' });
  c.deliver({ type: 'message', room: 'r', seq: 10, id: 'same' });
  c.deliver({ type: 'message', room: 'r', seq: 11, id: 'new' });
  assert.deepEqual(seen.map((f) => f.id), ['new']);
  assert.equal(c.rooms.get('r').seq, 11);
});

test('a joined whose seq is below what the client holds is a rewind: resync, and the reused seqs are shown', () => {
  const { c, seen } = clientHolding('r', 10);
  c.deliver({ type: 'joined', room: 'r', seq: 4, members: [] });
  const resync = seen.find((f) => f.t === 'resync');
  assert.ok(resync, 'a resync is emitted');
  assert.equal(resync.from_seq, 5);
  assert.equal(resync.rewound, true);
  assert.equal(c.rooms.get('r').seq, 4);
  c.deliver({ type: 'message', room: 'r', seq: 5, id: 'after-rewind' });
  assert.deepEqual(seen.filter((f) => f.t === 'message').map((f) => f.id), ['after-rewind']);
});

test('a joined at or above the held seq changes nothing', () => {
  const { c, seen } = clientHolding('r', 10);
  c.deliver({ type: 'joined', room: 'r', seq: 12, members: [] });
  assert.equal(seen.filter((f) => f.t === 'resync').length, 0);
  assert.equal(c.rooms.get('r').seq, 10); // the replay after it brings 11 and 12
});

test('client.js with a list of URLs moves to the next node after repeated failures and goes on', async () => {
  const { default: WebSocket } = await import('ws');
  const { startCluster } = await import('./lib.mjs');
  globalThis.WebSocket ??= WebSocket;
  const cluster = await startCluster();
  const c = new ChatClient({ url: [cluster.http(1), cluster.http(2)], user: 'ann', transports: ['ws'], backoffMs: 50, maxBackoffMs: 200 });
  try {
    const states = [];
    c.on('state', (s) => states.push(`${s.state}@${s.url}`));
    const messages = [];
    c.on('message', (m) => messages.push(m.id));
    c.join('multi');
    assert.equal((await c.send('multi', 'one', 'm1')).seq, 1);
    assert.equal(c.url, cluster.http(1));
    process.kill(cluster.pids.n1, 'SIGKILL');
    // Resent with the same id after the move; acked by the cluster through n2.
    const ack = await c.send('multi', 'two', 'm2');
    assert.equal(ack.seq, 2);
    assert.equal(c.url, cluster.http(2));
    assert.ok(states.includes(`open@${cluster.http(2)}`), states.join(' '));
    const failedOnN1 = states.filter((s) => s === `reconnecting@${cluster.http(1)}`).length;
    assert.ok(failedOnN1 >= 2, `two failed rounds on n1 before the move: ${states.join(' ')}`);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(messages, ['m1', 'm2']);
  } finally {
    c.close();
    await cluster.stop();
    cluster.cleanup();
  }
});

test('client.js refuses an empty URL list and a switchAfter that is not a whole number >= 1', () => {
  assert.throws(() => new ChatClient({ url: [] }), /url must not be an empty list/);
  for (const switchAfter of [0, -1, 1.5, 'two', NaN])
    assert.throws(() => new ChatClient({ url: ['http://a', 'http://b'], switchAfter }), /switchAfter must be/, String(switchAfter));
});
