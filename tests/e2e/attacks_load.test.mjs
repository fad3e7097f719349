// Load shapes that used to cost a node minutes of CPU or hundreds of MB:
// watchers of many users closing, a connection churning its watch list, and
// thousands of clients joining one room. Each prints the node's CPU seconds and
// how fast /healthz answered meanwhile; docs/benchmarks.md records the figures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withNode, Client, cpuSeconds, rssMiB, healthzMs, metric } from './lib.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Connects `n` clients (a few at a time, from several loopback addresses). */
async function connectMany(node, n, name) {
  const clients = [];
  for (let i = 0; i < n; i += 50) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 50); ++j)
      batch.push(Client.connect(node.ws(name(j)), { localAddress: `127.0.1.${1 + (j % 200)}` }));
    clients.push(...(await Promise.all(batch)));
  }
  return clients;
}

/** Waits until the node has used no CPU for a while; resolves the seconds used meanwhile. */
async function settle(pid, since) {
  let last = cpuSeconds(pid);
  for (let i = 0; i < 600; ++i) {
    await sleep(250);
    const now = cpuSeconds(pid);
    if (now - last < 0.02) break;
    last = now;
  }
  return cpuSeconds(pid) - since;
}

test('500 watchers of 1,000 users each close in milliseconds of CPU', async () => {
  await withNode({ args: ['--rate-limit', 'off', '--connect-rate-limit', 'off'] }, async (n) => {
    const pid = n.proc.pid;
    const W = Number(process.env.ATTACK_WATCHERS ?? 500); // smaller to time the old code
    const watchers = await connectMany(n, W, (i) => `watcher${i}`);
    // 1,000 distinct names per watcher, from a pool of 20,000 users.
    await Promise.all(watchers.map((c, i) =>
      c.request({ type: 'presence', users: Array.from({ length: 1000 }, (_, k) => `u${(i * 37 + k) % 20000}`) }, 60000)));
    await settle(pid, cpuSeconds(pid));
    const users = metric(await (await fetch(`${n.http}/metrics`)).text(), 'chat_presence_users');
    const cpu0 = cpuSeconds(pid);
    const started = Date.now();
    for (const c of watchers) c.close();
    await sleep(100);
    const healthDuring = await healthzMs(n.http);
    const joiner = await Client.connect(n.ws('newcomer'));
    const joinStarted = performance.now();
    await joiner.join('lobby');
    const joinMs = performance.now() - joinStarted;
    const cpu = await settle(pid, cpu0);
    console.log(`# ${W} watchers x 1000 names (${users} users held) closing: ${cpu.toFixed(2)} s of CPU ` +
                `(before the fix: 500+ s), settled after ${Date.now() - started} ms; ` +
                `/healthz ${healthDuring.toFixed(0)} ms and a join ${joinMs.toFixed(0)} ms meanwhile`);
    assert.ok(cpu < 3, `${cpu} s of CPU`); // 7 s before the fix, on this machine
    assert.ok(joinMs < 2000);
    joiner.close();
  });
});

test('a connection churning its watch list does not grow presence state', async () => {
  await withNode({}, async (n) => {
    const pid = n.proc.pid;
    const rss0 = rssMiB(pid);
    const cpu0 = cpuSeconds(pid);
    const c = await Client.connect(n.ws('churner'));
    let sent = 0;
    let limited = 0;
    const started = Date.now();
    // As fast as the rate limit allows, for 5 s: 1,000 fresh names each time.
    while (Date.now() - started < 5000) {
      const reply = await c.request({ type: 'presence', users: Array.from({ length: 1000 }, (_, k) => `fresh${sent}-${k}`) });
      if (reply.type === 'error') {
        assert.equal(reply.code, 'rate_limited');
        ++limited;
        await sleep(reply.retry_after_ms ?? 50);
      }
      ++sent;
    }
    await sleep(500);
    const users = metric(await (await fetch(`${n.http}/metrics`)).text(), 'chat_presence_users');
    const cpu = cpuSeconds(pid) - cpu0;
    const rss1 = rssMiB(pid);
    console.log(`# presence churn: ${sent} watch lists of 1000 fresh names in 5 s (${limited} rate-limited); ` +
                `${users} users held after (before the fix: every name for 60 s); RSS ${rss0.toFixed(0)} -> ` +
                `${rss1.toFixed(0)} MiB, ${cpu.toFixed(2)} s of CPU`);
    assert.ok(users <= 1001, `${users} users held`);
    c.close();
  });
});

// The node's CPU for `clients` clients joining rooms named by `room(i)`.
async function joinCost(n, clients, room) {
  const pid = n.proc.pid;
  const conns = await connectMany(n, clients, (i) => `m${i}`);
  await settle(pid, cpuSeconds(pid));
  const cpu0 = cpuSeconds(pid);
  let health = 0;
  const probe = (async () => {
    await sleep(50);
    health = await healthzMs(n.http);
  })();
  for (let i = 0; i < clients; i += 100)
    await Promise.all(conns.slice(i, i + 100).map((c, k) => c.join(room(i + k))));
  await probe;
  const cpu = await settle(pid, cpu0);
  for (const c of conns) c.close();
  return { cpu, health };
}

test('3,000 clients joining one room cost about what 3,000 rooms cost', async () => {
  const args = ['--rate-limit', 'off', '--connect-rate-limit', 'off'];
  let many;
  let one;
  await withNode({ args }, async (n) => (many = await joinCost(n, 3000, (i) => `room${i}`)));
  await withNode({ args }, async (n) => (one = await joinCost(n, 3000, () => 'big')));
  console.log(`# 3000 joins: ${many.cpu.toFixed(2)} s of CPU into 3000 rooms, ${one.cpu.toFixed(2)} s into one room ` +
              `(before the fix: 21 s); /healthz ${many.health.toFixed(0)} / ${one.health.toFixed(0)} ms meanwhile`);
  assert.ok(one.cpu < Math.max(3 * many.cpu, 2), `one room: ${one.cpu} s, many rooms: ${many.cpu} s`);
});

test('a big room sends coalesced `members` events; a small one `member` events', async () => {
  await withNode({ args: ['--rate-limit', 'off', '--connect-rate-limit', 'off'] }, async (n) => {
    const watcher = await Client.connect(n.ws('watcher'));
    await watcher.join('hall');
    const first = await connectMany(n, 99, (i) => `early${i}`);
    await Promise.all(first.map((c) => c.join('hall')));
    const singles = await watcher.take(99, 'member');
    assert.ok(singles.every((m) => m.event === 'join'));
    // The 101st user and beyond: one `members` event per second.
    const late = await connectMany(n, 150, (i) => `late${i}`);
    await Promise.all(late.map((c) => c.join('hall')));
    late[0].close();
    // The members as the watcher learns them: every late user but late0, who left.
    const known = new Set();
    const want = late.slice(1).map((_, i) => `late${i + 1}`);
    while (!want.every((u) => known.has(u)) || known.has('late0')) {
      const ev = await watcher.next('members', 5000);
      for (const u of ev.joined) known.add(u);
      for (const u of ev.left) known.delete(u);
    }
    assert.ok(await watcher.quiet('member', 300), 'no single member events in a big room');
    const again = await Client.connect(n.ws('late-joiner'));
    const j = await again.join('hall');
    assert.equal(j.members.length, 1 + 99 + 149 + 1);
    for (const c of [watcher, again, ...first, ...late]) c.close();
  });
});
