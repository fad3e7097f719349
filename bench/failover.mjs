#!/usr/bin/env node
// Failover time (ADR 8): KILLS times, a fresh `chatd cluster --nodes 3` (fsync,
// --replication 2, failure timeout 1,500 ms), a client on n1 sending to a room
// homed on n3 with retries; kill -9 of n3; the time from the kill to the first ack.
// Then the same with SIGSTOP instead of kill -9. Prints each sample and p50/p99.
//   node bench/failover.mjs            # 20 of each
//   KILLS=5 SIGNALS=SIGKILL node bench/failover.mjs
import { readFileSync } from 'node:fs';
import { Client, startCluster, roomHomedOn, sendAcked } from '../tests/e2e/lib.mjs';

const KILLS = Number(process.env.KILLS ?? 20);

async function once(signal) {
  const cluster = await startCluster();
  try {
    const a = await Client.connect(cluster.ws(1, 'ann'));
    const room = await roomHomedOn(cluster, 3, a, 'fo');
    for (let i = 0; i < 5; ++i) await sendAcked(a, room, `warm-${i}`);
    const t0 = Date.now();
    process.kill(cluster.pids.n3, signal);
    // Only once the signal took effect: gone (reaped), or stopped ('T' in /proc).
    const stateOf = (pid) => { try { return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1][0]; } catch { return 'gone'; } };
    while (!['gone', 'Z', 'T'].includes(stateOf(cluster.pids.n3))) await new Promise((r) => setTimeout(r, 1));
    await sendAcked(a, room, 'after');
    const ms = Date.now() - t0;
    a.close();
    return ms;
  } finally {
    try { process.kill(cluster.pids.n3, 'SIGCONT'); } catch {}
    await cluster.stop().catch(() => {});
    cluster.cleanup();
  }
}

const pct = (xs, p) => xs[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];
for (const signal of (process.env.SIGNALS ?? 'SIGKILL,SIGSTOP').split(',')) {
  const xs = [];
  for (let i = 0; i < KILLS; ++i) {
    xs.push(await once(signal));
    process.stderr.write(`${signal} ${i + 1}/${KILLS}: ${xs.at(-1)} ms\n`);
  }
  xs.sort((a, b) => a - b);
  console.log(JSON.stringify({ scenario: 'failover', signal, runs: KILLS, p50_ms: pct(xs, 50), p99_ms: pct(xs, 99), max_ms: xs.at(-1), failure_timeout_ms: 1500 }));
}
