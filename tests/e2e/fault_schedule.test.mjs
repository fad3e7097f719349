// Randomized fault schedules against real `chatd` processes (ADR 8): a seeded
// schedule kills (-9) and restarts, pauses (SIGSTOP/SIGCONT) or gracefully
// restarts (SIGTERM) one node at a time while clients keep sending with retries
// through the others and then through the node that came back. A checker then
// verifies every room on every node. A failing run prints its seed; replay it with
//   FAULT_SEED=<seed> node --test tests/e2e/fault_schedule.test.mjs
// More schedules: FAULT_SCHEDULES=N (scripts/soak --processes N).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, history, metric, startCluster, roomOwners, sendAcked, viewsConverged } from './lib.mjs';

const SCHEDULES = Number(process.env.FAULT_SCHEDULES ?? 3);
const FIRST_SEED = Number(process.env.FAULT_SEED ?? Math.floor(Math.random() * 2 ** 31));
const STEPS = Number(process.env.FAULT_STEPS ?? 4);
const SENDS = 4; // per phase (while faulted, after)

// mulberry32: small, seeded, reproducible.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function joinRetry(client, room, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reply = await client.request({ type: 'join', room });
    if (reply.type === 'joined') return;
    if (reply.code !== 'unavailable' || Date.now() > deadline) throw new Error(`join ${room}: ${JSON.stringify(reply)}`);
    await sleep(reply.retry_after_ms ?? 100);
  }
}

/** The invariants; `acks` is every ack seen for the room, `histories` one per node. */
export function checkRoom(room, acks, histories) {
  const idAt = new Map();
  const seqOf = new Map();
  for (const { id, seq } of acks) {
    if (idAt.has(seq) && idAt.get(seq) !== id) throw new Error(`${room}: seq ${seq} acked for ${idAt.get(seq)} and ${id}`);
    if (seqOf.has(id) && seqOf.get(id) !== seq) throw new Error(`${room}: ${id} acked at ${seqOf.get(id)} and ${seq}`);
    idAt.set(seq, id);
    seqOf.set(id, seq);
  }
  const [first, ...rest] = histories;
  first.forEach((m, i) => { if (m.seq !== i + 1) throw new Error(`${room}: gap at ${i + 1}`); });
  if (new Set(first.map((m) => m.id)).size !== first.length) throw new Error(`${room}: an id stored twice`);
  for (const [id, seq] of seqOf) if (first[seq - 1]?.id !== id) throw new Error(`${room}: ${id} acked at ${seq}, stored: ${first[seq - 1]?.id}`);
  for (const h of rest) assert.deepEqual(h.map((m) => [m.seq, m.id]), first.map((m) => [m.seq, m.id]), `${room}: every node returns the same history`);
  // Vector clocks only grow along the log.
  for (let i = 1; i < first.length; ++i) {
    const [a, b] = [first[i - 1].vc ?? {}, first[i].vc ?? {}];
    for (const [node, n] of Object.entries(a)) if ((b[node] ?? 0) < n) throw new Error(`${room}: vc of seq ${i + 1} behind seq ${i}`);
  }
}

async function runSchedule(seed) {
  const random = rng(seed);
  const pick = (xs) => xs[Math.floor(random() * xs.length)];
  const cluster = await startCluster();
  const nodes = { 1: null, 2: null, 3: null }; // restarted handles (null: the supervisor's child)
  const pid = (k) => nodes[k]?.proc.pid ?? cluster.pids[`n${k}`];
  const wsUrl = (k, user) => nodes[k]?.ws(user) ?? cluster.ws(k, user);
  const httpUrl = (k) => nodes[k]?.http ?? cluster.http(k);
  // One room homed on each node, from the ring.
  const rooms = [];
  for (let k = 1; k <= 3; ++k)
    for (let i = 0; rooms.length < k; ++i)
      if (roomOwners(['n1', 'n2', 'n3'], `fs${seed}-${i}`, 1)[0] === `n${k}`) rooms.push(`fs${seed}-${i}`);
  const acks = new Map(rooms.map((r) => [r, []]));
  const log = [];
  let n = 0;
  const sendSome = async (k, tag) => {
    const c = await Client.connect(wsUrl(k, `u${k}-${tag}`));
    try {
      for (const room of rooms) await joinRetry(c, room);
      for (let i = 0; i < SENDS; ++i) {
        const room = pick(rooms);
        const id = `${tag}-${n++}`;
        acks.get(room).push({ id, seq: (await sendAcked(c, room, id, { seed })).seq });
      }
    } finally {
      c.close();
    }
  };
  const restart = async (k) => {
    const others = [1, 2, 3].filter((x) => x !== k);
    nodes[k] = await cluster.restart(k, k === 1 ? null : pick(others));
  };
  try {
    for (let step = 0; step < STEPS; ++step) {
      const k = 1 + Math.floor(random() * 3);
      const other = pick([1, 2, 3].filter((x) => x !== k));
      const action = pick(['kill', 'pause', 'term', 'none']);
      log.push(`${action} n${k}`);
      if (action === 'kill') {
        process.kill(pid(k), 'SIGKILL');
        if (nodes[k]) await nodes[k].exited;
        await sendSome(other, `s${step}k`);
        await restart(k);
      } else if (action === 'pause') {
        process.kill(pid(k), 'SIGSTOP');
        try {
          await sendSome(other, `s${step}p`);
          await sleep(Math.floor(random() * 2500)); // maybe past the failure timeout (1.5 s)
        } finally {
          process.kill(pid(k), 'SIGCONT');
        }
      } else if (action === 'term') {
        process.kill(pid(k), 'SIGTERM');
        if (nodes[k]) await nodes[k].exited;
        else await cluster.waitForExit(k);
        await sendSome(other, `s${step}t`);
        await restart(k);
      } else {
        await sendSome(other, `s${step}n`);
      }
      await sendSome(k, `s${step}b`); // through the node that was faulted, at once
    }
    // The histories are compared once every node sees all three: while views
    // still disagree a node may route a read to a home that has not yet learned it
    // was replaced (a stale read; docs/guarantees.md). Writes are fenced meanwhile.
    await viewsConverged(httpUrl);
    for (const room of rooms) {
      const histories = [];
      for (let k = 1; k <= 3; ++k) {
        histories.push(await history(httpUrl(k), room));
      }
      checkRoom(room, acks.get(room), histories);
    }
    return { log, acked: [...acks.values()].reduce((s, xs) => s + xs.length, 0) };
  } catch (err) {
    if (process.env.FAULT_DEBUG) {
      console.log(cluster.log());
      for (const [k, node] of Object.entries(nodes)) if (node) console.log(`--- restarted n${k}:\n${node.log()}`);
    }
    err.message = `seed ${seed} (schedule: ${log.join(', ')}): ${err.message}`;
    throw err;
  } finally {
    for (const k of [1, 2, 3]) try { process.kill(pid(k), 'SIGCONT'); } catch {}
    for (const node of Object.values(nodes)) if (node) await node.stop('SIGINT');
    await cluster.stop();
    cluster.cleanup();
  }
}

test(`${SCHEDULES} seeded fault schedules from seed ${FIRST_SEED}: no room:seq acked twice, every ack kept once at its seq, one history on every node`, async () => {
  console.log(`# fault schedules: seeds ${FIRST_SEED}..${FIRST_SEED + SCHEDULES - 1}, ${STEPS} steps each (FAULT_SEED to replay)`);
  console.log('# invariants: one id per acked seq; each acked id at its seq exactly once; seqs gap-free; same history on every node; vector clocks non-decreasing');
  for (let i = 0; i < SCHEDULES; ++i) {
    const { log, acked } = await runSchedule(FIRST_SEED + i);
    console.log(`# seed ${FIRST_SEED + i}: ${log.join(', ')}: ${acked} acks checked`);
  }
});
