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
