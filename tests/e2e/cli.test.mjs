// chatd's command line: errors are one line with exit code 2; flags also come
// from a config file and CHAT_* env vars; SIGTERM closes sockets with 1001.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import crypto from 'node:crypto';
import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runChatd, startNode, tempDir, Client, getJson } from './lib.mjs';

function oneLineError(r) {
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^chatd: /);
  assert.doesNotMatch(r.stderr, /terminate called|Aborted|stack/i);
  return lines[0];
}

test('bad flags: one line on stderr, exit code 2', async () => {
  const dir = tempDir();
  try {
    assert.match(oneLineError(await runChatd(['--dev', '--bogus'])), /--bogus/);
    assert.match(oneLineError(await runChatd(['--dev', '--http', 'nowhere'])), /--http/);
    assert.match(oneLineError(await runChatd(['--dev', '--http', '127.0.0.1:70000'])), /port/);
    assert.match(oneLineError(await runChatd(['--dev', '--http', '10.0.0.300:80'])), /host/);
    assert.match(oneLineError(await runChatd(['--dev', '--heartbeat-ms', 'soon'])), /heartbeat/);
    assert.match(oneLineError(await runChatd(['--dev', '--durability', 'maybe'])), /durability/);
    assert.match(oneLineError(await runChatd(['--dev', '--log-level', 'chatty'])), /log-level/);
    assert.match(oneLineError(await runChatd(['--dev', '--log-format', 'xml'])), /log-format/);
    for (const [flag, value] of [['--max-sockets', '-1'], ['--max-connections', 'many'],
      ['--max-streams-per-user', '0'], ['--max-streams-per-ip', '0'], ['--max-unauthenticated', '0'],
      ['--max-unauthenticated-per-ip', 'x'], ['--replication', '0'], ['--replication', '6'],
      ['--replication', 'two'], ['--min-free-disk-mb', '-1'], ['--min-free-disk-mb', 'lots']])
      assert.match(oneLineError(await runChatd(['--dev', flag, value])), new RegExp(flag), `${flag} ${value}`);
    assert.match(oneLineError(await runChatd(['--dev', '--config', join(dir, 'missing.toml')])), /missing\.toml/);
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    assert.match(oneLineError(await runChatd(['--dev', '--http', '127.0.0.1:0', '--data', join(file, 'sub')])), /data directory/);
    // The cluster secret file: missing, too short, too many lines, without --cluster.
    const secret = (name, text) => { const f = join(dir, name); writeFileSync(f, text); return f; };
    const clustered = (f) => ['--dev', '--http', '127.0.0.1:0', '--data', join(dir, 'd'), '--cluster', '127.0.0.1:0', '--cluster-secret', f];
    assert.match(oneLineError(await runChatd(clustered(join(dir, 'no-such-secret')))), /--cluster-secret: cannot read/);
    assert.match(oneLineError(await runChatd(clustered(secret('short', 'tiny\n')))), /at least 16 bytes/);
    assert.match(oneLineError(await runChatd(clustered(secret('three', 'a'.repeat(16) + '\n' + 'b'.repeat(16) + '\n' + 'c'.repeat(16))))), /one secret per line/);
    assert.match(oneLineError(await runChatd(clustered(secret('empty', '\n')))), /one secret per line/);
    assert.match(oneLineError(await runChatd(['--dev', '--cluster-secret', secret('ok', 'x'.repeat(16))])), /--cluster-secret needs --cluster/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('without --dev and without auth, chatd refuses to start', async () => {
  const line = oneLineError(await runChatd(['--http', '127.0.0.1:0', '--data', tempDir()]));
  assert.match(line, /no authentication configured/);
});

test('a port in use is a one-line error', async () => {
  const node = await startNode();
  try {
    const line = oneLineError(await runChatd(['--dev', '--http', `127.0.0.1:${node.port}`, '--data', tempDir()]));
    assert.match(line, /cannot listen/);
  } finally {
    await node.stop();
    node.cleanup();
  }
});

test('--help prints the flags and exits 0', async () => {
  const r = await runChatd(['--help']);
  assert.equal(r.code, 0);
  for (const flag of ['--http', '--data', '--dev', '--node-id', '--log-level', '--heartbeat-ms', '--config', '--durability']) {
    assert.ok(r.stdout.includes(flag), flag);
  }
});

test('flags from a config file and from CHAT_* env vars', async () => {
  const dir = tempDir();
  const file = join(dir, 'chatd.toml');
  writeFileSync(file, 'node-id = "from-file"\nheartbeat-ms = 5000\n');
  const node = await startNode({ args: ['--config', file], env: { CHAT_DURABILITY: 'async' } });
  try {
    assert.match(node.log(), /node from-file listening/);
    assert.match(node.log(), /durability async/);
    const alice = await Client.connect(node.ws('alice'));
    await alice.join('cfg');
    const ack = await alice.request({ type: 'send', room: 'cfg', id: '1', body: 1 });
    const m = await alice.next('message');
    assert.deepEqual(m.vc, { 'from-file': ack.seq });
    alice.close();
  } finally {
    await node.stop();
    node.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('SIGTERM: stop accepting, close sockets with 1001, flush, exit 0', async () => {
  const node = await startNode();
  const clients = await Promise.all(['a', 'b', 'c'].map((u) => Client.connect(node.ws(u))));
  await clients[0].join('bye');
  await clients[0].request({ type: 'send', room: 'bye', id: 'last', body: 'x' });
  const exit = node.stop('SIGTERM');
  for (const c of clients) assert.equal((await c.closedWith()).code, 1001);
  assert.equal((await exit).code, 0);
  assert.match(node.log(), /store flushed/);
  // SIGINT behaves the same.
  const again = await startNode({ dataDir: node.dir });
  const r = await getJson(`${again.http}/api/rooms/bye/messages`);
  assert.equal(r.body.messages.length, 1);
  assert.equal((await again.stop('SIGINT')).code, 0);
  node.cleanup();
});

// A peer that stops answering: handshake by hand, then never read or pong.
function silentPeer(port) {
  return new Promise((resolve) => {
    const key = crypto.randomBytes(16).toString('base64');
    const s = net.connect(port, '127.0.0.1', () => {
      s.write(`GET /ws?user=silent HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    });
    const opened = Date.now();
    let head = '';
    s.on('data', (d) => (head += d.toString('latin1')));
    s.on('close', () => resolve({ head, after: Date.now() - opened }));
    s.on('error', () => {});
  });
}

test('a peer that misses two pongs is closed; a live one is kept', async () => {
  const hb = 200;
  const node = await startNode({ args: ['--heartbeat-ms', String(hb)] });
  try {
    const live = await Client.connect(node.ws('live')); // ws answers pings by itself
    const { head, after } = await silentPeer(node.port);
    assert.match(head, /^HTTP\/1\.1 101/);
    assert.ok(after >= 2 * hb && after < 10 * hb, `closed after ${after} ms`);
    assert.equal(live.closed, null);
    assert.equal((await live.request({ type: 'ping' })).type, 'pong');
    live.close();
  } finally {
    await node.stop();
    node.cleanup();
  }
});

test('log lines name the node and a correlation id; --log-format json writes one object per line', async () => {
  for (const format of ['json', 'text']) {
    const node = await startNode({ args: ['--node-id', 'logger-1', '--log-format', format, '--log-level', 'debug'] });
    try {
      const c = await Client.connect(node.ws('alice'));
      await c.join('log-room');
      const conn = (await getJson(`${node.http}/admin/api/connections?user=alice`)).body.connections[0].id;
      c.close();
      await new Promise((r) => setTimeout(r, 300));
      await node.stop();
      const lines = node.log().trim().split('\n');
      if (format === 'json') {
        const records = lines.map((l) => JSON.parse(l));
        for (const r of records) {
          assert.match(r.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
          assert.ok(['trace', 'debug', 'info', 'warning', 'error', 'critical'].includes(r.level), r.level);
          assert.equal(r.node, 'logger-1');
          assert.equal(typeof r.msg, 'string');
        }
        const connected = records.find((r) => r.msg.includes("'alice' connected"));
        assert.equal(connected?.cid, conn, 'the connection id of the admin API');
        assert.ok(records.some((r) => r.msg.startsWith('store flushed')));
      } else {
        const connected = lines.find((l) => l.includes("'alice' connected"));
        assert.match(connected, new RegExp(`^\\S+Z debug logger-1 \\[${conn}\\] ws: 'alice' connected$`));
      }
    } finally {
      await node.stop();
      node.cleanup();
    }
  }
});
