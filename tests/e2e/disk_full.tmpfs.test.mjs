// A full disk (a 16 MiB tmpfs of the test's own, tests/e2e/tmpfs-run): sends are
// answered `unavailable` (never `internal`, never a crash), /readyz says why, one
// log line; when space returns the node writes again, and nothing acked is lost.
// (Without --min-free-disk-mb the node met RocksDB 7.8's assertion after a failed
// WAL write and died: the watermark keeps writes from reaching a full disk.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openSync, writeSync, closeSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Client, history, metric, startNode } from './lib.mjs';

const TMPFS = process.env.CHAT_TMPFS;

// Fills the file system with one file until it is full; returns its path.
function fill(dir) {
  const path = join(dir, 'filler');
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(256 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (e) {
    if (e.code !== 'ENOSPC') throw e;
  } finally {
    closeSync(fd);
  }
  return path;
}

test('a full disk: sends get unavailable, /readyz 503, nothing acked is lost; space returns, writes go on', { skip: !TMPFS && 'needs tests/e2e/tmpfs-run (root)' }, async () => {
  const node = await startNode({ dataDir: join(TMPFS, 'data'), args: ['--min-free-disk-mb', '2'] });
  try {
    const c = await Client.connect(node.ws('ann'));
    await c.join('full');
    const acked = [];
    for (let i = 0; i < 5; i++) {
      const ack = await c.request({ type: 'send', room: 'full', id: `before-${i}`, body: i });
      assert.equal(ack.type, 'ack');
      acked.push(ack.id);
    }
    const filler = fill(TMPFS);
    // Sends until one fails: the disk is full (a little may still fit).
    let refused;
    for (let i = 0; i < 200 && !refused; i++) {
      const reply = await c.request({ type: 'send', room: 'full', id: `during-${i}`, body: 'x'.repeat(4096) });
      if (reply.type === 'ack') acked.push(reply.id);
      else refused = reply;
    }
    assert.ok(refused, 'a send failed once the disk was full');
    assert.equal(refused.code, 'unavailable', JSON.stringify(refused));
    assert.ok(refused.retry_after_ms >= 1);
    const ready = await fetch(`${node.http}/readyz`);
    assert.equal(ready.status, 503);
    assert.equal((await ready.json()).status, 'storage_failing');
    assert.equal(metric(await (await fetch(`${node.http}/metrics`)).text(), 'chat_storage_failing'), 1);
    assert.ok(!node.log().includes('internal error'), 'never internal');
    assert.ok((node.log().match(/store: writes fail/g) ?? []).length === 1, 'one log line');
    assert.match(node.log(), /the disk is almost full/);

    // Space returns: the same send goes through (the store resumes within a second or two).
    rmSync(filler);
    const deadline = Date.now() + 15000;
    let ack;
    while (Date.now() < deadline) {
      ack = await c.request({ type: 'send', room: 'full', id: 'after', body: 'back' });
      if (ack.type === 'ack') break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(ack.type, 'ack', JSON.stringify(ack));
    acked.push('after');
    assert.equal((await fetch(`${node.http}/readyz`)).status, 200);
    const log = await history(node.http, 'full');
    const ids = log.map((m) => m.id);
    for (const id of acked) assert.ok(ids.includes(id), `acked ${id} is kept`);
    assert.deepEqual(log.map((m) => m.seq), log.map((_, i) => i + 1), 'gap-free');
    assert.equal(new Set(ids).size, ids.length, 'each id once');
    c.close();
  } finally {
    await node.stop();
  }
});
