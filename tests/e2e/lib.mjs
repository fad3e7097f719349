// Helpers for end-to-end tests: start real chatd processes on loopback and
// drive them with the npm `ws` client.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';

export const CHATD =
  process.env.CHATD ?? new URL('../../build/bin/chatd', import.meta.url).pathname;

export function tempDir() {
  return mkdtempSync(join(tmpdir(), 'chatd-e2e-'));
}

/**
 * The threads' stacks of a running process (gdb, when installed), so a test
 * that finds a node hung says where, not only that it timed out.
 */
export function stacksOf(pid) {
  const r = spawnSync('gdb', ['-p', String(pid), '-batch', '-nx', '-ex', 'thread apply all bt 12'],
    { encoding: 'utf8', timeout: 30000 });
  if (r.error) return `(no stacks: ${r.error.message})`;
  return r.stdout.split('\n').filter((l) => /^(Thread|#)/.test(l)).join('\n');
}

/**
 * Waits up to `ms` for `exited`; past that, prints the stacks of `pids`, kills
 * them and the process, and throws, so a hang at shutdown fails the test that
 * caused it with the reason instead of timing out the whole file.
 */
async function exitWithin(proc, exited, ms, pids, what, log) {
  let timer;
  const late = new Promise((resolve) => { timer = setTimeout(() => resolve('late'), ms); });
  const result = await Promise.race([exited, late]);
  clearTimeout(timer);
  if (result !== 'late') return result;
  const running = pids.filter(([, pid]) => { try { process.kill(pid, 0); return true; } catch { return false; } });
  const stacks = running.map(([id, pid]) => `--- ${id} (pid ${pid}) ---\n${stacksOf(pid)}`).join('\n');
  for (const [, pid] of running) process.kill(pid, 'SIGKILL');
  proc.kill('SIGKILL');
  await exited;
  throw new Error(`${what} did not stop within ${ms / 1000} s (still running: ${running.map(([id]) => id).join(', ')}):\n` +
    `${log().slice(-3000)}\n${stacks}`);
}

/** Runs chatd to completion (for flag errors); resolves {code, stdout, stderr}. */
export function runChatd(args, options = {}) {
  return runProgram(CHATD, args, options);
}

/**
 * Runs `binary` to its end; resolves {code, stdout, stderr}. `cleanEnv`: only
 * PATH and `env`, so that nothing of the caller's environment (CHAT_URL, say)
 * leaks in.
 */
export function runProgram(binary, args, { env = {}, timeoutMs = 10000, cleanEnv = false } = {}) {
  const name = binary.split('/').at(-1);
  return new Promise((resolve, reject) => {
    const base = cleanEnv ? { PATH: process.env.PATH } : process.env;
    const proc = spawn(binary, args, { env: { ...base, ...env } });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => (stdout += d));
    proc.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${name} ${args.join(' ')} did not exit`));
    }, timeoutMs);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Starts a dev node on a free loopback port. `dataDir` defaults to a fresh temp
 * dir. Resolves once the node logs its address.
 */
export async function startNode({ dataDir, args = [], env = {}, dev = true, tls = false, port: fixedPort = 0, nofile } = {}) {
  const dir = dataDir ?? tempDir();
  const argv = [...(dev ? ['--dev'] : []), '--http', `127.0.0.1:${fixedPort}`, '--data', dir, ...args];
  // `nofile`: run under that descriptor limit (the shell execs chatd: same pid).
  const proc = nofile === undefined
    ? spawn(CHATD, argv, { env: { ...process.env, ...env } })
    : spawn('/bin/sh', ['-c', `ulimit -n ${nofile} && exec "$0" "$@"`, CHATD, ...argv], { env: { ...process.env, ...env } });
  let log = '';
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`chatd did not start:\n${log}`)), 10000);
    const onData = (d) => {
      log += d;
      const m = /listening on https?:\/\/127\.0\.0\.1:(\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    proc.stderr.on('data', onData);
    proc.stdout.on('data', onData);
    exited.then(({ code }) => reject(new Error(`chatd exited with ${code}:\n${log}`)));
  });
  return {
    proc,
    port,
    dir,
    exited,
    log: () => log,
    http: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    ws: (user) => `${tls ? 'wss' : 'ws'}://127.0.0.1:${port}/ws?user=${encodeURIComponent(user)}`,
    /** Graceful stop; resolves the exit status. A node still running after 20 s is killed and the call throws. */
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exitWithin(proc, exited, 20000, [['chatd', proc.pid]], 'chatd', () => log);
    },
    /** Abrupt stop, as a crash. */
    async kill9() {
      proc.kill('SIGKILL');
      return exited;
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs `fn(node)` against a fresh node (startNode's options), then stops and removes it. */
export async function withNode(opts, fn) {
  const node = await startNode(opts);
  try {
    return await fn(node);
  } finally {
    await node.stop();
    node.cleanup();
  }
}

/** A WebSocket client that buffers every JSON frame for the test to pick from. */
export class Client {
  static connect(url, options = {}) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, options);
      const client = new Client(ws);
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, body })));
      });
      ws.once('error', reject);
    });
  }

  constructor(ws) {
    this.ws = ws;
    this.frames = [];
    this.waiters = [];
    this.closed = null;
    ws.on('message', (data, isBinary) => {
      this.frames.push(isBinary ? { binary: data } : JSON.parse(data.toString()));
      this.#wake();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.#wake();
    });
    ws.on('error', () => {});
  }

  #wake() {
    for (const w of this.waiters.splice(0)) w();
  }

  send(frame) {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Resolves the first buffered frame matching `pred` (a type name or function), removing it. */
  async next(pred = () => true, timeoutMs = 10000) {
    const match = typeof pred === 'string' ? (f) => f.type === pred : pred;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.frames.findIndex(match);
      if (i >= 0) return this.frames.splice(i, 1)[0];
      if (this.closed) throw new Error(`closed (${this.closed.code}) while waiting; buffered: ${JSON.stringify(this.frames).slice(0, 500)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching frame within ${timeoutMs} ms; buffered: ${JSON.stringify(this.frames).slice(0, 500)}`);
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
  }

  /** Resolves `n` frames matching `pred`, in arrival order. */
  async take(n, pred, timeoutMs = 20000) {
    const out = [];
    const deadline = Date.now() + timeoutMs;
    while (out.length < n) out.push(await this.next(pred, Math.max(1, deadline - Date.now())));
    return out;
  }

  /** Sends a command and resolves its reply (matched on `ref`). */
  async request(frame, timeoutMs = 10000) {
    const ref = `r${++Client.refs}`;
    this.send({ ...frame, ref });
    return this.next((f) => f.ref === ref, timeoutMs);
  }

  async join(room, since) {
    const reply = await this.request(since === undefined ? { type: 'join', room } : { type: 'join', room, since });
    if (reply.type !== 'joined') throw new Error(`join failed: ${JSON.stringify(reply)}`);
    return reply;
  }

  /** Resolves {code, reason} once the server closes the connection. */
  async closedWith(timeoutMs = 10000) {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('connection still open');
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
    return this.closed;
  }

  /** True when no frame matching `pred` arrives within `ms`. */
  async quiet(pred = () => true, ms = 300) {
    await new Promise((r) => setTimeout(r, ms));
    return !this.frames.some(typeof pred === 'string' ? (f) => f.type === pred : pred);
  }

  close() {
    this.ws.close();
  }
}
Client.refs = 0;

export async function getJson(url, options) {
  const res = await fetch(url, options);
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body, headers: res.headers };
}

/** A free TCP port base with `n` consecutive free ports on 127.0.0.1. */
export async function freePortBase(n) {
  const { createServer } = await import('node:net');
  const free = (port) =>
    new Promise((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
  for (let attempt = 0; attempt < 50; ++attempt) {
    // Below the kernel's ephemeral range (32768–60999): an outgoing connection
    // (the nodes dial each other) can otherwise take a port between check and listen.
    const base = 20000 + Math.floor(Math.random() * (12700 - n));
    let ok = true;
    for (let i = 0; i < n && ok; ++i) ok = await free(base + i);
    if (ok) return base;
  }
  throw new Error('no free port range');
}

/**
 * How long a SIGTERM'd node may take to exit: the handover may wait 20 s
 * (membership::leave), the last actors 10 s after the flush (chatd's exit
 * grace); then a margin.
 */
export const TERM_EXIT_MS = 40000;

/**
 * `chatd cluster --nodes N` with free ports; resolves once every node sees all
 * N members and every member repaired after the growth (waitForCopies). Returns the nodes' URLs and pids and a stop().
 */
export async function startCluster({ nodes = 3, args = ['--dev'], dataDir } = {}) {
  const dir = dataDir ?? tempDir();
  // One range for both: two independent draws can overlap, which chatd refuses.
  const httpBase = await freePortBase(2 * nodes);
  const clusterBase = httpBase + nodes;
  const proc = spawn(CHATD, ['cluster', '--nodes', String(nodes), '--http-base', String(httpBase),
    '--cluster-base', String(clusterBase), '--data', dir, '--cluster-heartbeat-ms', '200',
    '--failure-timeout-ms', '1500', ...args]);
  let log = '';
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const onData = (d) => (log += d);
  proc.stdout.on('data', onData);
  proc.stderr.on('data', onData);
  const deadline = Date.now() + 20000;
  const complete = () => {
    for (let k = 1; k <= nodes; ++k)
      if (!new RegExp(`view of n${k} is ${nodes} node`).test(log)) return false;
    return (log.match(/listening on http/g) ?? []).length >= nodes;
  };
  while (!complete()) {
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`cluster did not form:\n${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const pids = [...log.matchAll(/node (n\d+): .* pid (\d+)\)/g)].reduce((m, x) => ({ ...m, [x[1]]: Number(x[2]) }), {});
  const cluster = {
    proc,
    dir,
    pids,
    log: () => log,
    http: (k) => `http://127.0.0.1:${httpBase + k - 1}`,
    cluster: (k) => `127.0.0.1:${clusterBase + k - 1}`,
    ws: (k, user) => `ws://127.0.0.1:${httpBase + k - 1}/ws?user=${encodeURIComponent(user)}`,
    /**
     * Starts node k again on its data dir, as its own process (the cluster's
     * supervisor only starts nodes once), joining through node `via` (none: as
     * the cluster's first node was started, without --join). Stop it yourself.
     */
    restart(k, via) {
      const join = via ? ['--join', `127.0.0.1:${clusterBase + via - 1}`] : [];
      return startNode({
        dataDir: `${dir}/n${k}`,
        port: httpBase + k - 1,
        args: [...args, '--node-id', `n${k}`, '--cluster', `127.0.0.1:${clusterBase + k - 1}`,
          ...join, '--cluster-heartbeat-ms', '200', '--failure-timeout-ms', '1500'],
        dev: false,
      });
    },
    /**
     * A stranger (node n9, data in `dataDir`) tries to join through node 1
     * with `flags`; resolves {code, stdout, stderr} once it gives up and exits.
     */
    tryJoin(dataDir, flags = [], timeoutMs = 30000) {
      return runChatd(['--dev', '--http', '127.0.0.1:0', '--data', dataDir, '--node-id', 'n9',
        '--cluster', '127.0.0.1:0', '--join', `127.0.0.1:${clusterBase}`, '--cluster-heartbeat-ms', '200',
        '--failure-timeout-ms', '1500', ...flags], { timeoutMs });
    },
    /**
     * Resolves with node k's exit line once the supervisor saw it exit; names
     * the node's last log lines when it does not within `timeoutMs` (default:
     * SIGTERM's bound, TERM_EXIT_MS).
     */
    async waitForExit(k, timeoutMs = TERM_EXIT_MS) {
      const deadline = Date.now() + timeoutMs;
      const exit = new RegExp(`node n${k} exited with .*`);
      for (;;) {
        const line = log.match(exit);
        if (line) return line[0];
        if (Date.now() > deadline) {
          const own = log.split('\n').filter((l) => l.includes(` n${k} `));
          throw new Error(`n${k} did not exit within ${timeoutMs / 1000} s; its last lines:\n${own.slice(-25).join('\n')}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    /**
     * Resolves once every node of 1..`upTo` says every member repaired after the
     * cluster grew from fewer than R (`chat_cluster_short_copies` 0): before, a
     * take-over asks every member, and a failure makes rooms unavailable.
     */
    async waitForCopies(upTo = nodes, timeoutMs = 20000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        let short = 0;
        for (let k = 1; k <= upTo; ++k)
          short += metric(await (await fetch(`http://127.0.0.1:${httpBase + k - 1}/metrics`)).text(), 'chat_cluster_short_copies');
        if (short === 0) return;
        if (Date.now() > deadline) throw new Error(`rooms still short of copies after ${timeoutMs / 1000} s:\n${log.slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    /** The members node k counts (`chat_cluster_members`). */
    async members(k = 1) {
      return metric(await (await fetch(`http://127.0.0.1:${httpBase + k - 1}/metrics`)).text(), 'chat_cluster_members');
    },
    /** Stops every node; a node still running after 20 s is killed and the call throws. */
    async stop(signal = 'SIGINT') {
      if (proc.exitCode === null) proc.kill(signal);
      return exitWithin(proc, exited, 20000, Object.entries(pids), 'cluster', () => log);
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
  // Fault tests start from a cluster whose growth is repaired: one failure is
  // then within what R copies survive (until then rooms may be unavailable).
  try {
    await cluster.waitForCopies();
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  return cluster;
}

/** runtime::ring_hash: 64-bit FNV-1a, then MurmurHash3's fmix64. */
function ringHash(key) {
  const mask = (1n << 64n) - 1n;
  let h = 14695981039346656037n;
  for (const c of Buffer.from(key)) {
    h ^= BigInt(c);
    h = (h * 1099511628211n) & mask;
  }
  h ^= h >> 33n;
  h = (h * 0xff51afd7ed558ccdn) & mask;
  h ^= h >> 33n;
  h = (h * 0xc4ceb9fe1a85ec53n) & mask;
  h ^= h >> 33n;
  return h;
}

/**
 * The first `n` distinct nodes clockwise from `room` on the ring of `nodes`, as
 * runtime::hash_ring::owners computes them (256 points per node): the room's
 * home, then its replicas. Lets a test pick a node without touching the room.
 */
export function roomOwners(nodes, room, n) {
  const sorted = [...new Set(nodes)].sort();
  const points = [];
  for (let k = 0; k < sorted.length; ++k)
    for (let i = 0; i < 256; ++i) points.push([ringHash(`${sorted[k]}#${i}`), k]);
  points.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]));
  const h = ringHash(`room:${room}`);
  let i = points.findIndex(([p]) => p >= h);
  if (i < 0) i = 0;
  const out = [];
  for (; out.length < Math.min(n, sorted.length); i = (i + 1) % points.length)
    if (!out.includes(sorted[points[i][1]])) out.push(sorted[points[i][1]]);
  return out;
}

/**
 * A room whose home is node k: `client` joins rooms `${prefix}0`, `${prefix}1`, …
 * and sends a probe (id `probe`) into each until node k's room counter moves
 * (it leaves the others). Returns the room's name; the client stays in it.
 */
export async function roomHomedOn(cluster, k, client, prefix) {
  const count = async () => metric(await (await fetch(`${cluster.http(k)}/metrics`)).text(), 'chat_room_messages_total');
  for (let i = 0; i < 50; ++i) {
    const room = `${prefix}${i}`;
    const before = await count();
    await client.join(room);
    const reply = await client.request({ type: 'send', room, id: 'probe', body: 0 });
    if (reply.type !== 'ack') throw new Error(`probe not acked: ${JSON.stringify(reply)}`);
    if ((await count()) > before) return room;
    await client.request({ type: 'leave', room });
  }
  throw new Error(`no room homed on n${k} among 50`);
}

/**
 * Sends `id` into `room` until it is acked (retrying with the same id while
 * the room fails over); throws after `timeoutMs`. Resolves the ack.
 */
export async function sendAcked(client, room, id, body = id, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let reply;
    try {
      reply = await client.request({ type: 'send', room, id, body }, 10000);
    } catch (err) {
      reply = { type: 'timeout', message: String(err) };
    }
    if (reply.type === 'ack') return reply;
    if (Date.now() > deadline) throw new Error(`never acked: ${id} (last: ${JSON.stringify(reply)})`);
    await new Promise((r) => setTimeout(r, reply.retry_after_ms ?? 100));
  }
}

/**
 * A room's whole history (up to 200 messages) from the node at `base`, over REST;
 * retried while the room is `unavailable` (503: being taken over).
 */
export async function history(base, room, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await getJson(`${base}/api/rooms/${encodeURIComponent(room)}/messages?after=0&limit=200`);
    if (res.status === 200) return res.body.messages;
    if (res.status !== 503 || Date.now() > deadline) throw new Error(`history of ${room} from ${base}: ${res.status} ${JSON.stringify(res.body)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The value of a Prometheus counter line (`name{labels} value`) in `text`. */
export function metric(text, line) {
  const m = text.split('\n').find((l) => l.startsWith(`${line} `));
  return m === undefined ? 0 : Number(m.split(' ').at(-1));
}

/** CPU seconds (user + system) a process has used so far (Linux /proc). */
export function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

/** Resident memory of a process in MiB. */
export function rssMiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Milliseconds until GET /healthz answers (any status), or Infinity after `timeoutMs`. */
export async function healthzMs(base, timeoutMs = 20000) {
  const started = performance.now();
  try {
    await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
    return performance.now() - started;
  } catch {
    return Infinity;
  }
}

/**
 * Sends `bytes` on a fresh TCP connection (from `localAddress`) and resolves
 * everything received until the server closes it or `timeoutMs` passes.
 */
export function rawHttp(port, bytes, { timeoutMs = 5000, localAddress } = {}) {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1', localAddress });
    let data = '';
    const timer = setTimeout(() => s.destroy(), timeoutMs);
    s.on('connect', () => s.write(bytes));
    s.on('data', (d) => (data += d));
    s.on('close', () => {
      clearTimeout(timer);
      resolve(data);
    });
    s.on('error', () => {});
  });
}

/**
 * The invariants of ADR 8 over every ack a test saw ({id, seq}) and the history
 * of each node: no seq acked for two ids, no id at two seqs, gap-free, each id
 * once, every ack kept at its seq, every node returning the same history.
 */
export function checkAcked(acks, histories) {
  const idAt = new Map();
  const seqOf = new Map();
  for (const { id, seq } of acks) {
    assert.ok(!idAt.has(seq) || idAt.get(seq) === id, `seq ${seq} acked for ${idAt.get(seq)} and ${id}`);
    assert.ok(!seqOf.has(id) || seqOf.get(id) === seq, `${id} acked at ${seqOf.get(id)} and ${seq}`);
    idAt.set(seq, id);
    seqOf.set(id, seq);
  }
  const [first, ...rest] = histories;
  assert.deepEqual(first.map((m) => m.seq), Array.from({ length: first.length }, (_, i) => i + 1), 'gap-free');
  assert.equal(new Set(first.map((m) => m.id)).size, first.length, 'each id once');
  for (const [id, seq] of seqOf) assert.equal(first[seq - 1]?.id, id, `${id} kept at its acked seq ${seq}`);
  for (const h of rest) assert.deepEqual(h.map((m) => [m.seq, m.id]), first.map((m) => [m.seq, m.id]), 'every node returns the same history');
}

/**
 * Waits until every node's view holds all `nodes` (chat_cluster_nodes_up): reads
 * agree only then (docs/guarantees.md, stale reads while views disagree).
 */
export async function viewsConverged(httpUrl, nodes = 3, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let up = 0;
    for (let k = 1; k <= nodes; ++k) {
      const text = await (await fetch(`${httpUrl(k)}/metrics`)).text();
      if (metric(text, 'chat_cluster_nodes_up') === nodes) ++up;
    }
    if (up === nodes) return;
    if (Date.now() > deadline) throw new Error(`the views did not converge on ${nodes} nodes`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Two clients of `cluster` (ann on n1, cat on n3, both joined) in a fresh room
 * homed on n3, and `send(client, id)`, which sends until acked and notes the ack in
 * `acks` (it starts with the probe roomHomedOn sent): the setup of the failover tests.
 */
export async function roomOnN3(cluster, prefix) {
  const a = await Client.connect(cluster.ws(1, 'ann'));
  const c = await Client.connect(cluster.ws(3, 'cat'));
  const room = await roomHomedOn(cluster, 3, a, prefix);
  await c.join(room);
  const acks = [{ id: 'probe', seq: 1 }];
  const send = async (client, id) => acks.push({ id, seq: (await sendAcked(client, room, id)).seq });
  return { a, c, room, acks, send };
}

/** Every page of the admin API's list `list` ("rooms", "connections") for `query`, following `next`. */
export async function adminPages(base, list, query) {
  const pages = [];
  let cursor = '';
  for (let i = 0; i < 50; ++i) {
    const r = await getJson(`${base}/admin/api/${list}?${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    pages.push(r.body);
    if (r.body.next === null) return pages;
    cursor = r.body.next;
  }
  throw new Error('no last page');
}
