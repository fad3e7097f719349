// Fault tolerance across real `chatd` processes (ADR 8, --replication 2): kill -9
// of a room's home while a client keeps sending, then the node's return on its
// data dir. Every acked message must be kept exactly once at its acked seq, no
// seq acked for two ids, and every node must return the same history.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, checkAcked as check, history, metric, startCluster, roomHomedOn, roomOnN3, roomOwners, sendAcked } from './lib.mjs';

const waitFor = async (pred, what, timeoutMs = 20000) => {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

// Joins `room`, retrying while the room is unavailable (its node is taking it over).
const joinRetry = async (client, room, timeoutMs = 20000) => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reply = await client.request({ type: 'join', room });
    if (reply.type === 'joined') return reply;
    if (reply.code !== 'unavailable' || Date.now() > deadline) throw new Error(`join failed: ${JSON.stringify(reply)}`);
    await new Promise((r) => setTimeout(r, reply.retry_after_ms ?? 100));
  }
};

test("kill -9 of a room's home during a send stream, then its return: nothing acked is lost, no seq acked twice", async () => {
  const cluster = await startCluster();
  let n3;
  try {
    const a = await Client.connect(cluster.ws(1, 'ann'));
    const room = await roomHomedOn(cluster, 3, a, 'ft');
    const acks = [{ id: 'probe', seq: 1 }];
    let i = 0;
    const send = async (client) => {
      const id = `m-${i++}`;
      const ack = await sendAcked(client, room, id);
      acks.push({ id, seq: ack.seq });
      return ack;
    };
    // A stream of sends that does not stop for the crash.
    const stream = (async () => {
      while (i < 60) await send(a);
    })();
    await waitFor(() => acks.length > 15, 'the first acks');
    const killedAt = Date.now();
    const ackedBefore = acks.length;
    process.kill(cluster.pids.n3, 'SIGKILL');
    await waitFor(() => acks.length > ackedBefore + 1, 'an ack after the crash', 30000);
    const failoverMs = Date.now() - killedAt;
    await stream;
    console.log(`# failover: first ack ${failoverMs} ms after kill -9 of the room's home`);
    check(acks, [await history(cluster.http(1), room), await history(cluster.http(2), room)]);
    const survivors = [];
    for (const k of [1, 2]) survivors.push(await (await fetch(`${cluster.http(k)}/metrics`)).text());
    const total = (name) => survivors.reduce((n, text) => n + metric(text, name), 0);
    assert.ok(total('chat_room_takeovers_total') >= 1, 'the take-over is counted');
    assert.ok(total('chat_replication_batches_total') >= 1, 'replicated appends are counted');
    assert.ok(total('chat_replication_lag_seconds') > 0, 'the newest batch\'s replica lag is shown');
    assert.equal(total('chat_replication_lag_records'), 0, 'nothing waits for a replica once the stream is acked');
    assert.equal(metric(survivors[0], 'chat_cluster_members'), 3);
    assert.equal(metric(survivors[0], 'chat_cluster_nodes_up'), 2);

    // n3 returns on its data dir, becomes the room's home again and takes the
    // log over from the replicas (its own copy lacks what was acked meanwhile).
    n3 = await cluster.restart(3, 1);
    await waitFor(() => /view of n3 is 3 node/.test(n3.log()), "n3's view of 3 nodes");
    const c = await Client.connect(n3.ws('cat'));
    await c.join(room);
    for (let k = 0; k < 10; ++k) await send(c);
    const histories = [];
    for (const base of [cluster.http(1), cluster.http(2), n3.http]) histories.push(await history(base, room));
    check(acks, histories);
    assert.equal(histories[0].length, 71);
    a.close();
    c.close();
  } finally {
    if (n3) await n3.stop('SIGINT');
    await cluster.stop();
    cluster.cleanup();
  }
});

// Three nodes with R = 2: the home pauses. Five with R = 3: the home and a
// second of the room's three nodes pause, and the other three go on (a
// take-over reaches N - R + 1 = 3 nodes); both resumed nodes are stale.
for (const { nodes, replication } of [{ nodes: 3, replication: 2 }, { nodes: 5, replication: 3 }]) {
test(`SIGSTOP of a room's home past the failure timeout, sends elsewhere, SIGCONT and sends through it at once (${nodes} nodes, R = ${replication}): one history, no seq acked twice`, async () => {
  const cluster = await startCluster({ nodes, args: ['--dev', '--replication', String(replication)] });
  let paused = [];
  try {
    const { a, c, room, acks, send } = await roomOnN3(cluster, 'pause');
    const all = Array.from({ length: nodes }, (_, k) => `n${k + 1}`);
    const owners = roomOwners(all, room, replication);
    assert.equal(owners[0], 'n3', 'the ring in JS agrees with the probe');
    // ann's node (n1) stays up: she sends through the pause.
    paused = owners.filter((id) => id !== 'n1').slice(0, replication - 1);
    for (let i = 0; i < 5; ++i) await send(a, `before-${i}`);
    for (const id of paused) process.kill(cluster.pids[id], 'SIGSTOP');
    const pausedAt = Date.now();
    await send(a, 'during-0');
    console.log(`# failover: first ack ${Date.now() - pausedAt} ms after SIGSTOP of ${paused.join(' and ')} (${nodes} nodes, R = ${replication})`);
    for (let i = 1; i < 5; ++i) await send(a, `during-${i}`);
    await new Promise((r) => setTimeout(r, 2000)); // well past --failure-timeout-ms 1500
    for (const id of paused) process.kill(cluster.pids[id], 'SIGCONT');
    // Through the resumed home at once (it may answer `unavailable` first), and elsewhere.
    await Promise.all([
      (async () => { for (let i = 0; i < 5; ++i) await send(c, `resumed-${i}`); })(),
      (async () => { for (let i = 0; i < 5; ++i) await send(a, `after-${i}`); })(),
    ]);
    const histories = [];
    for (let k = 1; k <= nodes; ++k) histories.push(await history(cluster.http(k), room));
    check(acks, histories);
    assert.equal(histories[0].length, 21);
    a.close();
    c.close();
  } finally {
    for (const id of paused) try { process.kill(cluster.pids[id], 'SIGCONT'); } catch {}
    await cluster.stop();
    cluster.cleanup();
  }
});
}

test('kill -9 of each node in turn, each restarted on its data dir with its own command line (n1 without --join): every acked message stays', async () => {
  const cluster = await startCluster();
  const restarted = {};
  const http = (k) => restarted[k]?.http ?? cluster.http(k);
  const ws = (k, user) => restarted[k]?.ws(user) ?? cluster.ws(k, user);
  try {
    // One room homed on each node.
    const setup = await Client.connect(cluster.ws(1, 'setup'));
    const rooms = [];
    for (let k = 1; k <= 3; ++k) rooms.push(await roomHomedOn(cluster, k, setup, `turn${k}-`));
    setup.close();
    const acks = new Map(rooms.map((r) => [r, [{ id: 'probe', seq: 1 }]]));
    const sendAll = async (client, tag) => {
      for (const room of rooms) {
        await joinRetry(client, room);
        for (let i = 0; i < 5; ++i) {
          const id = `${tag}-${i}`;
          acks.get(room).push({ id, seq: (await sendAcked(client, room, id)).seq });
        }
      }
    };
    for (let k = 1; k <= 3; ++k) {
      const other = (k % 3) + 1;
      process.kill(restarted[k]?.proc.pid ?? cluster.pids[`n${k}`], 'SIGKILL');
      if (restarted[k]) await restarted[k].exited;
      const w = await Client.connect(ws(other, `w${k}`));
      await sendAll(w, `down${k}`);
      w.close();
      // Sends through the restarted node at once: until it reaches the others
      // again it must not write (it answers `unavailable`; sendAcked retries).
      restarted[k] = await cluster.restart(k, k === 1 ? null : other);
      const c = await Client.connect(ws(k, `c${k}`));
      await sendAll(c, `back${k}`);
      c.close();
    }
    for (const room of rooms) {
      const histories = [];
      for (let k = 1; k <= 3; ++k) histories.push(await history(http(k), room));
      check(acks.get(room), histories);
      assert.equal(histories[0].length, 31, room);
    }
  } finally {
    for (const node of Object.values(restarted)) await node.stop('SIGINT');
    await cluster.stop();
    cluster.cleanup();
  }
});

test("a node leaving gracefully leaves every room it kept with R copies: kill -9 of the room's new home right after loses nothing", async () => {
  const cluster = await startCluster({ nodes: 4 });
  try {
    const a = await Client.connect(cluster.ws(1, 'ann'));
    const room = await roomHomedOn(cluster, 4, a, 'lv');
    const acks = [{ id: 'probe', seq: 1 }];
    for (let i = 0; i < 6; ++i) acks.push({ id: `m-${i}`, seq: (await sendAcked(a, room, `m-${i}`)).seq });
    await a.request({ type: 'leave', room }); // idle: nothing re-activates it by itself
    a.close();
    process.kill(cluster.pids.n4, 'SIGTERM');
    await waitFor(() => /handover: \d+ of \d+ room\(s\) moved/.test(cluster.log()), 'the handover');
    assert.match(await cluster.waitForExit(4), /exited with 0/);
    // The room's new home, from the ring (a probe would activate the room and
    // so repair it): it is killed before anything touches the room.
    assert.equal(roomOwners(['n1', 'n2', 'n3', 'n4'], room, 1)[0], 'n4', 'the ring in JS agrees with the probe');
    const home = Number(roomOwners(['n1', 'n2', 'n3'], room, 1)[0].slice(1));
    process.kill(cluster.pids[`n${home}`], 'SIGKILL');
    const others = [1, 2, 3].filter((k) => k !== home);
    const c = await Client.connect(cluster.ws(others[0], 'cat'));
    await joinRetry(c, room);
    acks.push({ id: 'last', seq: (await sendAcked(c, room, 'last')).seq });
    c.close();
    const histories = [];
    for (const k of others) histories.push(await history(cluster.http(k), room));
    check(acks, histories);
    assert.equal(histories[0].length, 8);
  } finally {
    await cluster.stop();
    cluster.cleanup();
  }
});
