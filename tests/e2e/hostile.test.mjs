// Hostile input: each case is answered as the contract says, and the node keeps
// serving a well-behaved client throughout.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startNode, Client } from './lib.mjs';
import { frame, rawConnect, until } from './raw.mjs';

let node;
let bystander;
before(async () => {
  node = await startNode({ args: ['--request-timeout-ms', '1000', '--rate-limit', 'off'] });
  bystander = await Client.connect(node.ws('bystander'));
  await bystander.join('calm');
});
after(async () => {
  bystander.close();
  await node.stop();
  node.cleanup();
});

// The well-behaved client still gets answers.
async function nodeStillServes() {
  const ack = await bystander.request({ type: 'send', room: 'calm', id: `c${Date.now()}${Math.random()}`, body: 1 });
  assert.equal(ack.type, 'ack');
}

test('oversized frames and 1 MiB strings close with 1009', async () => {
  for (const body of ['x'.repeat(1 << 20), 'y'.repeat(129 * 1024)]) {
    const c = await Client.connect(node.ws('big'));
    c.send(JSON.stringify({ type: 'send', room: 'calm', id: 'big', body }));
    assert.equal((await c.closedWith()).code, 1009);
  }
  // Announced length alone (no payload sent) is enough to refuse.
  const raw = await rawConnect(node.port, 'user=liar');
  const head = Buffer.from([0x81, 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4]);
  raw.socket.write(head);
  await until(() => raw.close !== null || raw.ended);
  assert.equal(raw.close, 1009);
  await nodeStillServes();
});

test('invalid UTF-8 closes with 1007', async () => {
  const raw = await rawConnect(node.port, 'user=utf');
  raw.socket.write(frame(0x1, Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])));
  await until(() => raw.close !== null);
  assert.equal(raw.close, 1007);
  await nodeStillServes();
});

test('deep nesting, out-of-range numbers and wrong types are bad_request', async () => {
  const c = await Client.connect(node.ws('nested'));
  const deep = `{"type":"join","room":"r","x":${'['.repeat(60000)}${']'.repeat(60000)}}`;
  const cases = [
    deep,
    '{"type":"join","room":"r","since":1e400}',
    '{"type":"join","room":"r","since":18446744073709551616}',
    '{"type":"join","room":"r","since":-0.5}',
    '{"type":"history","room":"r","limit":1e300}',
    '{"type":"read","room":"r","seq":99999999999999999999999}',
    '{"type":"send","room":"r","id":"i","body":1e99999}',
  ];
  for (const text of cases) {
    c.send(text);
    const err = await c.next('error');
    assert.equal(err.code, 'bad_request', text.slice(0, 60));
    assert.equal((await c.request({ type: 'ping' })).type, 'pong');
  }
  c.close();
  await nodeStillServes();
});

test('binary frames are bad_request; fragmented text frames are reassembled', async () => {
  const raw = await rawConnect(node.port, 'user=frag');
  raw.socket.write(frame(0x2, Buffer.from([0, 1, 2])));
  await until(() => raw.frames.length >= 1);
  assert.equal(raw.frames[0].code, 'bad_request');
  const text = JSON.stringify({ type: 'ping', ref: 'fragmented' });
  raw.socket.write(frame(0x1, text.slice(0, 5), { fin: false }));
  raw.socket.write(frame(0x9, 'in-between ping'));
  raw.socket.write(frame(0x0, text.slice(5, 12), { fin: false }));
  raw.socket.write(frame(0x0, text.slice(12), { fin: true }));
  await until(() => raw.frames.some((f) => f.ref === 'fragmented'));
  assert.equal(raw.frames.find((f) => f.ref === 'fragmented').type, 'pong');
  raw.socket.write(frame(0x1, 'x', { mask: false }));
  await until(() => raw.close !== null);
  assert.equal(raw.close, 1002, 'unmasked client frames are a protocol error');
  await nodeStillServes();
});

test('half-open sockets: a client that stops sending is closed, others unaffected', async () => {
  const raw = await rawConnect(node.port, 'user=halfopen');
  raw.socket.end(); // FIN: we will send nothing more, but keep reading
  await until(() => raw.ended, 5000);
  // Half an HTTP request, then silence: cut at the request timeout.
  const started = Date.now();
  const closedAfter = await new Promise((resolve) => {
    const s = net.connect(node.port, '127.0.0.1', () => s.write('GET /healthz HTTP/1.1\r\nHost:'));
    s.on('close', () => resolve(Date.now() - started));
    s.on('error', () => {});
  });
  assert.ok(closedAfter >= 900 && closedAfter < 5000, `closed after ${closedAfter} ms`);
  await nodeStillServes();
});

test('slowloris: headers trickling in are cut at the request timeout', async () => {
  const started = Date.now();
  const sockets = [];
  const closed = Array.from({ length: 20 }, () =>
    new Promise((resolve) => {
      const s = net.connect(node.port, '127.0.0.1');
      sockets.push(s);
      let n = 0;
      const timer = setInterval(() => s.write(n++ === 0 ? 'GET / HTTP/1.1\r\n' : `X-${n}: y\r\n`), 100);
      s.on('close', () => {
        clearInterval(timer);
        resolve(Date.now() - started);
      });
      s.on('error', () => {});
    }));
  await nodeStillServes(); // while 20 slow clients hang on
  const times = await Promise.all(closed);
  assert.ok(Math.max(...times) < 5000, `slowest cut after ${Math.max(...times)} ms`);
  await nodeStillServes();
});

test('garbage instead of HTTP, and a handshake with a bad key', async () => {
  const reply = await new Promise((resolve) => {
    const s = net.connect(node.port, '127.0.0.1', () => s.write('\x00\x01\x02garbage\r\n\r\n'));
    let data = '';
    s.on('data', (d) => (data += d));
    s.on('close', () => resolve(data));
    s.on('error', () => resolve(data));
  });
  assert.match(reply, /^HTTP\/1\.1 400/);
  const bad = await new Promise((resolve) => {
    const s = net.connect(node.port, '127.0.0.1', () =>
      s.write('GET /ws?user=a HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n'));
    let data = '';
    s.on('data', (d) => {
      data += d;
      s.end();
    });
    s.on('close', () => resolve(data));
  });
  assert.match(bad, /^HTTP\/1\.1 400/);
  await nodeStillServes();
});
