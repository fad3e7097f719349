// Hostile WebSocket clients against a real node: silent sockets that never
// authenticate, a member that stops reading, invalid close frames, a connection
// joining thousands of rooms. Figures are printed; docs/security.md has the limits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { withNode, Client } from './lib.mjs';
import { frame, rawConnect, until } from './raw.mjs';
import { sign, inOneHour } from './jwt.mjs';

const SECRET = 'attack-tests-secret-0123456789abcdef';

/** Upgrades without credentials and then says nothing; resolves the status line. */
function silentSocket(port, localAddress) {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1', localAddress });
    const key = crypto.randomBytes(16).toString('base64');
    s.on('connect', () =>
      s.write(`GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`));
    s.once('data', (d) => resolve({ socket: s, status: Number(String(d).split(' ')[1]) }));
    s.on('error', () => resolve({ socket: s, status: 0 }));
  });
}

test('silent unauthenticated sockets cannot lock out clients that authenticate', async () => {
  await withNode({ dev: false, args: ['--jwt-secret', SECRET, '--max-connections', '100'] }, async (n) => {
    const silent = [];
    for (let i = 0; i < 99; ++i) silent.push(await silentSocket(n.port));
    const upgraded = silent.filter((s) => s.status === 101).length;
    const refused = silent.filter((s) => s.status === 429).length;
    // A client with a token still gets in and is served.
    const token = sign({ sub: 'alice', exp: inOneHour() }, { secret: SECRET });
    const c = await Client.connect(`ws://127.0.0.1:${n.port}/ws?token=${token}`);
    await c.join('r');
    assert.equal((await c.request({ type: 'send', room: 'r', id: 'x', body: 1 })).type, 'ack');
    // So does one that authenticates with its first frame, from another address.
    const later = await Client.connect(`ws://127.0.0.1:${n.port}/ws`, { localAddress: '127.0.0.2' });
    assert.equal((await later.request({ type: 'auth', token })).type, 'ok');
    console.log(`# 99 silent sockets with --max-connections 100: ${upgraded} held (the per-address budget), ` +
                `${refused} refused with 429; clients with a token still connected`);
    assert.equal(upgraded, 32, '--max-unauthenticated-per-ip');
    assert.equal(refused, 67);
    for (const s of silent) s.socket.destroy();
    c.close();
    later.close();
  });
});

test('the node-wide budget of unauthenticated sockets', async () => {
  await withNode({ dev: false, args: ['--jwt-secret', SECRET, '--max-unauthenticated', '10'] }, async (n) => {
    const statuses = [];
    for (let i = 0; i < 12; ++i) statuses.push((await silentSocket(n.port, `127.0.0.${10 + i}`)).status);
    assert.deepEqual(statuses, [...Array(10).fill(101), 503, 503]);
  });
});

test('a member that stops reading is released within seconds of its slow_consumer close', async () => {
  await withNode({ args: ['--rate-limit', 'off'] }, async (n) => {
    const sleeper = await rawConnect(n.port, 'user=sleeper');
    sleeper.socket.write(frame(0x1, JSON.stringify({ type: 'join', room: 'flood' })));
    await until(() => sleeper.frames.some((f) => f.type === 'joined'));
    sleeper.socket.pause(); // reads nothing from here on
    const clientPort = sleeper.socket.localPort;
    const open = () => execFileSync('ss', ['-Htn', 'state', 'all', `( sport = :${n.port} and dport = :${clientPort} )`])
      .toString().trim() !== '';
    const sender = await Client.connect(n.ws('sender'));
    await sender.join('flood');
    const body = 'x'.repeat(16 * 1024);
    const started = Date.now();
    let sent = 0;
    while (open() && sent < 60e6 && Date.now() - started < 30000) {
      const acks = [];
      for (let i = 0; i < 16; ++i) acks.push(sender.request({ type: 'send', room: 'flood', id: `m${sent}-${i}`, body }));
      await Promise.all(acks);
      sent += 16 * body.length;
      sender.frames.length = 0; // its own copies of the flood
    }
    const floodMs = Date.now() - started;
    while (open() && Date.now() - started < 30000) await new Promise((r) => setTimeout(r, 100));
    const releasedMs = Date.now() - started;
    console.log(`# slow consumer: ${(sent / 1e6).toFixed(1)} MB sent to the room in ${floodMs} ms; ` +
                `the sleeper's socket was gone from the node after ${releasedMs} ms`);
    assert.ok(!open(), 'the node still holds the socket');
    assert.ok(releasedMs < 10000, `released after ${releasedMs} ms (the heartbeat would take ~55 s)`);
    assert.equal((await sender.request({ type: 'ping' })).type, 'pong');
    sender.close();
    sleeper.socket.destroy();
  });
});

test('every invalid close code is answered 1002, an invalid reason 1007, valid codes echoed', async () => {
  await withNode({}, async (n) => {
    const closeWith = async (payload) => {
      const raw = await rawConnect(n.port, 'user=closer');
      raw.socket.write(frame(0x8, payload));
      await until(() => raw.close !== null || raw.ended);
      raw.socket.destroy();
      return raw.close;
    };
    const code = (c, reason = '') => Buffer.concat([Buffer.from([c >> 8, c & 0xff]), Buffer.from(reason)]);
    for (const bad of [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535])
      assert.equal(await closeWith(code(bad)), 1002, `close code ${bad}`);
    assert.equal(await closeWith(Buffer.concat([code(1000), Buffer.from([0xc3, 0x28])])), 1007);
    for (const ok of [1000, 1001, 1003, 1011, 3000, 4000, 4999])
      assert.equal(await closeWith(code(ok, 'bye')), ok, `close code ${ok}`);
    assert.equal(await closeWith(Buffer.alloc(0)), 1000); // no code: answered 1000, never 1005
  });
});

test('a connection is in 256 rooms at most', async () => {
  await withNode({ args: ['--rate-limit', 'off'] }, async (n) => {
    const c = await Client.connect(n.ws('roamer'));
    const replies = await Promise.all(Array.from({ length: 300 }, (_, i) => c.request({ type: 'join', room: `r${i}` })));
    const joined = replies.filter((r) => r.type === 'joined').length;
    const refused = replies.filter((r) => r.type === 'error');
    console.log(`# 300 joins on one connection: ${joined} joined, ${refused.length} refused`);
    assert.ok(joined >= 256 && joined < 300, `${joined} joined`);
    assert.equal(refused[0].code, 'forbidden');
    assert.match(refused[0].message, /at most 256 rooms/);
    // Leaving one makes room for another; re-joining a joined room is always fine.
    assert.equal((await c.request({ type: 'leave', room: 'r0' })).type, 'ok');
    assert.equal((await c.request({ type: 'join', room: 'another' })).type, 'joined');
    assert.equal((await c.request({ type: 'join', room: 'r1' })).type, 'joined');
    c.close();
  });
});
