// Crash durability: whatever was acknowledged survives kill -9, exactly once,
// in order, and its idempotency key survives with it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startNode, Client, getJson } from './lib.mjs';

test('acked messages survive kill -9 exactly once, in order; old ids stay dups', async () => {
  const first = await startNode({ args: ['--rate-limit', 'off'] });
  const n = 300;
  const alice = await Client.connect(first.ws('alice'));
  await alice.join('durable');
  for (let i = 1; i <= n; i++) alice.send({ type: 'send', room: 'durable', id: `d${i}`, body: { i } });
  const acks = await alice.take(n, 'ack');
  const seqOf = new Map(acks.map((a) => [a.id, a.seq]));
  assert.equal(seqOf.size, n);
  // Crash right after the acks: no graceful flush.
  const { signal } = await first.kill9();
  assert.equal(signal, 'SIGKILL');

  const second = await startNode({ dataDir: first.dir });
  try {
    const bob = await Client.connect(second.ws('bob'));
    const joined = await bob.join('durable', 0);
    assert.equal(joined.seq, n);
    const msgs = await bob.take(n, 'message');
    assert.deepEqual(msgs.map((m) => m.seq), Array.from({ length: n }, (_, i) => i + 1));
    assert.deepEqual(msgs.map((m) => m.id), Array.from({ length: n }, (_, i) => `d${i + 1}`));
    for (const m of msgs) assert.equal(m.seq, seqOf.get(m.id));
    assert.ok(await bob.quiet('message', 200));

    const again = await bob.request({ type: 'send', room: 'durable', id: 'd17', body: 'resent' });
    assert.equal(again.dup, true);
    assert.equal(again.seq, seqOf.get('d17'));
    const fresh = await bob.request({ type: 'send', room: 'durable', id: 'new', body: 'after crash' });
    assert.equal(fresh.dup, false);
    assert.equal(fresh.seq, n + 1);

    const rest = await getJson(`${second.http}/api/rooms/durable/messages?after=${n - 2}`);
    assert.deepEqual(rest.body.messages.map((m) => m.seq), [n - 1, n, n + 1]);
    bob.close();
  } finally {
    await second.stop();
    second.cleanup();
  }
});

test('messages sent with --durability async survive a graceful restart', async () => {
  const first = await startNode({ args: ['--durability', 'async'] });
  const alice = await Client.connect(first.ws('alice'));
  await alice.join('async-room');
  for (let i = 1; i <= 50; i++) alice.send({ type: 'send', room: 'async-room', id: `a${i}`, body: i });
  await alice.take(50, 'ack');
  assert.equal((await first.stop()).code, 0);
  const second = await startNode({ dataDir: first.dir });
  try {
    const rest = await getJson(`${second.http}/api/rooms/async-room/messages?after=0&limit=200`);
    assert.equal(rest.body.messages.length, 50);
  } finally {
    await second.stop();
    second.cleanup();
  }
});
