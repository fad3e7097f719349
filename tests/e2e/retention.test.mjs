// Retention and the dedupe window (issue 15 item 4, docs/protocol.md): a resend
// inside the window is a dup, outside it a new message; retention removes the
// oldest messages, and a replay from before them starts with a `trimmed` notice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startNode, Client, getJson, metric, runChatd } from './lib.mjs';

const eventually = async (what, fn, ms = 10000) => {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

test('dedupe window and retention: dup inside, new outside; a replay from before the kept range is told where it starts', async () => {
  const node = await startNode({
    args: ['--rate-limit', 'off', '--dedupe-window-ids', '3', '--dedupe-window-hours', '0',
      '--retention-messages', '5', '--trim-interval-ms', '50'],
  });
  try {
    const alice = await Client.connect(node.ws('alice'));
    await alice.join('kept');
    for (let i = 1; i <= 10; i++) {
      const ack = await alice.request({ type: 'send', room: 'kept', id: `m${i}`, body: { i } });
      assert.equal(ack.seq, i);
    }
    await eventually('the sweep ran', async () => {
      const text = await (await fetch(`${node.http}/metrics`)).text();
      return metric(text, 'chat_retention_removed_messages_total') >= 5;
    });
    const dup = await alice.request({ type: 'send', room: 'kept', id: 'm9', body: 'again' });
    assert.deepEqual([dup.dup, dup.seq], [true, 9]);
    const fresh = await alice.request({ type: 'send', room: 'kept', id: 'm2', body: 'again' });
    assert.deepEqual([fresh.dup, fresh.seq], [false, 11]);

    // The sweep keeps the last 5 (7..11): a join from 0 is told the log now
    // starts at 7, then gets 7..11 in order.
    await eventually('seq 6 removed', async () => {
      const h = await getJson(`${node.http}/api/rooms/kept/messages?after=0&limit=50`);
      return h.body.messages[0]?.seq === 7;
    });
    const bob = await Client.connect(node.ws('bob'));
    bob.send({ type: 'join', room: 'kept', since: 0, ref: 'j' });
    const frames = await bob.take(7, (f) => ['joined', 'trimmed', 'message'].includes(f.type));
    assert.deepEqual(frames.map((f) => f.type), ['joined', 'trimmed', 'message', 'message', 'message', 'message', 'message']);
    assert.deepEqual([frames[1].room, frames[1].first_seq], ['kept', 7]);
    assert.deepEqual(frames.slice(2).map((f) => f.seq), [7, 8, 9, 10, 11]);
    // A replay from inside the kept range has no notice.
    const carol = await Client.connect(node.ws('carol'));
    carol.send({ type: 'join', room: 'kept', since: 8, ref: 'j' });
    const tail = await carol.take(4, (f) => ['joined', 'trimmed', 'message'].includes(f.type));
    assert.deepEqual(tail.map((f) => f.type), ['joined', 'message', 'message', 'message']);

    // SSE with since below the kept range: the same notice as an event.
    const res = await fetch(`${node.http}/sse?user=dora&rooms=kept&since=kept:2`);
    const reader = res.body.getReader();
    let text = '';
    while (!/event: message[^]*"seq":11/.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    await reader.cancel();
    assert.match(text, /event: trimmed\ndata: \{"type":"trimmed","room":"kept","first_seq":7\}/);
    assert.ok(text.indexOf('event: trimmed') < text.indexOf('event: message'));
    const metrics = await (await fetch(`${node.http}/metrics`)).text();
    assert.ok(metric(metrics, 'chat_dedupe_forgotten_ids_total') >= 1);
    for (const c of [alice, bob, carol]) c.close();
  } finally {
    await node.stop();
    node.cleanup();
  }
});

test('retention and dedupe flags refuse bad values with a reason', async () => {
  for (const [flag, value] of [['--retention-messages', '-1'], ['--retention-days', 'x'],
    ['--dedupe-window-hours', '999999'], ['--trim-interval-ms', '0'], ['--dedupe-window-ids', 'many']]) {
    const r = await runChatd(['--dev', flag, value]);
    assert.equal(r.code, 2, `${flag} ${value}`);
    assert.match(r.stderr, new RegExp(flag), `${flag} ${value}: ${r.stderr}`);
  }
});
