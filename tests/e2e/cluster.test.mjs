// `chatd cluster --nodes 3` as separate processes, npm `ws` clients on every node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Client, runChatd, startCluster, metric, roomHomedOn, sendAcked, tempDir } from './lib.mjs';

const sum = async (cluster, line) => {
  let total = 0;
  for (let k = 1; k <= 3; ++k) total += metric(await (await fetch(`${cluster.http(k)}/metrics`)).text(), line);
  return total;
};

test('three processes: chat across nodes in order, typing and presence cross, one copy per node', async () => {
  const cluster = await startCluster();
  try {
    // One member set, decided by the membership log, is counted on every node.
    const sets = [];
    for (let k = 1; k <= 3; ++k) {
      const text = await (await fetch(`${cluster.http(k)}/metrics`)).text();
      assert.equal(metric(text, 'chat_cluster_members'), 3);
      sets.push(metric(text, 'chat_cluster_member_set'));
    }
    assert.ok(sets[0] > 0, 'a member set from the log');
    assert.deepEqual(sets, [sets[0], sets[0], sets[0]], 'the same member set on every node');
    const clients = [];
    for (let k = 1; k <= 3; ++k) clients.push(await Client.connect(cluster.ws(k, `user${k}`)));
    const rooms = ['alpha', 'beta', 'gamma', 'delta'];
    for (const c of clients) for (const r of rooms) await c.join(r);
    const before = { msgs: await sum(cluster, 'chat_room_messages_total'), remote: await sum(cluster, 'chat_relay_messages_total{to="remote"}') };
    const perClient = 10;
    for (let i = 0; i < perClient; ++i)
      for (const [k, c] of clients.entries())
        for (const r of rooms) c.send({ type: 'send', room: r, id: `${k}-${i}`, body: { i } });
    const total = perClient * clients.length;
    for (const r of rooms) {
      const seen = [];
      for (const c of clients) {
        const ms = await c.take(total, (f) => f.type === 'message' && f.room === r, 30000);
        assert.deepEqual(ms.map((m) => m.seq), Array.from({ length: total }, (_, i) => i + 1), `gap-free in ${r}`);
        seen.push(ms.map((m) => m.id).join(','));
      }
      assert.equal(new Set(seen).size, 1, `everyone sees the same order in ${r}`);
      assert.equal(new Set(seen[0].split(',')).size, total, 'each message once');
    }
    // Members on all three nodes: each room message crosses to the two other nodes, once each.
    const msgs = (await sum(cluster, 'chat_room_messages_total')) - before.msgs;
    const remote = (await sum(cluster, 'chat_relay_messages_total{to="remote"}')) - before.remote;
    assert.equal(msgs, total * rooms.length);
    assert.equal(remote, 2 * msgs, 'inter-node messages per room message = other nodes with members');

    // Typing crosses nodes; presence too.
    clients[0].send({ type: 'typing', room: 'alpha' });
    assert.equal((await clients[2].next((f) => f.type === 'typing' && f.room === 'alpha')).user, 'user1');
    const watch = await clients[0].request({ type: 'presence', users: ['user3', 'zed'] });
    assert.deepEqual(watch.users, { user3: 'online', zed: 'offline' });
    const zed = await Client.connect(cluster.ws(2, 'zed'));
    assert.equal((await clients[0].next((f) => f.type === 'presence' && f.user === 'zed')).status, 'online');
    zed.close();
    assert.equal((await clients[0].next((f) => f.type === 'presence' && f.user === 'zed')).status, 'offline');
    for (const c of clients) c.close();
  } finally {
    const { code } = await cluster.stop();
    assert.equal(code, 0, cluster.log().slice(-2000));
    cluster.cleanup();
  }
});

test('a node leaving gracefully (SIGTERM) hands its rooms over: no acknowledged message is lost', async () => {
  const cluster = await startCluster();
  try {
    const a = await Client.connect(cluster.ws(1, 'ann'));
    const b = await Client.connect(cluster.ws(2, 'ben'));
    // A room whose home is n3: its log is the one that moves.
    const room = await roomHomedOn(cluster, 3, a, 'leave');
    await b.join(room, 1);
    // Sends until acknowledged; while the room moves they may get `unavailable`.
    const send = (client, id) => sendAcked(client, room, id);
    for (let i = 0; i < 10; ++i) await send(i % 2 ? a : b, `before-${i}`);
    process.kill(cluster.pids.n3, 'SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    for (let i = 0; i < 10; ++i) await send(i % 2 ? a : b, `after-${i}`);
    // ann has the probe (seq 1) and everything after; ben joined after it.
    for (const [c, first] of [[a, 1], [b, 2]]) {
      const n = 22 - first;
      const ms = await c.take(n, (f) => f.type === 'message' && f.room === room, 30000);
      assert.deepEqual(ms.map((m) => m.seq), Array.from({ length: n }, (_, i) => i + first), 'gap-free, once each');
      assert.equal(ms.at(-1).id, 'after-9');
      assert.ok(await c.quiet((f) => f.type === 'message' && f.room === room, 300), 'nothing repeated');
    }
    // Every room n3 stored moved (the probe may have left more than one there).
    const [, moved, held] = cluster.log().match(/handover: (\d+) of (\d+) room\(s\) moved/) ?? [];
    assert.ok(Number(moved) >= 1 && moved === held, `handover line: ${moved} of ${held}`);
    a.close();
    b.close();
  } finally {
    await cluster.stop();
    cluster.cleanup();
  }
});

test('chatd cluster: bad flags are refused with a clear message', async () => {
  const { runChatd } = await import('./lib.mjs');
  for (const [args, pattern] of [
    [['cluster', '--nodes', '0'], /--nodes/],
    [['cluster', '--nodes', '3', '--http-base', '65534'], /http-base/],
    [['cluster', '--nodes', 'three'], /--nodes/],
    [['cluster', '--http-base', '9000', '--cluster-base', '9001'], /overlap/],
    [['cluster', '--node-id', 'x'], /set per node/],
    [['--join', '127.0.0.1:9001', '--dev'], /--join needs --cluster/],
    [['--cluster', 'nonsense', '--dev'], /--cluster/],
    [['--cluster', '127.0.0.1:0', '--cluster-heartbeat-ms', '1000', '--failure-timeout-ms', '1500', '--dev'], /failure-timeout/],
  ]) {
    const r = await runChatd(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, pattern, args.join(' '));
  }
});

test('cluster-members: a node restarted without --join counts the members it knew (down) and writes nothing alone; a bad line is reported and skipped', async () => {
  const { startNode, tempDir } = await import('./lib.mjs');
  const { writeFileSync } = await import('node:fs');
  const dir = tempDir();
  writeFileSync(`${dir}/cluster-members`, 'garbage\nn2 127.0.0.1:1\n');
  const node = await startNode({ dataDir: dir, args: ['--node-id', 'n1', '--cluster', '127.0.0.1:0'] });
  try {
    assert.match(node.log(), /cluster-members line 1 ignored \(want "ID HOST:PORT"\): 'garbage'/);
    const text = await (await fetch(`${node.http}/metrics`)).text();
    assert.equal(metric(text, 'chat_cluster_members'), 2);
    assert.equal(metric(text, 'chat_cluster_nodes_up'), 1);
    const c = await Client.connect(node.ws('ann'));
    const reply = await c.request({ type: 'join', room: 'alone' });
    assert.equal(reply.code, 'unavailable', 'one of two members is not a majority');
    assert.ok(reply.retry_after_ms > 0);
    c.close();
  } finally {
    await node.stop();
    node.cleanup();
  }
});

test('--cluster-secret: the cluster forms; a node with another secret is refused at the join and never becomes a member', async () => {
  const dir = tempDir();
  const file = (name, text) => { const f = join(dir, name); writeFileSync(f, text); return f; };
  const cluster = await startCluster({ nodes: 2, args: ['--dev', '--cluster-secret', file('secret', 'the-cluster-secret-0123456789\n')] });
  try {
    const stray = await cluster.tryJoin(join(dir, 'stray'), ['--cluster-secret', file('wrong', 'another-secret-0123456789\n')]);
    assert.equal(stray.code, 2);
    assert.match(stray.stderr, /does not know the cluster secret/);
    assert.match(cluster.log(), /refused .*does not know the cluster secret/);
    assert.equal(await cluster.members(1), 2);
  } finally {
    await cluster.stop();
    cluster.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});
